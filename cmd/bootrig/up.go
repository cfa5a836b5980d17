package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
	emulab "github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/lab/up"
)

func upCommand() *cli.Command {
	flags := append(boardFlags(), labFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "run", Usage: "run `CMD` in the board's shell, print its output and exit with its status"},
		&cli.BoolFlag{Name: "attach", Usage: "join the board a 'bootrig up --keep' left running: restart the servers, open its console"},
		&cli.BoolFlag{Name: "keep", Usage: "leave the emulated board running when bootrig exits (join it with --attach)"},
		&cli.StringFlag{Name: "port", EnvVars: []string{"BOOTRIG_PORT"},
			Usage: "a real board's console `SPEC`: /dev/ttyUSB0[,115200[,8N1]], tcp://HOST:PORT, rfc2217://HOST:PORT or unix:PATH (default: the profile's)"},
		&cli.StringFlag{Name: "power-cmd", EnvVars: []string{"BOOTRIG_POWER_CMD"},
			Usage: "`COMMAND` that powers a real board on (words split at blanks, no shell); without it bootrig asks you to press reset"},
		&cli.BoolFlag{Name: "no-build", Usage: "boot what was built, even if stale"},
		&cli.BoolFlag{Name: "type-env", Usage: "type the environment at U-Boot's prompt instead of flashing it while the board is off"},
		&cli.StringFlag{Name: "log", Usage: "timestamped console log `FILE` (default: STATE/boot.log)"},
		&cli.StringFlag{Name: "raw", Usage: "byte-exact console log `FILE` (default: STATE/boot.raw)"},
		&cli.BoolFlag{Name: "no-portmap", Usage: "run no portmapper (nfsroot= must then name port= and mountport=)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not show the boot on stderr (the logs keep it)"},
		&cli.StringFlag{Name: "state", Usage: "the board's state `DIR`: flash bank, logs, running lab (default: ~/.cache/bootrig/BOARD/state)"},
		&cli.DurationFlag{Name: "timeout", Value: 90 * time.Second, Usage: "power-on to shell prompt `LIMIT`"},
	)
	return &cli.Command{
		Name:  "up",
		Usage: "build, serve, power on, boot and log the board in one command",
		UsageText: "bootrig up [--board NAME] [--run CMD] [--keep | --attach] [--port SPEC --power-cmd CMD]\n\n" +
			"The emulated board (qemu-arm) runs in a private network namespace bootrig makes itself.\n" +
			"Example: boot it, run a command in its shell and exit with the command's status:\n" +
			"   bootrig up --run 'cat /proc/cmdline; uname -a'",
		Flags:  flags,
		Action: runUp,
	}
}

// stateDir is where a board's lab keeps its flash bank, logs and record.
func stateDir(c *cli.Context, board string) string {
	if d := c.String("state"); d != "" {
		return d
	}
	return filepath.Join(cacheDir(), board, "state")
}

func runUp(c *cli.Context) error {
	p, err := board(c)
	if err != nil {
		return err
	}
	if c.Bool("attach") && c.Bool("keep") {
		return usagef("up", "--attach joins a kept board; it takes no --keep")
	}
	if p.QEMU != nil && !emulab.Inside() {
		// Build out here: a first build fetches busybox's source (apt-get
		// source), and the lab has no route out.
		if !c.Bool("attach") && !c.Bool("no-build") {
			if _, err := crossbuild.Build(c.Context, crossbuild.Config{
				Board: p, Target: crossbuild.TargetAll, Cache: cacheDir(), Out: outDir(p.Name), Progress: c.App.ErrWriter,
			}); err != nil {
				return err
			}
		}
		return enterLab(c, p)
	}
	return upHere(c, p)
}

// enterLab runs this command again inside the lab's namespace: a new one,
// or with --attach the running board's.
func enterLab(c *cli.Context, p *boards.Profile) error {
	stdio := emulab.Stdio{Stdin: c.App.Reader, Stdout: c.App.Writer, Stderr: c.App.ErrWriter}
	var code int
	var err error
	if c.Bool("attach") {
		st, lerr := emulab.LoadState(stateDir(c, p.Name))
		if lerr != nil {
			return lerr
		}
		code, err = emulab.Join(c.Context, st.QEMUPid, os.Args[1:], stdio)
	} else {
		code, err = emulab.Reexec(c.Context, append(os.Args[1:], "--no-build"), stdio)
	}
	if err != nil {
		return err
	}
	if code != 0 {
		return cli.Exit("", code)
	}
	return nil
}

