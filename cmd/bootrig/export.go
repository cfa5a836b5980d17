package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/farm"
	"github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/labgrid"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "describe a running board for a farm engine",
		Subcommands: []*cli.Command{{
			Name:  "labgrid",
			Usage: "write a labgrid environment for the running board: its shared console, U-Boot, shell and power",
			UsageText: "bootrig export labgrid [--board B] [--name N] [-o FILE]\n\n" +
				"The board must run with its console shared over RFC 2217. Example:\n" +
				"   bootrig up --name b1 --share rfc2217://127.0.0.1:4001 &\n" +
				"   bootrig export labgrid --name b1 -o b1.yaml\n" +
				"   labgrid-client -c b1.yaml ... (or Environment('b1.yaml') in Python)",
			Flags: append(boardFlags(), nameFlag(),
				&cli.StringFlag{Name: "state", Usage: "the board's state `DIR` (default: the instance's)"},
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of stdout"}),
			Action: runExportLabgrid,
		}},
	}
}

func runExportLabgrid(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("export labgrid", "takes no arguments (got %q)", c.Args().First())
	}
	p, err := board(c)
	if err != nil {
		return err
	}
	st, err := lab.LoadState(stateDir(c, p.Name))
	if err != nil {
		return err
	}
	if st.BootDelay <= 0 {
		return fmt.Errorf("export labgrid: %s/%s: its U-Boot boots at once (bootdelay 0), so labgrid cannot stop autoboot: start it with --share or --bootdelay 2", p.Name, st.Label())
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("export labgrid: find this program: %w", err)
	}
	b := farm.Board{Profile: p, Console: rfc2217Console(st.Consoles),
		Power: []string{exe, "power", "--board", p.Name, "--state", st.Dir, "--name", st.Label()}}
	env, err := labgrid.NewEnv(b)
	if err != nil {
		return fmt.Errorf("export labgrid: %s/%s: %w (start it with bootrig up --share rfc2217://127.0.0.1:PORT)", p.Name, st.Label(), err)
	}
	data, err := env.Marshal()
	if err != nil {
		return err
	}
	if out := c.String("output"); out != "" {
		if err := os.WriteFile(out, data, 0o644); err != nil {
			return fmt.Errorf("export labgrid: %w", err)
		}
		return nil
	}
	_, err = c.App.Writer.Write(data)
	return err
}

// rfc2217Console is the first RFC 2217 share of a board's console.
func rfc2217Console(consoles []string) string {
	for _, s := range consoles {
		if strings.HasPrefix(s, "rfc2217://") {
			return s
		}
	}
	return ""
}
