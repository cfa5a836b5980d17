package main

import (
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

// initramfsTable reads the device table --devtable (or DIR.devtable)
// names, or the board's default one.
func initramfsTable(c *cli.Context, dir string) ([]devtable.Entry, error) {
	p, err := board(c)
	if err != nil {
		return nil, err
	}
	table, _, err := crossbuild.FindDevTable(c.String("devtable"), dir, p.Linux.Console)
	return table, err
}
