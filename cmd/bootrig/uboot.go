package main

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/lab/up"
	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/serialcon/patterns"
	"github.com/bootrig/bootrig/uboot"
)

func ubootCommand() *cli.Command {
	return &cli.Command{
		Name:  "uboot",
		Usage: "drive U-Boot on the console: read and set its environment, boot",
		Subcommands: []*cli.Command{
			ubootEnvCommand(),
			flashEnvCommand(),
			ubootBootCommand(),
			mkenvCommand(),
		},
	}
}

// driverFlags are the flags of every command that drives U-Boot.
func driverFlags() []cli.Flag {
	return append(append(boardFlags(), portFlags()...),
		&cli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Usage: "give up after `DURATION`"})
}

// ubootSession opens the console and syncs with U-Boot at the prompt.
type ubootSession struct {
	p   *boards.Profile
	con *console
	drv *uboot.Driver
	ctx context.Context
}

func openUBoot(c *cli.Context, phases func(*boards.Profile) *serialcon.Phases) (*ubootSession, context.CancelFunc, error) {
	p, err := board(c)
	if err != nil {
		return nil, nil, err
	}
	spec, err := portSpec(c, p.Name, p.Serial.Port, p.Serial.Baud)
	if err != nil {
		return nil, nil, err
	}
	var ph *serialcon.Phases
	if phases != nil {
		ph = phases(p)
	}
	con, err := openConsole(c, spec, consoleOpts{phases: ph})
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout"))
	drv := uboot.New(con.Session, up.Dialect(p))
	drv.Log = logger(c)
	if _, err := drv.Sync(ctx); err != nil {
		cancel()
		con.Close()
		return nil, nil, fmt.Errorf("%s: %w", spec, err)
	}
	return &ubootSession{p: p, con: con, drv: drv, ctx: ctx}, func() { cancel(); con.Close() }, nil
}

func ubootEnvCommand() *cli.Command {
	return &cli.Command{
		Name:  "env",
		Usage: "print, get or set U-Boot's environment over the console",
		Subcommands: []*cli.Command{
			{
				Name: "print", Usage: "print the whole environment", Flags: driverFlags(),
				UsageText: "bootrig uboot env print [--board B] [--port SPEC]\n\n" +
					"Example:\n   bootrig uboot env print --board mini2440 --port /dev/ttyUSB0",
				Action: runEnvPrint,
			},
			{
				Name: "get", Usage: "print one variable's bare value", ArgsUsage: "NAME", Flags: driverFlags(),
				UsageText: "bootrig uboot env get [--board B] [--port SPEC] NAME\n\n" +
					"Example: compare the board's bootcmd in a script:\n" +
					"   test \"$(bootrig uboot env get --port /dev/ttyUSB0 bootcmd)\" = 'tftp 0x30008000 uImage; bootm 0x30008000'",
				Action: runEnvGet,
			},
			{
				Name: "set", Usage: "set variables (each verified with printenv)", ArgsUsage: "NAME=VALUE...",
				UsageText: "bootrig uboot env set [--board B] [--port SPEC] [--save] NAME=VALUE...\n\n" +
					"Example:\n   bootrig uboot env set --port /dev/ttyUSB0 --save serverip=192.168.1.113 ipaddr=192.168.1.244",
				Flags:  append(driverFlags(), &cli.BoolFlag{Name: "save", Usage: "then saveenv"}),
				Action: runEnvSet,
			},
		},
	}
}

func runEnvPrint(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("uboot env print", "takes no arguments")
	}
	u, done, err := openUBoot(c, nil)
	if err != nil {
		return err
	}
	defer done()
	env, err := u.drv.Printenv(u.ctx)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(c.App.Writer, "%s=%s\n", k, env[k])
	}
	return nil
}

func runEnvGet(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("uboot env get", "want one variable NAME")
	}
	u, done, err := openUBoot(c, nil)
	if err != nil {
		return err
	}
	defer done()
	v, err := u.drv.Getenv(u.ctx, c.Args().First())
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, v)
	return nil
}

func runEnvSet(c *cli.Context) error {
	var vars []uboot.EnvVar
	for _, a := range c.Args().Slice() {
		name, value, ok := strings.Cut(a, "=")
		if !ok || !uboot.IsVarName(name) {
			return usagef("uboot env set", "%q is not NAME=VALUE", a)
		}
		vars = append(vars, uboot.EnvVar{Name: name, Value: value})
	}
	if len(vars) == 0 {
		return usagef("uboot env set", "want NAME=VALUE arguments")
	}
	u, done, err := openUBoot(c, nil)
	if err != nil {
		return err
	}
	defer done()
	if err := u.drv.SetenvAll(u.ctx, vars); err != nil {
		return err
	}
	if c.Bool("save") {
		return u.drv.Saveenv(u.ctx)
	}
	return nil
}

func flashEnvCommand() *cli.Command {
	return &cli.Command{
		Name:  "flash-env",
		Usage: "set bootargs, bootcmd and the network from the profile, saveenv, and prove it survives a reset",
		UsageText: "bootrig uboot flash-env [--board B] [--port SPEC] [--server-ip IP --board-ip IP --gateway IP --netmask MASK --rootfs DIR] [--ethaddr MAC]\n\n" +
			"Example: the classic mini2440 lab:\n" +
			"   bootrig uboot flash-env --board mini2440 --port /dev/ttyUSB0 --server-ip 192.168.1.113 --board-ip 192.168.1.244",
		Flags: append(append(driverFlags(), labFlags()...),
			&cli.StringFlag{Name: "ethaddr", Usage: "also set the board's MAC `ADDRESS`"}),
		Action: runFlashEnv,
	}
}

