package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/serialcon/terminal"
	"github.com/urfave/cli/v2"
)

// portFlags are the flags of every command that talks to a board.
func portFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "port", EnvVars: []string{"BOOTRIG_PORT"},
			Usage: "console `SPEC`: /dev/ttyUSB0[,115200[,8N1]], tcp://HOST:PORT, rfc2217://HOST:PORT or unix:PATH (default: the board profile's)"},
		&cli.StringFlag{Name: "log", Usage: "append the timestamped console log to `FILE`"},
		&cli.StringFlag{Name: "raw", Usage: "append every byte received, as is, to `FILE`"},
	}
}

// portSpec is --port, or the profile's port; "qemu" is the console of the
// running emulated board.
func portSpec(c *cli.Context, board string, profilePort string, baud int) (string, error) {
	spec := c.String("port")
	if spec == "" {
		spec = profilePort
		if spec != "" && spec != "qemu" && baud > 0 && !strings.Contains(spec, ",") {
			spec = fmt.Sprintf("%s,%d", spec, baud)
		}
	}
	switch spec {
	case "":
		return "", usagef(c.Command.FullName(), "no console port: give --port SPEC or set BOOTRIG_PORT")
	case "qemu":
		st, err := lab.LoadState(stateDir(c, board))
		if err != nil {
			return "", fmt.Errorf("board %s is emulated and its console is the running board's: %w; or give --port", board, err)
		}
		return st.Console, nil
	}
	return spec, nil
}

// console is an open session with its log files.
type console struct {
	*serialcon.Session
	spec   string
	phases *serialcon.Phases
	files  []*os.File
}

// consoleOpts are what a command adds to a console: a copy of the
// timestamped log on its stdout (bootrig log, as grabserial), the line
// ending of its messages ("\r\n" on a raw terminal).
type consoleOpts struct {
	phases *serialcon.Phases
	stream io.Writer
	eol    string
}

// silence is how long a port may stay silent before bootrig asks whether
// the board is on.
const silence = 5 * time.Second

// openConsole opens the board's port with the logs the flags ask for.
// Each log file gets a header line with the port and the wall-clock
// date, so the sessions appended to one file can be told apart.
func openConsole(c *cli.Context, spec string, o consoleOpts) (*console, error) {
	con := &console{spec: spec, phases: o.phases}
	opt := serialcon.Options{Name: spec, Phases: o.phases}
	logs := []io.Writer{}
	for _, f := range []struct {
		flag string
		dst  *io.Writer
	}{{"log", nil}, {"raw", &opt.Raw}} {
		name := c.String(f.flag)
		if name == "" {
			continue
		}
		fh, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			con.closeFiles()
			return nil, fmt.Errorf("--%s: %w", f.flag, err)
		}
		con.files = append(con.files, fh)
		if f.dst != nil {
			*f.dst = fh
			continue
		}
		if _, err := io.WriteString(fh, serialcon.LogHeader(spec, time.Now())); err != nil {
			con.closeFiles()
			return nil, fmt.Errorf("--%s %s: %w", f.flag, name, err)
		}
		logs = append(logs, fh)
	}
	if o.stream != nil {
		logs = append(logs, o.stream)
	}
	if len(logs) > 0 {
		opt.Log = io.MultiWriter(logs...)
	}
	log := logger(c)
	if sp, err := serialcon.ParseSpec(spec); err == nil {
		log.Debug("opening console", "kind", sp.Kind, "addr", sp.Addr, "baud", sp.Baud, "frame", fmt.Sprintf("%d%c%d", sp.DataBits, sp.Parity, sp.StopBits))
	}
	port, err := serialcon.Open(c.Context, spec)
	if err != nil {
		con.closeFiles()
		return nil, err
	}
	con.Session = serialcon.NewSession(port, opt)
	log.Debug("console open", "port", spec)
	go con.warnSilent(c.Context, c.App.ErrWriter, o.eol)
	if ls, ok := port.(serialcon.LineSetter); ok {
		go con.warnLineSettings(c.Context, ls, c.App.ErrWriter, o.eol)
	}
	return con, nil
}

// lineSettingsWait is how long a port server has to confirm the baud rate.
const lineSettingsWait = 2 * time.Second

// warnLineSettings says on stderr when an rfc2217:// port server did not
// confirm the baud rate in time: the line may run at another speed.
func (con *console) warnLineSettings(ctx context.Context, ls serialcon.LineSetter, w io.Writer, eol string) {
	if !con.wait(ctx, lineSettingsWait) {
		return
	}
	if err := ls.LineSettings(); err != nil {
		fmt.Fprintf(w, "bootrig: warning: %v%s", err, lineEnd(eol))
	}
}

// wait waits d and says true, or false when ctx ends or the port closes
// first.
func (con *console) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-con.Done():
	}
	return false
}

func lineEnd(eol string) string {
	if eol == "" {
		return "\n"
	}
	return eol
}

