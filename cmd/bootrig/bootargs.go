package main

import "github.com/urfave/cli/v2"

func bootargsCommand() *cli.Command {
	return notYet("bootargs", "print the kernel command line and U-Boot bootcmd for a board", "foundation")
}