// flashVars are the variables flash-env sets: what up sets ([up.Env]),
// and the board's MAC address when given.
func flashVars(p *boards.Profile, l boards.Netboot, ethaddr string) []uboot.EnvVar {
	vars := up.Env(p, l)
	if ethaddr != "" {
		vars = append(vars, uboot.EnvVar{Name: "ethaddr", Value: ethaddr})
	}
	return vars
}

func runFlashEnv(c *cli.Context) error {
	p, err := board(c)
	if err != nil {
		return err
	}
	l, err := netboot(c, p)
	if err != nil {
		return err
	}
	if !p.UBoot.Saveenv {
		return fmt.Errorf("board %s: saveenv does not work on its U-Boot (profile %s: uboot.saveenv is false); write the environment image instead: bootrig uboot mkenv", p.Name, p.Source)
	}
	vars := flashVars(p, l, c.String("ethaddr"))
	u, done, err := openUBoot(c, nil)
	if err != nil {
		return err
	}
	defer done()
	if err := u.drv.Persist(u.ctx, vars); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "saved and verified after a reset: %d variables\n", len(vars))
	return nil
}

func ubootBootCommand() *cli.Command {
	return &cli.Command{
		Name:  "boot",
		Usage: "boot from the U-Boot prompt and record the console until the shell prompt",
		UsageText: "bootrig uboot boot [--board B] [--port SPEC] [--cmd COMMAND] [--json]\n\n" +
			"The wait ends at the shell prompt, or at once when U-Boot is back at its prompt or prints\n" +
			"an error bootrig knows (No ethernet found, TFTP error, Bad Data CRC, ...), with the reason.\n" +
			"The phase table goes to stdout (--json: as JSON).\n\n" +
			"Example:\n   bootrig uboot boot --board mini2440 --port /dev/ttyUSB0",
		Flags: append(driverFlags(),
			&cli.StringFlag{Name: "cmd", Value: "boot", Usage: "U-Boot `COMMAND` that boots"}, jsonFlag),
		Action: runUBootBoot,
	}
}

func runUBootBoot(c *cli.Context) error {
	var start time.Time
	u, done, err := openUBoot(c, func(p *boards.Profile) *serialcon.Phases {
		start = time.Now()
		return serialcon.NewPhases(start, p.Linux.ShellPrompt.Regexp)
	})
	if err != nil {
		return err
	}
	defer done()
	// What an earlier session left unread on the port (the tail of its
	// command's output) arrives during this sync: failures before it are
	// not this boot's.
	if _, err := u.drv.Sync(u.ctx); err != nil {
		return err
	}
	since := time.Since(start)
	cmd := c.String("cmd")
	if err := u.drv.Boot(u.ctx, cmd); err != nil {
		return err
	}
	werr := waitBoot(u, cmd, since)
	sum := u.con.phases.Summary(time.Now())
	if err := printPhases(c, sum, c.App.Writer); err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	if err := sum.Err(); err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	return nil
}

// waitBoot waits for the board's shell after the boot command. It ends
// early, with the reason, when U-Boot is back at its prompt (the command
// failed) or prints a failure of the console catalogue.
func waitBoot(u *ubootSession, cmd string, since time.Duration) error {
	// The shell prompt counts once the kernel runs: "## " in U-Boot's
	// own output would pass for "# ".
	shell := u.p.Linux.ShellPrompt.Regexp
	prompt := u.drv.Dialect().Prompt
	var failed *serialcon.Failure
	var back []byte // U-Boot's output before its prompt came back
	_, err := u.con.ExpectFunc(u.ctx, func(b []byte) (int, bool) {
		if failed = u.con.phases.FailedSince(since); failed != nil {
			return len(b), true
		}
		loc := patterns.StartingKernel.FindIndex(b)
		if loc == nil {
			if p := prompt.FindIndex(b); p != nil {
				back = append([]byte(nil), b[:p[0]]...)
				if i := bytes.LastIndex(back, []byte(cmd)); i >= 0 {
					back = back[i+len(cmd):] // the command's output, after its echo
				}
				return len(b), true
			}
			return 0, false
		}
		return len(b), shell.Match(b[loc[1]:])
	})
	switch {
	case failed != nil:
		return fmt.Errorf("boot: %q: %w", cmd, *failed)
	case back != nil:
		return fmt.Errorf("boot: %q: U-Boot is back at its prompt: the boot command failed; its output: %q", cmd, lastLines(string(back), 3))
	case err != nil:
		return fmt.Errorf("boot: %w", err)
	}
	return nil
}

// lastLines is the last n non-empty lines of s, joined by " | ".
func lastLines(s string, n int) string {
	var out []string
	lines := strings.Split(strings.ReplaceAll(s, "\r", ""), "\n")
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			out = append([]string{l}, out...)
		}
	}
	return strings.Join(out, " | ")
}
