package main

import (
	"context"
	"errors"
	"fmt"
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
		Usage: "record a board's console until a pattern or a deadline",
		UsageText: "bootrig log [--board B] [--port SPEC] [--until REGEXP] [--timeout DURATION] [-o FILE] [--raw FILE]\n\n" +
			"Exit status: 0 when REGEXP was seen (or, without --until, at the deadline or Ctrl-C),\n" +
			"3 when the deadline came first, 1 on an error. The boot's phase summary is printed.\n\n" +
			"Example: record a mini2440's boot until its shell prompt, at most 2 minutes:\n" +
			"   bootrig log --board mini2440 --port /dev/ttyUSB0 --until '/ # $' --timeout 2m -o boot.log",
		Flags: append(append(boardFlags(), portFlags()[:1]...),
			&cli.StringFlag{Name: "until", Usage: "stop when the console shows `REGEXP`"},
			&cli.DurationFlag{Name: "timeout", Usage: "stop after `DURATION` (e.g. 90s); 0 for none"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o", "log"}, Usage: "append the timestamped log to `FILE`"},
			&cli.StringFlag{Name: "raw", Usage: "append every byte received, as is, to `FILE`"},
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
	con, err := openConsole(c, spec, phases)
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
	fmt.Fprint(c.App.Writer, phases.Summary(time.Now()).String())
	switch {
	case werr != nil && errors.Is(werr, serialcon.ErrTimeout):
		return cli.Exit(fmt.Sprintf("log: %s: no %q within %v", spec, until, c.Duration("timeout")), exitTimeout)
	case werr != nil:
		return werr
	}
	return cerr
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
	if err != nil && errors.Is(err, context.Canceled) {
		return nil // Ctrl-C
	}
	return err
}
