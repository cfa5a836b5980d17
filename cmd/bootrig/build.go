package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/crossbuild"
	"github.com/bootrig/bootrig/serialcon/terminal"
)

func buildCommand() *cli.Command {
	return &cli.Command{
		Name:  "build",
		Usage: "cross-build the kernel, busybox, the root filesystem and the board's U-Boot",
		UsageText: "bootrig build [kernel|busybox|rootfs|uboot|all] [--board NAME] [--out DIR] [--overlay DIR]... [--json]\n\n" +
			"Builds out of tree in ~/.cache/bootrig/BOARD from offline sources (Debian's linux-source\n" +
			"and busybox source packages by default) and writes the uImage and rootfs/ to --out\n" +
			"(default ~/.cache/bootrig/BOARD/out). A second build with nothing changed runs no make.\n\n" +
			"Example: build everything for the emulated board, then only the mini2440 kernel:\n" +
			"   bootrig build\n" +
			"   bootrig build kernel --board mini2440\n" +
			"Example: build only the U-Boot the profile names (uboot.build), from 'apt-get source u-boot':\n" +
			"   bootrig build uboot --board qemu-arm\n" +
			"Example: add your files to the root filesystem:\n" +
			"   bootrig build rootfs --overlay ./my-overlay",
		Flags: append(boardFlags(),
			&cli.StringFlag{Name: "out", Usage: "output `DIR` (default: ~/.cache/bootrig/BOARD/out)"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
			&cli.StringFlag{Name: "cross-compile", Usage: "toolchain `PREFIX`, e.g. arm-linux-gnueabi- (default: the profile's, first on PATH)"},
			&cli.StringFlag{Name: "kernel-src", Usage: "kernel source `DIR|TARBALL` (default: /usr/src/linux-source-*.tar.xz)"},
			&cli.StringFlag{Name: "busybox-src", Usage: "busybox source `DIR|TARBALL` (default: 'apt-get source busybox', once)"},
			&cli.StringFlag{Name: "uboot-src", Usage: "U-Boot source `DIR|TARBALL` (default: 'apt-get source u-boot', once)"},
			&cli.StringSliceFlag{Name: "overlay", Usage: "copy `DIR` over the rootfs (repeatable; later ones win)"},
			&cli.BoolFlag{Name: "clean-rootfs", Usage: "start the rootfs from scratch instead of keeping what is in it"},
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "make -j `N` (default: number of CPUs)"},
			rootFlag,
		),
		Action: runBuild,
	}
}

func runBuild(c *cli.Context) error {
	cfg, err := buildConfig(c)
	if err != nil {
		return err
	}
	res, err := crossbuild.Build(c.Context, cfg)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printBuild(c.App.Writer, res)
	return nil
}

// buildConfig reads the command line into a build configuration.
func buildConfig(c *cli.Context) (crossbuild.Config, error) {
	args, err := argsAtMost(c, 1)
	if err != nil {
		return crossbuild.Config{}, err
	}
	target, err := crossbuild.ParseTarget(strings.Join(args, ""))
	if err != nil {
		return crossbuild.Config{}, usagef(c.Command.FullName(), "%v", err)
	}
	for _, o := range c.StringSlice("overlay") {
		if fi, err := os.Stat(o); err != nil || !fi.IsDir() {
			return crossbuild.Config{}, usagef(c.Command.FullName(), "--overlay %s is not a directory", o)
		}
	}
	p, err := board(c)
	if err != nil {
		return crossbuild.Config{}, err
	}
	root, err := rootMode(c, p)
	if err != nil {
		return crossbuild.Config{}, err
	}
	return crossbuild.Config{
		Board: p, Target: target, Root: root, Cache: cacheDir(), Out: c.String("out"),
		CrossCompile: c.String("cross-compile"), KernelSrc: c.String("kernel-src"), BusyboxSrc: c.String("busybox-src"), UBootSrc: c.String("uboot-src"),
		Overlays: c.StringSlice("overlay"), CleanRootFS: c.Bool("clean-rootfs"), Jobs: c.Int("jobs"),
		Progress: c.App.ErrWriter, Bar: terminal.Is(c.App.ErrWriter),
	}, nil
}

// printBuild prints the size report and the output paths.
func printBuild(w io.Writer, r crossbuild.Result) {
	row := func(name, path string, size int64) {
		if path == "" {
			return
		}
		if size > 0 {
			fmt.Fprintf(w, "%-9s %-9s %s\n", name, crossbuild.SizeText(size), path)
			return
		}
		fmt.Fprintf(w, "%-9s %-9s %s\n", name, "", path)
	}
	row("zImage", r.ZImage, r.Sizes.ZImage)
	row("uImage", r.UImage, r.Sizes.UImage)
	row("dtb", r.DTB, 0)
	row("busybox", r.Busybox, r.Sizes.Busybox)
	row("rootfs", r.RootFS, r.Sizes.RootFS)
	row("devtable", r.DevTable, 0)
	row("cpio", r.CPIO, r.Sizes.CPIO)
	row("initramfs", r.Initramfs, r.Sizes.Initramfs)
	row("uInitrd", r.UInitrd, r.Sizes.UInitrd)
	row("u-boot", r.UBoot, r.Sizes.UBoot)
	row("log", r.Log, 0)
	printSizes(w, r)
}
