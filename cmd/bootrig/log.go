package main

import "github.com/urfave/cli/v2"

func logCommand() *cli.Command {
	return notYet("log", "record a board's console until a pattern or a deadline", "serial console")
}
