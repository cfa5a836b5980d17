package main

import "github.com/urfave/cli/v2"

func ubootCommand() *cli.Command {
	return &cli.Command{
		Name:  "uboot",
		Usage: "drive U-Boot on the console: read and set its environment, boot",
		Subcommands: []*cli.Command{
			mkenvCommand(),
		},
	}
}
