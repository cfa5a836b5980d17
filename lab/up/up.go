package up

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"regexp"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
	"github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/serialcon/terminal"
	"github.com/bootrig/bootrig/servers"
	"github.com/bootrig/bootrig/uboot"
)

// Config is one bring-up of a board.
type Config struct {
	Board   *boards.Profile
	Netboot boards.Netboot // network and export, defaults filled (Profile.Netboot)
	// RootFS is the directory the NFS server exports (default:
	// Netboot.Export, the path the kernel is told to mount).
	RootFS string
	Cache  string // ~/.cache/bootrig: sources and build trees
	Out    string // build output: uImage (TFTP root) and rootfs/
	State  string // the board's state dir: flash bank, logs, lab record

	// Build builds what is stale before booting.
	Build bool
	// TypeEnv types the environment into U-Boot at its prompt. Without
	// it an emulated board gets it flashed into its environment bank
	// while off, and U-Boot boots from it with no key pressed.
	TypeEnv bool
	// SavedEnv powers an emulated board on with its flash bank as it is:
	// no environment written, nothing typed, U-Boot autoboots from what
	// it saved (after a bootrig uboot flash-env or up --type-env).
	SavedEnv bool
	// Attach joins a board that already runs (bootrig up --keep): no
	// build, no power-on, no boot; the servers start again.
	Attach bool
	// Keep leaves the emulated board running when bootrig exits.
	Keep bool
	// Port is a real board's console (a serialcon spec: /dev/ttyUSB0,
	// tcp://HOST:PORT, ...); unused for an emulated board.
	Port string
	// PowerCmd powers a real board on (argv, no shell); without it the
	// user is asked to press reset.
	PowerCmd []string
	// BootTimeout bounds power-on to shell prompt (default 90 s).
	BootTimeout time.Duration
	// Allow lists the TFTP and NFS clients served (default: the board's
	// address); NFSAllow, when set, replaces it for NFS.
	Allow, NFSAllow []netip.Prefix
	// NoPortmap runs no portmapper (see servers.NFS.NoPortmap).
	NoPortmap bool
	// NFSOverUDP and InsecurePorts: see servers.NFS's UDP and InsecurePorts.
	NFSOverUDP, InsecurePorts bool
	// MountWait is how long, after the kernel has configured its
	// network, the first NFS call may take before bootrig gives up on
	// the mount and says why (default 15 s).
	MountWait time.Duration

	// Name is the instance's name (lab.Instance), recorded in the lab
	// state with Consoles, the addresses its console is shared on.
	Name     string
	Consoles []string
	// BootDelay is the seconds U-Boot waits for a key before it boots
	// from the flashed environment (0: it boots at once), recorded in
	// the lab state: a console client (labgrid) needs a moment to stop
	// autoboot.
	BootDelay int
	// OnConsole is called with the console's session as soon as it is
	// open, before power-on (a console share starts there).
	OnConsole func(*serialcon.Session)

	Log     io.Writer    // timestamped console log; nil: none
	Raw     io.Writer    // every console byte; nil: none
	Console io.Writer    // the console shown live (a terminal); nil: none
	Notes   io.Writer    // progress lines for people; nil: none
	Logger  *slog.Logger // servers' logs; nil: none
}

// Board is a board brought up to its shell prompt.
type Board struct {
	Session *serialcon.Session
	// Servers are the board's TFTP, NFS and portmapper servers
	// (RestartServers starts them again); Watch counts the RPC calls
	// they receive, across restarts.
	Servers *servers.Running
	Watch   *Watch
	Machine *lab.Machine // nil for an attached board
	Phases  *serialcon.Phases
	Steps   []HostStep // what bootrig did before the board's own phases
	Dialect uboot.Dialect
	shell   *regexp.Regexp
	cfg     Config
	// serversConfig is what Servers were started from.
	serversConfig servers.Config
	detach        func()
	released      bool
}

// HostStep is a step bootrig took, with how long it took.
type HostStep struct {
	Name string
	Took time.Duration
}

// Start brings the board up to its shell prompt: build, serve, power on,
// boot. On error, whatever it started is stopped again.
func Start(ctx context.Context, c Config) (b *Board, err error) {
	c = c.withDefaults()
	real := c.Board.QEMU == nil
	if real && (c.Attach || c.Keep) {
		return nil, fmt.Errorf("board %s is not emulated: --attach and --keep are for the emulated board", c.Board.Name)
	}
	if real {
		c.TypeEnv = true // a real board's environment is typed at its prompt
	}
	b = &Board{cfg: c, Dialect: Dialect(c.Board), shell: c.Board.Linux.ShellPrompt.Regexp}
	defer func() {
		if err != nil {
			b.Close(context.WithoutCancel(ctx))
			b = nil
		}
	}()
	steps := []struct {
		name string
		run  func(context.Context) error
		skip bool
	}{
		{"build", b.build, !c.Build || c.Attach},
		{"servers", b.serve, false},
		{"power on", b.powerOn, c.Attach || real},
		{"power on", b.powerOnReal, !real},
		{"attach", b.attach, !c.Attach},
		{"boot", b.boot, c.Attach},
	}
	for _, st := range steps {
		if st.skip {
			continue
		}
		t0 := time.Now()
		if err := st.run(ctx); err != nil {
			return b, err
		}
		b.Steps = append(b.Steps, HostStep{st.name, time.Since(t0)})
	}
	return b, nil
}

