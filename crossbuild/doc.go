// Package crossbuild turns sources into what a board boots: it finds the
// cross toolchain, builds busybox and the kernel out of tree and
// incrementally, and assembles the root filesystem and initramfs.
//
// Start with [Build]: given a board profile it builds what is stale and
// returns a [Result] with the uImage (for TFTP) and the rootfs directory
// and its device table (for the NFS server). Sources come from the
// machine only: Debian's linux-source tarball, 'apt-get source busybox'
// and, for a profile with uboot.build, 'apt-get source u-boot', unpacked
// once into the cache (~/.cache/bootrig/src). Each board has its build
// trees in ~/.cache/bootrig/BOARD (kernel-build, busybox-build,
// u-boot-build, build.log) and its results in ~/.cache/bootrig/BOARD/out
// (uImage, rootfs/, u-boot.bin). busybox-build is a link to a tree in
// ~/.cache/bootrig/busybox named by the stamp of its inputs, so boards
// that would build the same busybox (qemu-arm's and vexpress-a9's) build
// it once; trees no board links to any more are removed.
//
// External commands are planned by pure functions (plan.go) and run with
// an explicit argv and environment, never a shell. Configurations are the
// profile's defconfig with its fragment merged over it (as the kernel's
// merge_config.sh does), resolved by olddefconfig and checked: a fragment
// value that did not stick is an error ([ErrFragment]) naming it. A stamp of every input lets a build with nothing changed
// skip make altogether.
//
// Code the board executes is checked against its CPU (the profile's
// cpu, march, float and qemu_cpu): before building, bootrig links a
// small program with the toolchain and reads the build attributes of it
// and of every object it pulled in (package
// [github.com/bootrig/bootrig/armarch]). A toolchain whose own libraries
// are too new for the board (Debian's armel ones are ARMv5TE) gets a
// sysroot of its own: musl from Debian's source, built once with the board's
// flags. After every build, [VerifyRootFS] scans each ELF file of the
// rootfs and runs its busybox under qemu-arm-static on the board's CPU
// model; up and serve call it too.
//
// [Initramfs] packs a directory and a device table into a gzip'd cpio
// newc archive (package [github.com/bootrig/bootrig/crossbuild/cpio]).
// For a root in RAM (Config.Root: initramfs or builtin) the build packs
// the rootfs with [WriteArchive] after checking the kernel can start it
// ([ErrNotBootable]); a builtin kernel links it (CONFIG_INITRAMFS_SOURCE)
// in a kernel build tree of its own.
package crossbuild
