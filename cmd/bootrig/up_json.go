package main

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/lab/up"
	"github.com/bootrig/bootrig/serialcon"
)

// upJSON is what 'bootrig up --run CMD --json' prints.
type upJSON struct {
	Board   string `json:"board"`
	Root    string `json:"root"`
	Command string `json:"command"`
	Output  string `json:"output"`
	Status  int    `json:"status"`
	// Phases are the boot's, in seconds since power-on.
	Phases []upPhase `json:"phases"`
	// Memory is the board's RAM at the shell prompt, before the command
	// ran, as free says (bytes).
	Memory up.Memory `json:"memory"`
}

type upPhase struct {
	Phase string  `json:"phase"`
	At    float64 `json:"at_s"`
}

// runJSON measures the board's RAM at the prompt (free), runs cmd and
// prints both as JSON; the exit status is the command's.
func runJSON(ctx context.Context, b *up.Board, run *upRun, cmd string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	res := upJSON{Board: b.Name(), Root: string(b.Root()), Command: cmd, Phases: []upPhase{}}
	for _, st := range b.Summary().Steps {
		res.Phases = append(res.Phases, upPhase{string(st.Phase), st.Start.Seconds()})
	}
	var err error
	if res.Memory, err = b.Memory(ctx); err != nil {
		return err
	}
	if res.Output, res.Status, err = runRecorded(ctx, b, run, cmd); err != nil {
		return err
	}
	res.Output = serialcon.PlainText(res.Output) // JSON is no terminal: no colours

	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		return err
	}
	if res.Status != 0 {
		return cli.Exit("", res.Status)
	}
	return nil
}
