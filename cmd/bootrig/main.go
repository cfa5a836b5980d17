// Command bootrig takes an embedded ARM board from sources to a booted,
// logged shell: it cross-builds the kernel and busybox, serves them over
// TFTP and NFS, drives U-Boot on the serial console and records the boot.
//
// Run `bootrig --help` for the commands. Each lives in a file of its own;
// the work is done by the packages at the module root.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := notifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// interrupted is the cause of a context a signal ended: Ctrl-C or a
// SIGTERM. A command that stops for it before its work is done exits
// 128+signal (130, 143), as a shell reports a process killed by it.
type interrupted struct{ sig syscall.Signal }

func (e *interrupted) Error() string { return "interrupted by " + e.sig.String() }

// ExitCode is the shell's code for the signal.
func (e *interrupted) ExitCode() int { return 128 + int(e.sig) }

// notifyContext is signal.NotifyContext with the signal as the cause, so a
// command can tell Ctrl-C from its own deadline.
func notifyContext(parent context.Context, sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			sig, _ := s.(syscall.Signal)
			cancel(&interrupted{sig: sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
}

// interruption is the signal that ended ctx, nil when none did.
func interruption(ctx context.Context) *interrupted {
	var in *interrupted
	if errors.As(context.Cause(ctx), &in) {
		return in
	}
	return nil
}

// run runs the command line args and returns the exit code. Errors are
// printed to stderr as one line.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	err := app.RunContext(ctx, flagsFirst(app.Commands, args))
	if err == nil {
		return exitOK
	}
	if in := interruption(ctx); in != nil && !errors.As(err, new(*interrupted)) {
		err = fmt.Errorf("%w: %w", in, err) // stopped by Ctrl-C or SIGTERM: 130 or 143
	}
	var ec exitCoder
	if errors.As(err, &ec) && ec.ExitCode() >= 0 {
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(stderr, "bootrig: %s\n", oneLine(msg))
		}
		return ec.ExitCode()
	}
	fmt.Fprintf(stderr, "bootrig: %s\n", oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "Run 'bootrig %s--help' for usage.\n", ue.cmd)
		return exitUsage
	}
	return exitFailure
}

type exitCoder interface{ ExitCode() int }

// oneLine keeps an error on one line: the first line of a multi-line
// message (the rest is for --verbose logs, not for the user's eye).
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "bootrig",
		Usage: "take an embedded ARM board from sources to a booted, logged shell",
		Description: "bootrig builds the kernel and busybox, serves them over TFTP and NFS, drives U-Boot\n" +
			"on the serial console and records the boot. The default board, qemu-arm, is emulated:\n" +
			"   bootrig up --run 'uname -a'",
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		Flags:                []cli.Flag{verboseFlag, versionFlag},
		Commands: []*cli.Command{
			upCommand(),
			reportCommand(),
			buildCommand(),
			serveCommand(),
			consoleCommand(),
			psCommand(),
			powerCommand(),
			exportCommand(),
			logCommand(),
			ubootCommand(),
			mkimageCommand(),
			initramfsCommand(),
			rootfsCommand(),
			boardsCommand(),
			bootargsCommand(),
			doctorCommand(),
			completionCommand(),
			manCommand(),
		},
		Action: func(c *cli.Context) error {
			if c.Bool("version") {
				_, err := fmt.Fprintf(c.App.Writer, "bootrig %s\n", version())
				return err
			}
			if c.Args().Present() {
				return usagef("", "unknown command %q", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // run prints and exits
	}
	app.OnUsageError = onUsageError
	for _, cmd := range app.Commands {
		prepare(cmd, "")
	}
	return app
}

// versionFlag is --version alone: -v is --verbose.
var versionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version (module version and VCS revision) and exit"}

var verboseFlag = &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print debug logs", EnvVars: []string{"BOOTRIG_VERBOSE"}}

// prepare gives every command the shared usage-error handling and the
// --verbose flag.
func prepare(cmd *cli.Command, parent string) {
	path := strings.TrimSpace(parent + " " + cmd.Name)
	cmd.OnUsageError = func(c *cli.Context, err error, _ bool) error {
		return &usageError{cmd: path + " ", err: err}
	}
	if len(cmd.Subcommands) == 0 {
		cmd.Flags = append(cmd.Flags, verboseFlag)
	}
	if len(cmd.Subcommands) > 0 && cmd.Action == nil {
		sub := cmd
		cmd.Action = func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef(path, "unknown %s command %q", sub.Name, c.Args().First())
			}
			// A command that needs a subcommand: its help, on stderr,
			// and the usage exit code, as for any other bad usage.
			out := c.App.Writer
			c.App.Writer = c.App.ErrWriter
			err := cli.ShowSubcommandHelp(c)
			c.App.Writer = out
			if err != nil {
				return err
			}
			return cli.Exit("", exitUsage)
		}
	}
	for _, s := range cmd.Subcommands {
		prepare(s, path)
	}
}

func onUsageError(_ *cli.Context, err error, _ bool) error { return &usageError{err: err} }

// usageError is bad usage: exit code 2.
type usageError struct {
	cmd string // "boards show " for the --help hint
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef makes a usage error for the command at path ("bootargs").
func usagef(path, format string, args ...any) error {
	if path != "" {
		path += " "
	}
	return &usageError{cmd: path, err: fmt.Errorf(format, args...)}
}
