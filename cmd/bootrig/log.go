package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/serialcon"
)

// exitTimeout is bootrig log's exit code when the deadline came first.
const exitTimeout = 3

func logCommand() *cli.Command {
	return &cli.Command{
		Name:  "log",
		Usage: "print a board's console with timestamps, as grabserial, until a pattern or a deadline",
		UsageText: "bootrig log [--board B] [--port SPEC] [--until REGEXP] [--timeout DURATION] [-o FILE] [--raw FILE] [--json]\n\n" +
			"Each line goes to stdout as it arrives, stamped with the seconds since the start and since\n" +
			"the line before (grabserial's format: [   12.345678 +0.001234] text). -o FILE appends the\n" +
			"same lines to FILE, after a header naming the port and the date. The boot's phase table\n" +
			"goes to stderr at the end; --json prints it as JSON on stdout instead of the lines.\n\n" +
			"Exit status: 0 when REGEXP was seen (without --until: at the deadline or Ctrl-C),\n" +
			"3 when the deadline came first, 130 (Ctrl-C) or 143 (SIGTERM) when stopped before\n" +
			"REGEXP was seen, 1 on an error.\n\n" +
			"Example: record a mini2440's boot until its shell prompt, at most 2 minutes:\n" +
			"   bootrig log --board mini2440 --port /dev/ttyUSB0 --until '/ # $' --timeout 2m -o boot.log",
		Flags: append(append(boardFlags(), portFlags()[:1]...),
			&cli.StringFlag{Name: "until", Usage: "stop when the console shows `REGEXP`"},
			&cli.DurationFlag{Name: "timeout", Usage: "stop after `DURATION` (e.g. 90s); 0 for none"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o", "log"}, Usage: "also append the timestamped lines to `FILE`"},
			&cli.StringFlag{Name: "raw", Usage: "append every byte received, as is, to `FILE`"},
			jsonFlag,
		),
		Action: runLog,
	}
}

func runLog(c *cli.Context) error {
	const cmd = "log"
	var until *regexp.Regexp
	if s := c.String("until"); s != "" {
		re, err := regexp.Compile(s)
		if err != nil {
			return usagef(cmd, "--until %q: %v", s, err)
		}
		until = re
	}
	p, err := board(c)
	if err != nil {
		return err
	}
	spec, err := portSpec(c, p.Name, p.Serial.Port, p.Serial.Baud)
	if err != nil {
		return err
	}
	phases := serialcon.NewPhases(time.Now(), p.Linux.ShellPrompt.Regexp)
	o := consoleOpts{phases: phases, stream: c.App.Writer}
	if c.Bool("json") {
		o.stream = nil
	}
	con, err := openConsole(c, spec, o)
	if err != nil {
		return err
	}
	ctx := c.Context
	if d := c.Duration("timeout"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	werr := waitLog(ctx, con.Session, until)
	cerr := con.Close()
	logger(c).Debug("log ended", "port", spec, "received", con.Received(), "wait", werr)
	if err := printPhases(c, phases.Summary(time.Now()), c.App.ErrWriter); err != nil {
		return err
	}
	switch {
	case werr != nil && interruption(c.Context) != nil:
		return fmt.Errorf("log: %s: stopped before %q was seen: %w", spec, until, interruption(c.Context))
	case werr != nil && errors.Is(werr, serialcon.ErrTimeout):
		return cli.Exit(fmt.Sprintf("log: %s: no %q within %v", spec, until, c.Duration("timeout")), exitTimeout)
	case werr != nil:
		return werr
	}
	return cerr
}

// printPhases prints a boot's phase table: as JSON on stdout with
// --json, else as text on w.
func printPhases(c *cli.Context, s serialcon.Summary, w io.Writer) error {
	if c.Bool("json") {
		return writeJSON(c, s)
	}
	_, err := fmt.Fprint(w, s.String())
	return err
}

// waitLog waits for until, or for ctx to end when until is nil.
func waitLog(ctx context.Context, s *serialcon.Session, until *regexp.Regexp) error {
	if until == nil {
		select {
		case <-ctx.Done():
		case <-s.Done():
			return s.Err()
		}
		return nil
	}
	_, err := s.Expect(ctx, until)
	return err
}
