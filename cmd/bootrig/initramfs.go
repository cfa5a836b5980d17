package main

import "github.com/urfave/cli/v2"

func initramfsCommand() *cli.Command {
	return notYet("initramfs", "pack a directory into a gzip'd cpio newc initramfs", "cross-build")
}
