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

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
	"github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/lab/up"
	"github.com/bootrig/bootrig/report"
	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/serialcon/terminal"
)

func upCommand() *cli.Command {
	flags := append(append(boardFlags(), labFlags()...), shareFlags()...)
	flags = append(flags, nameFlag(), &cli.IntFlag{Name: "bootdelay",
		Usage: "`SECONDS` U-Boot waits for a key before it boots (default 0; with --share, the profile's uboot.bootdelay, so that a client can stop autoboot)"},
		&cli.StringFlag{Name: "run", Usage: "run `CMD` in the board's shell, print its output and exit with its status"},
		&cli.BoolFlag{Name: "attach", Usage: "join the board a 'bootrig up --keep' left running: restart the servers, open its console"},
		&cli.BoolFlag{Name: "keep", Usage: "leave the emulated board running when bootrig exits (join it with --attach)"},
		&cli.StringFlag{Name: "port", EnvVars: []string{"BOOTRIG_PORT"},
			Usage: "a real board's console `SPEC`: /dev/ttyUSB0[,115200[,8N1]], tcp://HOST:PORT, rfc2217://HOST:PORT or unix:PATH (default: the profile's)"},
		&cli.StringFlag{Name: "power-cmd", EnvVars: []string{"BOOTRIG_POWER_CMD"},
			Usage: "`COMMAND` that powers a real board on (words split at blanks, no shell); without it bootrig asks you to press reset"},
		&cli.BoolFlag{Name: "no-build", Usage: "boot what was built, even if stale"},
		&cli.BoolFlag{Name: "type-env", Usage: "type the environment at U-Boot's prompt instead of writing it into its environment store (flash bank or FAT disk) while the board is off (saveenv, reset and verify, where U-Boot can save)"},
		&cli.BoolFlag{Name: "saved-env", Usage: "emulated board: write no environment, let U-Boot autoboot from the one it saved"},
		&cli.StringFlag{Name: "log", Usage: "timestamped console log `FILE`, besides the run's (STATE/runs/ID/boot.log)"},
		&cli.StringFlag{Name: "raw", Usage: "byte-exact console log `FILE`, besides the run's (STATE/runs/ID/boot.raw)"},
		&cli.BoolFlag{Name: "report", Usage: "print the path of the boot's HTML report (STATE/runs/ID/report.html)"},
		&cli.StringFlag{Name: "compare", Usage: "compare the boot with `RUN` ('last': the previous one) in STATE/runs/ID/compare.html"},
		&cli.StringFlag{Name: "junit", Usage: "write the boot as JUnit XML to `FILE`: a test case per phase and per --run command"},
		&cli.BoolFlag{Name: "initcalls", Usage: "boot with initcall_debug: the report gets a lane of the initcalls over 5 ms"},
		&cli.IntFlag{Name: "keep-runs", Value: report.DefaultKeep, Usage: "keep the last `N` run directories in STATE/runs (0: all)"},
		&cli.BoolFlag{Name: "no-portmap", Usage: "run no portmapper (nfsroot= must then name port= and mountport=)"},
		&cli.BoolFlag{Name: "nfs-udp", Usage: "serve NFS over UDP too, for a kernel whose nfsroot= says udp"},
		&cli.BoolFlag{Name: "insecure-ports", Usage: "serve NFS calls from source ports >= 1024"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not show the boot on stderr (the logs keep it)"},
		&cli.StringFlag{Name: "state", Usage: "the board's state `DIR`: environment store, logs, running lab (default: ~/.cache/bootrig/BOARD/state)"},
		&cli.DurationFlag{Name: "timeout", Value: 90 * time.Second, Usage: "power-on to shell prompt `LIMIT`"},
		&cli.BoolFlag{Name: "json", Usage: "with --run: print the command's output and status, the boot's phases and the board's RAM at the shell (free) as JSON"},
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

// stateDir is where a board's lab keeps its environment store, logs and record.
func stateDir(c *cli.Context, board string) string {
	if d := c.String("state"); d != "" {
		return d
	}
	return instance(c, board).StateDir(stateRoot())
}

func runUp(c *cli.Context) error {
	p, err := board(c)
	if err != nil {
		return err
	}
	if c.Bool("initcalls") { // their lines are KERN_DEBUG
		p.Linux.Extra = strings.TrimSpace(p.Linux.Extra + " initcall_debug ignore_loglevel")
	}
	if c.Bool("attach") && c.Bool("keep") {
		return usagef("up", "--attach joins a kept board; it takes no --keep")
	}
	if _, err := shareSpecsFlag(c); err != nil {
		return err
	}
	if !c.Bool("attach") && !lab.Inside() {
		if p.QEMU != nil {
			if err := lab.CheckMemory(lab.MemInfo, p.QEMU.Memory); err != nil {
				return fmt.Errorf("up %s/%s: %w", p.Name, instance(c, p.Name).Label(), err)
			}
		}
		if err := seedRootfs(c, p); err != nil {
			return err
		}
	}
	if p.QEMU != nil && !lab.Inside() {
		// Build out here: a first build fetches busybox's source (apt-get
		// source), and the lab has no route out.
		if !c.Bool("attach") && !c.Bool("no-build") {
			l, err := netboot(c, p)
			if err != nil {
				return err
			}
			if _, err := crossbuild.Build(c.Context, crossbuild.Config{
				Board: p, Target: crossbuild.TargetAll, Root: l.Root, Tree: l.Export, Cache: cacheDir(), Out: outDir(p.Name), Progress: c.App.ErrWriter,
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
	ls, err := listenShares(c) // on the host's network, handed down
	if err != nil {
		return err
	}
	files, shareArgs, err := shareHandoff(ls)
	closeShares(ls) // the child has its own copies
	if err != nil {
		return err
	}
	stdio := lab.Stdio{Stdin: c.App.Reader, Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Files: files}
	var code int
	if c.Bool("attach") {
		st, lerr := lab.LoadState(stateDir(c, p.Name))
		if lerr != nil {
			return lerr
		}
		code, err = lab.Join(c.Context, st.QEMUPid, append(os.Args[1:], shareArgs...), stdio)
	} else {
		code, err = lab.Reexec(c.Context, append(append(os.Args[1:], "--no-build"), shareArgs...), stdio)
	}
	for _, f := range files {
		f.Close()
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
	l, err := netboot(c, p)
	if err != nil {
		return err
	}
	if p.QEMU != nil {
		lan, err := lab.LANFor(l, p.QEMU)
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
	run, err := startRun(c, p.Name, p.Linux.ShellPrompt.String())
	if err != nil {
		return err
	}
	logs, err := openLogs(c, run.dir)
	if err != nil {
		return err
	}
	stderr := c.App.ErrWriter
	ls, err := inheritedShares(c)
	if err != nil {
		return err
	}
	share := &consoleShare{ls: ls, notes: stderr, name: p.Name + "/" + instance(c, p.Name).Label()}
	defer share.close()
	in, _ := c.App.Reader.(*os.File)
	interactive := c.String("run") == "" && terminal.Is(in)
	cfg := up.Config{
		Board: p, Netboot: l, Cache: cacheDir(), Out: outDir(p.Name), State: state,
		Build: !c.Bool("no-build"), TypeEnv: c.Bool("type-env"), SavedEnv: c.Bool("saved-env"), Attach: c.Bool("attach"), Keep: c.Bool("keep"),
		NoPortmap: c.Bool("no-portmap"), NFSOverUDP: c.Bool("nfs-udp"), InsecurePorts: c.Bool("insecure-ports"),
		Name: instance(c, p.Name).Label(), Consoles: shareSpecs(ls), BootDelay: bootDelay(c, p), OnConsole: func(s *serialcon.Session) { share.start(s) },
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
		share.port = cfg.Port
	}
	ctx := c.Context
	b, err := up.Start(ctx, cfg)
	if err != nil {
		err = fmt.Errorf("%w (console log: %s)", err, logs.logPath)
	} else {
		err = useBoard(c, b, run, logs.logPath, in, interactive)
		b.Close(context.WithoutCancel(ctx))
	}
	logs.close()
	if rerr := run.finish(c); rerr != nil {
		fmt.Fprintf(stderr, "bootrig: report: %v\n", rerr)
	}
	return err
}

// useBoard does what was asked with a booted board: run a command, give
// the console to the user, or wait for Ctrl-C.
func useBoard(c *cli.Context, b *up.Board, run *upRun, logPath string, in *os.File, interactive bool) error {
	ctx, stdout, stderr := c.Context, c.App.Writer, c.App.ErrWriter
	b.HideConsole()
	printSummary(stderr, b, logPath)
	switch {
	case c.String("run") != "" && c.Bool("json"):
		return runJSON(ctx, b, run, c.String("run"), stdout)
	case c.String("run") != "":
		return runOnBoard(ctx, b, run, c.String("run"), stdout)
	case interactive:
		return b.Interact(ctx, in, stdout, true)
	}
	fmt.Fprintf(stderr, "board %s is up; Ctrl-C stops it\n", run.rec.Board)
	<-ctx.Done()
	return nil
}

func runOnBoard(ctx context.Context, b *up.Board, run *upRun, cmd string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	out, code, err := runRecorded(ctx, b, run, cmd)
	if err != nil {
		return err
	}
	if !terminal.Is(stdout) {
		// The board's programs see a terminal (its console) and colour
		// their output; a file or a pipe gets it plain, as ls --color=auto.
		out = serialcon.PlainText(out)
	}
	io.WriteString(stdout, out)
	if code != 0 {
		return cli.Exit("", code)
	}
	return nil
}

// runRecorded runs cmd on the board and records it in the run.
func runRecorded(ctx context.Context, b *up.Board, run *upRun, cmd string) (string, int, error) {
	rc := report.Command{Line: cmd, Start: report.Dur(time.Since(b.Session.Start())), Exit: -1}
	out, code, err := b.Run(ctx, cmd)
	rc.End = report.Dur(time.Since(b.Session.Start()))
	if err != nil {
		rc.Err = err.Error()
	} else {
		rc.Exit = code
	}
	run.command(rc)
	return out, code, err
}

func printSummary(w io.Writer, b *up.Board, logPath string) {
	fmt.Fprintln(w)
	for _, st := range b.Steps {
		fmt.Fprintf(w, "%-30s %10s\n", "bootrig: "+st.Name, st.Took.Round(time.Millisecond))
	}
	s := b.Summary()
	if terminal.Is(w) {
		fmt.Fprint(w, s.Table(30))
	} else {
		fmt.Fprint(w, s)
	}
	fmt.Fprintf(w, "console log: %s\n", logPath)
}

// upLogs are the console logs up writes.
type upLogs struct {
	log, raw io.Writer
	files    []*os.File
	logPath  string // the run's
}

// openLogs opens the run's logs in dir, and --log and --raw besides.
func openLogs(c *cli.Context, dir string) (*upLogs, error) {
	l := &upLogs{logPath: filepath.Join(dir, report.LogFile)}
	for _, f := range []struct {
		flag, run string
		dst       *io.Writer
	}{{"log", report.LogFile, &l.log}, {"raw", report.RawFile, &l.raw}} {
		var ws []io.Writer
		for _, path := range []string{filepath.Join(dir, f.run), c.String(f.flag)} {
			if path == "" {
				continue
			}
			file, err := os.Create(path)
			if err != nil {
				l.close()
				return nil, fmt.Errorf("--%s: %w", f.flag, err)
			}
			l.files = append(l.files, file)
			ws = append(ws, file)
		}
		*f.dst = io.MultiWriter(ws...)
	}
	return l, nil
}

func (l *upLogs) close() {
	for _, f := range l.files {
		f.Close()
	}
	l.files = nil
}
