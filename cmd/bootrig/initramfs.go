package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/crossbuild"
	"github.com/bootrig/bootrig/devtable"
)

func initramfsCommand() *cli.Command {
	return &cli.Command{
		Name:  "initramfs",
		Usage: "pack a directory into a gzip'd cpio newc initramfs",
		UsageText: "bootrig initramfs DIR OUT.cpio.gz [--devtable FILE] [--uimage] [--board NAME]\n\n" +
			"Device nodes come from a device table (gen_init_cpio syntax): --devtable FILE, else\n" +
			"DIR.devtable beside DIR when it exists (bootrig build writes rootfs.devtable), else\n" +
			"the default table for the board's console. No root privileges are needed.\n\n" +
			"Example: the built root filesystem as a ramdisk for 'bootm ${kernel_addr_r} ${ramdisk_addr_r}':\n" +
			"   bootrig initramfs ~/.cache/bootrig/qemu-arm/out/rootfs initrd.uImage --uimage",
		Flags: append(boardFlags(),
			&cli.StringFlag{Name: "devtable", Usage: "device table `FILE` (gen_init_cpio syntax)"},
			&cli.BoolFlag{Name: "uimage", Usage: "write a U-Boot ramdisk image (for 'bootm KERNEL INITRD') instead of the bare .cpio.gz"},
		),
		Action: func(c *cli.Context) error {
			args, err := argsAtMost(c, 2)
			if err != nil {
				return err
			}
			if len(args) != 2 {
				return usagef(c.Command.FullName(), "want DIR and OUT, got %d arguments", len(args))
			}
			dir, out := args[0], args[1]
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return usagef(c.Command.FullName(), "%s is not a directory", dir)
			}
			table, err := initramfsTable(c, dir)
			if err != nil {
				return err
			}
			return crossbuild.Initramfs{Dir: dir, Table: table, UImage: c.Bool("uimage")}.WriteFile(out)
		},
	}
}

// initramfsTable reads the device table the flags (or DIR.devtable) name,
// or the board's default one.
func initramfsTable(c *cli.Context, dir string) ([]devtable.Entry, error) {
	name := c.String("devtable")
	if beside := crossbuild.DevTablePath(dir); name == "" {
		if _, err := os.Stat(beside); err == nil {
			name = beside
		}
	}
	if name == "" {
		p, err := board(c)
		if err != nil {
			return nil, err
		}
		return crossbuild.DeviceTable(p.Linux.Console), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("--devtable: %w", err)
	}
	defer f.Close()
	return devtable.Parse(f, name)
}
