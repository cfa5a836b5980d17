package main

import "github.com/urfave/cli/v2"

func consoleCommand() *cli.Command {
	return notYet("console", "open an interactive, logged serial console", "serial console")
}
