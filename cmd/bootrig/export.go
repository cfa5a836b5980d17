package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/farmengine"
	"github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/labgrid"
	"github.com/bootrig/bootrig/lava"
)

func exportCommand() *cli.Command {
	flags := func(more ...cli.Flag) []cli.Flag {
		return append(append(boardFlags(), nameFlag(),
			&cli.StringFlag{Name: "state", Usage: "the board's state `DIR` (default: the instance's)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of stdout"}), more...)
	}
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
			Flags:  flags(),
			Action: runExportLabgrid,
		}, {
			Name:  "lava",
			Usage: "write a LAVA device dictionary for the running board: its shared console, power, U-Boot prompts and boot commands",
			UsageText: "bootrig export lava [--board B] [--name N] [--device-type T] [network flags as given to up] [-o FILE]\n\n" +
				"The board must run with its console shared over RFC 2217 (LAVA connects with telnet). Example:\n" +
				"   bootrig up --name b1 --share rfc2217://127.0.0.1:4001 &\n" +
				"   bootrig export lava --name b1 -o /etc/lava-server/dispatcher-config/devices/b1.jinja2",
			Flags: flags(append(labFlags(), &cli.StringFlag{Name: "device-type", Value: lava.DefaultDeviceType,
				Usage: "the LAVA device `TYPE` whose template the dictionary extends"})...),
			Action: runExportLava,
		}},
	}
}

// exportedBoard is the running instance as a farm engine reaches it.
func exportedBoard(c *cli.Context, p *boards.Profile) (farmengine.Board, lab.State, error) {
	st, err := lab.LoadState(stateDir(c, p.Name))
	if err != nil {
		return farmengine.Board{}, st, err
	}
	if st.BootDelay <= 0 {
		return farmengine.Board{}, st, fmt.Errorf("%s/%s: its U-Boot boots at once (bootdelay 0), so a farm engine cannot stop autoboot: start it with --share or --bootdelay 2", p.Name, st.Label())
	}
	exe, err := os.Executable()
	if err != nil {
		return farmengine.Board{}, st, fmt.Errorf("find this program: %w", err)
	}
	return farmengine.Board{Profile: p, Console: rfc2217Console(st.Consoles),
		Power: []string{exe, "power", "--board", p.Name, "--state", st.Dir, "--name", st.Label()}}, st, nil
}

func runExportLabgrid(c *cli.Context) error {
	return runExport(c, func(p *boards.Profile, b farmengine.Board) ([]byte, error) {
		env, err := labgrid.NewEnv(b)
		if err != nil {
			return nil, err
		}
		return env.Marshal()
	})
}

func runExportLava(c *cli.Context) error {
	return runExport(c, func(p *boards.Profile, b farmengine.Board) ([]byte, error) {
		l, err := netboot(c, p)
		if err != nil {
			return nil, err
		}
		d, err := lava.NewDictionary(b, l, c.String("device-type"))
		if err != nil {
			return nil, err
		}
		return d.Marshal(), nil
	})
}

// runExport writes what format makes of the running board to --output
// or stdout.
func runExport(c *cli.Context, format func(*boards.Profile, farmengine.Board) ([]byte, error)) error {
	name := c.Command.FullName()
	if c.Args().Present() {
		return usagef(name, "takes no arguments (got %q)", c.Args().First())
	}
	p, err := board(c)
	if err != nil {
		return err
	}
	b, st, err := exportedBoard(c, p)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	data, err := format(p, b)
	if errors.Is(err, farmengine.ErrNoSharedConsole) {
		return fmt.Errorf("%s: %s/%s: %w (start it with bootrig up --share rfc2217://127.0.0.1:PORT)", name, p.Name, st.Label(), err)
	}
	if err != nil {
		return fmt.Errorf("%s: %s/%s: %w", name, p.Name, st.Label(), err)
	}
	if out := c.String("output"); out != "" {
		if err := os.WriteFile(out, data, 0o644); err != nil {
			return fmt.Errorf("%s: %w", name, err)
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