// upHere brings the board up from this process: inside the lab's
// namespace for the emulated board, on the host's network for a real one.
func upHere(c *cli.Context, p *boards.Profile) error {
	l, err := lab(c, p)
	if err != nil {
		return err
	}
	if p.QEMU != nil {
		lan, err := emulab.LANFor(l)
		if err != nil {
			return err
		}
		if err := lan.Setup(); err != nil {
			return err
		}
	}
	state := stateDir(c, p.Name)
	if err := os.MkdirAll(state, 0o755); err != nil {
		return err
	}
	logs, err := openLogs(c, state)
	if err != nil {
		return err
	}
	defer logs.close()
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	in, interactive := c.App.Reader.(*os.File)
	interactive = interactive && c.String("run") == "" && term.IsTerminal(int(in.Fd()))
	cfg := up.Config{
		Board: p, Lab: l, Cache: cacheDir(), Out: outDir(p.Name), State: state,
		Build: !c.Bool("no-build"), TypeEnv: c.Bool("type-env"), Attach: c.Bool("attach"), Keep: c.Bool("keep"),
		NoPortmap:   c.Bool("no-portmap"),
		PowerCmd:    strings.Fields(c.String("power-cmd")),
		BootTimeout: c.Duration("timeout"), Log: logs.log, Raw: logs.raw, Notes: stderr, Logger: logger(c),
	}
	if !c.Bool("quiet") {
		cfg.Console = stderr
	}
	if p.QEMU == nil {
		if cfg.Port, err = portSpec(c, p.Name, p.Serial.Port, p.Serial.Baud); err != nil {
			return err
		}
	}
	ctx := c.Context
	b, err := up.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%w (console log: %s)", err, logs.logPath)
	}
	defer b.Close(context.WithoutCancel(ctx))
	b.HideConsole()
	printSummary(stderr, b, logs.logPath)
	switch {
	case c.String("run") != "":
		return runOnBoard(ctx, b, c.String("run"), stdout)
	case interactive:
		return b.Interact(ctx, in, stdout, true)
	}
	fmt.Fprintf(stderr, "board %s is up; Ctrl-C stops it\n", p.Name)
	<-ctx.Done()
	return nil
}

func runOnBoard(ctx context.Context, b *up.Board, cmd string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	out, code, err := b.Run(ctx, cmd)
	if err != nil {
		return err
	}
	io.WriteString(stdout, out)
	if code != 0 {
		return cli.Exit("", code)
	}
	return nil
}

func printSummary(w io.Writer, b *up.Board, logPath string) {
	fmt.Fprintln(w)
	for _, st := range b.Steps {
		fmt.Fprintf(w, "%-30s %10s\n", "bootrig: "+st.Name, st.Took.Round(time.Millisecond))
	}
	fmt.Fprint(w, b.Summary())
	fmt.Fprintf(w, "console log: %s\n", logPath)
}

// upLogs are the console logs up writes.
type upLogs struct {
	log, raw *os.File
	logPath  string
}

func openLogs(c *cli.Context, state string) (*upLogs, error) {
	l := &upLogs{logPath: c.String("log")}
	if l.logPath == "" {
		l.logPath = filepath.Join(state, "boot.log")
	}
	rawPath := c.String("raw")
	if rawPath == "" {
		rawPath = filepath.Join(state, "boot.raw")
	}
	// Joining a running board continues its logs.
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if c.Bool("attach") {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	var err error
	if l.log, err = os.OpenFile(l.logPath, flags, 0o644); err != nil {
		return nil, fmt.Errorf("--log: %w", err)
	}
	if l.raw, err = os.OpenFile(rawPath, flags, 0o644); err != nil {
		l.log.Close()
		return nil, fmt.Errorf("--raw: %w", err)
	}
	return l, nil
}

func (l *upLogs) close() {
	l.log.Close()
	l.raw.Close()
}
