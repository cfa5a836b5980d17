package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
)

// boardFlags select a board: --board NAME or --board-file PATH.
func boardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "board", Aliases: []string{"b"}, Value: boards.Default, EnvVars: []string{"BOOTRIG_BOARD"},
			Usage: "board profile `NAME` (see 'bootrig boards list')"},
		&cli.StringFlag{Name: "board-file", Usage: "load the board profile from `PATH` instead"},
	}
}

// board resolves the board the flags name. An unknown board is a usage
// error; a broken profile file is a failure.
func board(c *cli.Context) (*boards.Profile, error) {
	if f := c.String("board-file"); f != "" {
		return boards.LoadFile(f)
	}
	p, err := catalog(c).Lookup(boardOfName(c))
	if errors.Is(err, boards.ErrUnknownBoard) {
		return nil, usagef(c.Command.FullName(), "--board: %v", err)
	}
	return p, err
}

// catalog is the shipped and user board profiles; a broken user profile
// that is not the board asked for is one warning on stderr.
func catalog(c *cli.Context) boards.Catalog {
	return boards.Catalog{UserDir: boards.DefaultUserDir(), Warn: func(err error) {
		fmt.Fprintf(c.App.ErrWriter, "bootrig: warning: %s (skipped)\n", oneLine(err.Error()))
	}}
}
