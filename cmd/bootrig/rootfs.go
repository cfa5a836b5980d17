package main

import "github.com/urfave/cli/v2"

func rootfsCommand() *cli.Command {
	return notYet("rootfs", "show where the board's root filesystem lives", "bootrig up")
}
