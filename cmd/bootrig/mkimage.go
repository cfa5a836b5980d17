package main

import "github.com/urfave/cli/v2"

func mkimageCommand() *cli.Command {
	return notYet("mkimage", "write or list U-Boot legacy images, like U-Boot's mkimage", "uImage")
}
