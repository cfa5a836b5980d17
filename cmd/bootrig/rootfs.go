package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func rootfsCommand() *cli.Command {
	return &cli.Command{
		Name:  "rootfs",
		Usage: "show where the board's root filesystem lives",
		Subcommands: []*cli.Command{{
			Name:  "path",
			Usage: "print the directory the board mounts over NFS: edit files there, the board sees them within 2 s (with --root initramfs|builtin: at its next boot)",
			UsageText: "bootrig rootfs path [--board NAME] [--name INSTANCE]\n\n" +
				"Example: put a script on the running board:\n" +
				"   cp hello.sh \"$(bootrig rootfs path)/root/\"",
			Flags: append(boardFlags(), rootFlag, nameFlag()),
			Action: func(c *cli.Context) error {
				if c.Args().Present() {
					return usagef("rootfs path", "takes no arguments (got %q)", c.Args().First())
				}
				p, err := board(c)
				if err != nil {
					return err
				}
				root, err := rootMode(c, p)
				if err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, instanceRootfs(c, p))
				ramRootNote(c.App.ErrWriter, root)
				return nil
			},
		}},
	}
}
