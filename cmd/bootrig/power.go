package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/lab"
)

func powerCommand() *cli.Command {
	return &cli.Command{
		Name:  "power",
		Usage: "switch a board on or off, or power-cycle it",
		UsageText: "bootrig power on|off|cycle [--board B] [--name N] [--power-cmd CMD]\n\n" +
			"The emulated board is switched through QEMU's machine protocol: off stops its CPU, on and\n" +
			"cycle reset it and let it run, so it boots again from its saved environment; its console and lab stay.\n" +
			"A real board's --power-cmd is run with the action as its last argument (CMD on|off|cycle).\n" +
			"Example: reboot the instance b2 of the emulated board:\n" +
			"   bootrig power cycle --name b2",
		Flags: append(boardFlags(), nameFlag(),
			&cli.StringFlag{Name: "state", Usage: "the board's state `DIR` (default: the instance's)"},
			&cli.StringFlag{Name: "power-cmd", EnvVars: []string{"BOOTRIG_POWER_CMD"},
				Usage: "a real board's power `COMMAND` (words split at blanks, no shell), run as COMMAND on|off|cycle"}),
		Action: runPower,
	}
}

func runPower(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("power", "want one action: on, off or cycle")
	}
	action, err := lab.ParsePower(c.Args().First())
	if err != nil {
		return usagef("power", "%v", err)
	}
	p, err := board(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Context, 30*time.Second)
	defer cancel()
	if p.QEMU != nil {
		st, err := lab.LoadState(stateDir(c, p.Name))
		if err != nil {
			return err
		}
		return lab.SetPower(ctx, st.QMP, action)
	}
	cmd := strings.Fields(c.String("power-cmd"))
	if len(cmd) == 0 {
		return usagef("power", "board %s is not emulated: give --power-cmd CMD (run as CMD %s)", p.Name, action)
	}
	argv := append(cmd[1:len(cmd):len(cmd)], string(action))
	if out, err := exec.CommandContext(ctx, cmd[0], argv...).CombinedOutput(); err != nil {
		return fmt.Errorf("power %s: %q: %w: %s", action, cmd, err, strings.TrimSpace(string(out)))
	}
	return nil
}