func (c Config) withDefaults() Config {
	if c.BootTimeout == 0 {
		c.BootTimeout = 90 * time.Second
	}
	if c.MountWait == 0 {
		c.MountWait = 15 * time.Second
	}
	if c.RootFS == "" {
		c.RootFS = c.Netboot.Export
	}
	if c.Allow == nil {
		c.Allow = []netip.Prefix{netip.PrefixFrom(c.Netboot.BoardIP, 32)}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Notes == nil {
		c.Notes = io.Discard
	}
	return c
}

func (b *Board) build(ctx context.Context) error {
	res, err := crossbuild.Build(ctx, crossbuild.Config{
		Board: b.cfg.Board, Target: crossbuild.TargetAll, Root: b.cfg.Netboot.Root, Tree: b.cfg.RootFS,
		Cache: b.cfg.Cache, Out: b.cfg.Out, Progress: b.cfg.Notes,
	})
	if err != nil {
		return err
	}
	if len(res.Compiled) == 0 {
		fmt.Fprintf(b.cfg.Notes, "build: nothing to rebuild (%s)\n", res.Elapsed.Round(time.Millisecond))
	}
	return nil
}

// powerOn writes the environment where U-Boot loads it from (unless it
// is to be typed or kept), starts QEMU paused, opens the console and
// lets the CPU run.
func (b *Board) powerOn(ctx context.Context) error {
	c := b.cfg
	if st, err := lab.LoadState(c.State); err == nil {
		return fmt.Errorf("board %s already runs (QEMU pid %d): join it with bootrig up --attach, or stop it with kill %d", c.Board.Name, st.QEMUPid, st.QEMUPid)
	}
	q, err := lab.FromBuild(c.Board, c.State, lab.DefaultTap, c.Out)
	if err != nil {
		return err
	}
	if !c.TypeEnv && !c.SavedEnv {
		img, err := uboot.EnvImage{Size: int(c.Board.QEMU.EnvSize), Pad: uboot.ErasedByte}.Marshal(withBootDelay(FlashEnv(c.Board, c.Netboot), c.BootDelay))
		if err != nil {
			return fmt.Errorf("environment image: %w", err)
		}
		if err := q.WriteEnv(ctx, img); err != nil {
			return err
		}
	}
	m, err := lab.StartWith(ctx, q, lab.Options{Keep: c.Keep})
	if err != nil {
		return err
	}
	b.Machine = m
	if err := b.openConsole(ctx, m.ConsolePath()); err != nil {
		return err
	}
	// Recorded also without Keep (Close clears it): bootrig ps and
	// power find the running board by it.
	st := lab.State{Board: c.Board.Name, QEMUPid: m.Pid(), Console: m.ConsolePath(), QMP: q.QMP,
		SerialLog: q.SerialLog, Tap: lab.DefaultTap, ServerIP: c.Netboot.ServerIP.String(),
		Name: c.Name, BoardIP: c.Netboot.BoardIP.String(), Started: time.Now(), Consoles: c.Consoles, BootDelay: c.BootDelay}
	if err := st.Save(c.State); err != nil {
		return err
	}
	return m.Resume(ctx)
}

func (b *Board) openConsole(ctx context.Context, path string) error {
	port, err := serialcon.Open(ctx, path)
	if err != nil {
		return err
	}
	start := time.Now()
	b.Phases = serialcon.NewPhases(start, b.shell)
	b.Session = serialcon.NewSession(port, serialcon.Options{Name: path, Log: b.cfg.Log, Raw: b.cfg.Raw, Phases: b.Phases})
	if b.cfg.Console != nil {
		b.detach = b.Session.Attach(b.cfg.Console)
	}
	if b.cfg.OnConsole != nil {
		b.cfg.OnConsole(b.Session)
	}
	return nil
}

// powerOnReal opens a real board's console and powers it on: its power
// command, or the user pressing reset.
func (b *Board) powerOnReal(ctx context.Context) error {
	if b.cfg.Port == "" {
		return fmt.Errorf("board %s: no console port (give --port SPEC or set serial.port in the profile)", b.cfg.Board.Name)
	}
	if err := b.openConsole(ctx, b.cfg.Port); err != nil {
		return err
	}
	if len(b.cfg.PowerCmd) == 0 {
		fmt.Fprintf(b.cfg.Notes, "bootrig: press reset on the %s now (console %s)\n", b.cfg.Board.Name, b.cfg.Port)
		return nil
	}
	return terminal.PowerCommand(b.cfg.PowerCmd)(ctx)
}

// attach opens the console of a board that runs already.
func (b *Board) attach(ctx context.Context) error {
	st, err := lab.LoadState(b.cfg.State)
	if err != nil {
		return err
	}
	if err := b.openConsole(ctx, st.Console); err != nil {
		return err
	}
	b.Session.Send("\r")
	return nil
}

// HideConsole stops showing the console on Config.Console.
func (b *Board) HideConsole() {
	if b.detach != nil {
		b.detach()
		b.detach = nil
	}
}

// Summary is the boot's phases so far.
func (b *Board) Summary() serialcon.Summary {
	if b.Phases == nil {
		return serialcon.Summary{}
	}
	return b.Phases.Summary(time.Now())
}

// Release leaves the board running when Close is called (bootrig up
// --keep, or a board that was attached to).
func (b *Board) Release() { b.released = true }

// Close stops the servers and, unless the board was kept, powers it
// off. It returns the first error.
func (b *Board) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var errs []error
	b.HideConsole()
	keep := b.released || b.cfg.Keep || b.cfg.Attach
	if b.Machine != nil && !keep {
		errs = append(errs, b.Machine.PowerOff(ctx))
		errs = append(errs, lab.ClearState(b.cfg.State))
		if b.Session != nil {
			select { // the console reads what is left, up to the hangup
			case <-b.Session.Done():
			case <-ctx.Done():
			}
		}
	}
	if b.Session != nil {
		errs = append(errs, b.Session.Close())
	}
	errs = append(errs, b.stopServers(ctx))
	return errors.Join(errs...)
}
