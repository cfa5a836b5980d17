package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/lab"
)

func psCommand() *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "list the boards that run on this host: board, name, console, addresses, uptime",
		UsageText: "bootrig ps [--json]\n\n" +
			"Lists the instances under the state root ($BOOTRIG_STATE, default ~/.cache/bootrig) whose\n" +
			"QEMU runs; boards started with --state DIR are not listed. Example:\n" +
			"   bootrig up --name b2 --keep --quiet --run true && bootrig ps",
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("ps", "takes no arguments (got %q)", c.Args().First())
			}
			sts, err := lab.Running(stateRoot())
			if err != nil {
				return fmt.Errorf("ps: %w", err)
			}
			if c.Bool("json") {
				return writePSJSON(c.App.Writer, sts)
			}
			return writePS(c.App.Writer, sts, time.Now())
		},
	}
}

// writePS prints one line per instance.
func writePS(w io.Writer, sts []lab.State, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BOARD\tNAME\tCONSOLE\tSHARED\tBOARD IP\tSERVER IP\tUPTIME\tPID")
	for _, st := range sts {
		up := "-"
		if !st.Started.IsZero() {
			up = now.Sub(st.Started).Round(time.Second).String()
		}
		shared := strings.Join(st.Consoles, " ")
		if shared == "" {
			shared = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n",
			st.Board, st.Label(), st.Console, shared, orDash(st.BoardIP), orDash(st.ServerIP), up, st.QEMUPid)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// psEntry is an instance in ps --json.
type psEntry struct {
	lab.State
	Name     string `json:"name"`
	StateDir string `json:"state_dir"`
}

func writePSJSON(w io.Writer, sts []lab.State) error {
	out := []psEntry{}
	for _, st := range sts {
		out = append(out, psEntry{State: st, Name: st.Label(), StateDir: st.Dir})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
