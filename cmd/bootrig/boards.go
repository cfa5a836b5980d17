package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/bootrig/bootrig/boards"
)

func boardsCommand() *cli.Command {
	return &cli.Command{
		Name:  "boards",
		Usage: "list board profiles or show one",
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the shipped and user board profiles",
				UsageText: "bootrig boards list [--json]\n\nExample:\n   bootrig boards list",
				Flags:     []cli.Flag{jsonFlag},
				Action:    runBoardsList,
			},
			{
				Name:      "show",
				Usage:     "print a board's resolved profile",
				UsageText: "bootrig boards show NAME [--json]\n\nExample:\n   bootrig boards show mini2440",
				Flags:     append([]cli.Flag{jsonFlag}, boardFlags()[1]),
				Action:    runBoardsShow,
			},
		},
	}
}

var jsonFlag = &cli.BoolFlag{Name: "json", Usage: "print JSON for scripts"}

func runBoardsList(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("boards list", "unexpected argument %q", c.Args().First())
	}
	all, err := catalog(c).All()
	if err != nil {
		return err
	}
	if c.Bool("json") {
		type row struct{ Name, Description, Source string }
		rows := make([]row, len(all))
		for i, p := range all {
			rows[i] = row{p.Name, p.Description, p.Source}
		}
		return writeJSON(c, rows)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	for _, p := range all {
		def := ""
		if p.Name == boards.Default {
			def = " (default)"
		}
		fmt.Fprintf(tw, "%s%s\t%s\n", p.Name, def, p.Description)
	}
	return tw.Flush()
}

func runBoardsShow(c *cli.Context) error {
	var p *boards.Profile
	var err error
	switch {
	case c.String("board-file") != "":
		p, err = boards.LoadFile(c.String("board-file"))
	case c.NArg() == 1:
		p, err = catalog(c).Lookup(c.Args().First())
		if errors.Is(err, boards.ErrUnknownBoard) {
			return usagef("boards show", "%v", err)
		}
	default:
		return usagef("boards show", "want one board NAME (see 'bootrig boards list')")
	}
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c, p)
	}
	fmt.Fprintf(c.App.Writer, "# from %s\n", p.Source)
	enc := yaml.NewEncoder(c.App.Writer)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return err
	}
	return enc.Close()
}

func writeJSON(c *cli.Context, v any) error {
	enc := json.NewEncoder(c.App.Writer)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
