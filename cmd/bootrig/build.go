package main

import "github.com/urfave/cli/v2"

func buildCommand() *cli.Command {
	return notYet("build", "cross-build the kernel, busybox and the root filesystem", "cross-build")
}
