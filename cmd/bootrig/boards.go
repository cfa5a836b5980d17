package main

import "github.com/urfave/cli/v2"

func boardsCommand() *cli.Command {
	return notYet("boards", "list board profiles or show one", "foundation")
}
