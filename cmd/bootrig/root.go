package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
)

// rootFlag chooses how the root filesystem reaches the board.
var rootFlag = &cli.StringFlag{Name: "root", EnvVars: []string{"BOOTRIG_ROOT"},
	Usage: "how the root filesystem reaches the board: `MODE` nfs, initramfs (a ramdisk image beside the kernel) or builtin (linked into the kernel) (default: the profile's root, else nfs)"}

// rootMode is --root, else the profile's root mode.
func rootMode(c *cli.Context, p *boards.Profile) (boards.Root, error) {
	s := c.String("root")
	if s == "" {
		return p.RootMode(), nil
	}
	r, err := boards.ParseRoot(s)
	if err != nil {
		return "", usagef(c.Command.FullName(), "--root: %v", err)
	}
	return r, nil
}

// ramRootNote tells that edits of the tree reach a RAM root only at its
// next boot.
func ramRootNote(w io.Writer, r boards.Root) {
	if r.InRAM() {
		fmt.Fprintf(w, "bootrig: --root %s: the board runs a copy of this tree in its RAM; edits reach it at the next boot (bootrig up repacks the archive when the tree changed)\n", r)
	}
}

// printSizes ends a build with what the chosen root mode puts on the
// board: the kernel, the archive (gzip'd and unpacked), the tree.
func printSizes(w io.Writer, r crossbuild.Result) {
	s := r.Sizes
	fmt.Fprintf(w, "\nsizes for --root %s:\n", r.Root)
	line := func(name string, n int64, note string) {
		if n > 0 {
			fmt.Fprintf(w, "  %-22s %8s  %s\n", name, crossbuild.SizeText(n), note)
		}
	}
	limit := func(l boards.Size) string {
		if l == 0 {
			return ""
		}
		return "limit " + l.String()
	}
	line("kernel (uImage)", s.UImage, limit(r.Limits.Kernel))
	if r.Root.InRAM() {
		line("initramfs (gzip'd)", s.Initramfs, limit(r.Limits.Initramfs))
		line("initramfs (unpacked)", s.CPIO, "what the board's RAM holds as its root")
	}
	line("rootfs (files)", s.RootFS, "")
	fmt.Fprintf(w, "  RAM in use at the shell: bootrig up --root %s --run true --json (memory)\n", r.Root)
}
