package main

import "github.com/urfave/cli/v2"

func upCommand() *cli.Command {
	return notYet("up", "build, serve, power on, boot and log the board in one command", "bootrig up")
}
