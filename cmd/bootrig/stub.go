package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// notYet is a command that exists in the design but has not landed yet.
func notYet(name, usage, issue string) *cli.Command {
	return &cli.Command{
		Name:  name,
		Usage: usage + " (not implemented yet)",
		Action: func(*cli.Context) error {
			return fmt.Errorf("%s: not implemented yet (issue: %s)", name, issue)
		},
	}
}
