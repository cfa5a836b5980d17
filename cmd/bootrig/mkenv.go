package main

import "github.com/urfave/cli/v2"

func mkenvCommand() *cli.Command {
	return notYet("mkenv", "write a U-Boot environment image, like mkenvimage", "serial console / uImage")
}
