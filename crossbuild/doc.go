// Package crossbuild turns sources into what a board boots: it finds the
// cross toolchain, builds busybox and the kernel out of tree and
// incrementally, and assembles the root filesystem and initramfs.
package crossbuild