// warnSilent says on stderr, once, that nothing came from the port
// within [silence]: the commands wait on, up to their timeouts.
func (con *console) warnSilent(ctx context.Context, w io.Writer, eol string) {
	eol = lineEnd(eol)
	if !con.wait(ctx, silence) {
		return
	}
	if con.Received() > 0 {
		return
	}
	baud := ""
	if sp, err := serialcon.ParseSpec(con.spec); err == nil && sp.Kind != serialcon.TCP && sp.Kind != serialcon.Unix {
		baud = fmt.Sprintf(", is %d the board's baud rate", sp.Baud)
	}
	fmt.Fprintf(w, "bootrig: nothing received from %s in %v: is the board powered, is this its console port%s? Still waiting.%s", con.spec, silence, baud, eol)
}

func (con *console) closeFiles() {
	for _, f := range con.files {
		f.Close()
	}
}

// Close closes the port and the logs.
func (con *console) Close() error {
	err := con.Session.Close()
	con.closeFiles()
	return err
}

func consoleCommand() *cli.Command {
	return &cli.Command{
		Name:  "console",
		Usage: "open an interactive, logged serial console",
		UsageText: "bootrig console [--board B] [--name N] [--port SPEC] [--log FILE] [--raw FILE] [--power-cycle CMD] [--exit-after D] [--timeout D] [--share SPEC]\n\n" +
			"With --share the console is served on the network (RFC 2217 or raw TCP) until Ctrl-C.\n" +
			"Keys: " + terminal.KeyMap + ";\n" +
			"r runs the --power-cycle command.\n" +
			"When stdin ends (a pipe or a file), the console stays until the board has been quiet for\n" +
			"--exit-after (as picocom's --exit-after), or until --timeout, then exits 0:\n" +
			"   printf 'printenv bootcmd\\r' | bootrig console --port /dev/ttyUSB0\n\n" +
			"Example: the mini2440 on a USB-serial adapter, logged to a file:\n" +
			"   bootrig console --board mini2440 --port /dev/ttyUSB0 --log mini2440.log",
		Flags: append(append(boardFlags(), portFlags()...), nameFlag(), shareFlags()[0],
			&cli.StringFlag{Name: "power-cycle", EnvVars: []string{"BOOTRIG_POWER_CYCLE"},
				Usage: "`COMMAND` that power-cycles the board (words split at blanks, no shell), for Ctrl-] r"},
			&cli.DurationFlag{Name: "exit-after", Value: time.Second, Usage: "once stdin has ended, exit when the board was quiet for `DURATION`"},
			&cli.DurationFlag{Name: "timeout", Usage: "exit after `DURATION` in any case; 0 for never"}),
		Action: runConsole,
	}
}

func runConsole(c *cli.Context) error {
	p, err := board(c)
	if err != nil {
		return err
	}
	spec, err := portSpec(c, p.Name, p.Serial.Port, p.Serial.Baud)
	if err != nil {
		return err
	}
	ls, err := listenShares(c)
	if err != nil {
		return err
	}
	con, err := openConsole(c, spec, consoleOpts{eol: "\r\n"})
	if err != nil {
		closeShares(ls)
		return err
	}
	defer con.Close()
	if len(ls) > 0 {
		return serveConsole(c, p.Name, con, ls)
	}
	if f, ok := c.App.Reader.(*os.File); ok {
		restore, err := terminal.Raw(f)
		if err != nil {
			return fmt.Errorf("console: %w", err)
		}
		defer restore()
	}
	fmt.Fprintf(c.App.ErrWriter, "bootrig: connected to %s; %s\r\n", spec, terminal.KeyMap)
	defer con.Attach(c.App.Writer)()
	t := terminal.Terminal{Console: con, In: c.App.Reader, Msg: c.App.ErrWriter,
		NoPower: "give --power-cycle or BOOTRIG_POWER_CYCLE"}
	if argv := strings.Fields(c.String("power-cycle")); len(argv) > 0 {
		t.PowerCycle = terminal.PowerCommand(argv)
	}
	ctx := c.Context
	if d := c.Duration("timeout"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	err = t.Run(ctx)
	switch {
	case errors.Is(err, terminal.ErrInputEnded):
		return awaitQuiet(ctx, con, c.Duration("exit-after"))
	case errors.Is(err, terminal.ErrConsoleClosed):
		return con.Err()
	}
	return err
}

// awaitQuiet waits, once stdin has ended, for the replies to what was
// sent: until nothing arrived for a whole quiet period, the port closes
// or ctx ends (--timeout, Ctrl-C).
func awaitQuiet(ctx context.Context, con *console, quiet time.Duration) error {
	last := con.Received()
	tick := time.NewTimer(quiet)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-con.Done():
			return con.Err()
		case <-tick.C:
			n := con.Received()
			if n == last {
				return nil
			}
			last = n
			tick.Reset(quiet)
		}
	}
}
