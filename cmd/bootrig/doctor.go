package main

import "github.com/urfave/cli/v2"

func doctorCommand() *cli.Command {
	return notYet("doctor", "check (and install) the host tools a board needs", "foundation")
}
