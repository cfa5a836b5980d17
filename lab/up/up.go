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
	// Tap is the tap device an emulated board's NIC is wired to (default
	// lab.DefaultTap); MAC its address ("" for QEMU's default). Boards on
	// one lab.SharedLAN each have a tap and a MAC of their own.
	Tap, MAC string
	// Served says the board's TFTP and NFS servers are another process's
	// (bootrig serve --farm for a LAN of boards): Start starts none, and
	// a mount that does not happen is the kernel's to report, with no
	// view of the servers' calls (Board.Watch is nil).
	Served bool
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
	Machine *lab.Machine // the emulated board's QEMU; nil for a real or an attached board
	Phases  *serialcon.Phases
	Steps   []HostStep // what bootrig did before the board's own phases
	Dialect uboot.Dialect
	shell   *regexp.Regexp
	cfg     Config
	// serversConfig is what Servers were started from.
	serversConfig servers.Config
	power         powerSwitch // nil for an attached board: it runs already
	watch         mountWatch  // Watch, as the boot asks it; nil when Served
	detach        func()
	released      bool
}

// HostStep is a step bootrig took, with how long it took.
type HostStep struct {
	Name string
	Took time.Duration
}

// Start brings the board up to its shell prompt: build, serve, wire the
// board (start QEMU paused, or open a real board's console), power on,
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
	b = newBoard(c)
	defer func() {
		if err != nil {
			b.Close(context.WithoutCancel(ctx))
			b = nil
		}
	}()
	if err := b.step(ctx, "build", !c.Build || c.Attach, b.build); err != nil {
		return b, err
	}
	if err := b.step(ctx, "servers", c.Served, b.serve); err != nil {
		return b, err
	}
	if b.Watch != nil {
		b.watch = b.Watch
	}
	var port serialcon.Port
	var name string // the console's pty or port spec, for errors
	wire := func(ctx context.Context) (err error) {
		port, name, err = b.wire(ctx)
		return err
	}
	wireStep := "console"
	if !real && !c.Attach {
		wireStep = "QEMU" // flash, start paused, open the console
	}
	if err := b.step(ctx, wireStep, false, wire); err != nil {
		return b, err
	}
	return b, b.bringUp(ctx, port, name)
}

func newBoard(c Config) *Board {
	return &Board{cfg: c, Dialect: Dialect(c.Board), shell: c.Board.Linux.ShellPrompt.Regexp}
}

// step runs one of bootrig's steps, unless skip, and records how long
// it took.
func (b *Board) step(ctx context.Context, name string, skip bool, run func(context.Context) error) error {
	if skip {
		return nil
	}
	t0 := time.Now()
	if err := run(ctx); err != nil {
		return err
	}
	b.Steps = append(b.Steps, HostStep{name, time.Since(t0)})
	return nil
}

// bringUp is Start once the board is wired: its console port open, its
// power switch (b.power) and bootrig's servers (b.watch) at hand. It
// opens the console session, powers the board on and boots it to its
// shell; an attached board, which runs already, is only woken.
func (b *Board) bringUp(ctx context.Context, port serialcon.Port, name string) error {
	b.openConsole(port, name)
	if b.power == nil {
		return b.step(ctx, "attach", false, func(context.Context) error { return b.Session.Send("\r") })
	}
	if err := b.step(ctx, "power on", false, b.power.On); err != nil {
		return err
	}
	return b.step(ctx, "boot", false, b.boot)
}

func (c Config) withDefaults() Config {
	if c.BootTimeout == 0 {
		c.BootTimeout = 90 * time.Second
	}
	if c.MountWait == 0 {
		c.MountWait = 15 * time.Second
	}
	if c.Tap == "" {
		c.Tap = lab.DefaultTap
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

// wire connects bootrig to the board: its console port, open, and its
// power switch (b.power; none for a board that runs already).
func (b *Board) wire(ctx context.Context) (serialcon.Port, string, error) {
	switch {
	case b.cfg.Attach:
		return b.wireAttached(ctx)
	case b.cfg.Board.QEMU == nil:
		return b.wireReal(ctx)
	}
	return b.wireLab(ctx)
}

// wireLab writes the environment where U-Boot loads it from (unless it
// is to be typed or kept), starts QEMU with its CPU paused and opens its
// console.
func (b *Board) wireLab(ctx context.Context) (serialcon.Port, string, error) {
	c := b.cfg
	if st, err := lab.LoadState(c.State); err == nil {
		return nil, "", fmt.Errorf("board %s already runs (QEMU pid %d): join it with bootrig up --attach, or stop it with kill %d", c.Board.Name, st.QEMUPid, st.QEMUPid)
	}
	q, err := lab.FromBuild(c.Board, c.State, c.Tap, c.Out)
	if err != nil {
		return nil, "", err
	}
	q.MAC = c.MAC
	if !c.TypeEnv && !c.SavedEnv {
		img, err := uboot.EnvImage{Size: int(c.Board.QEMU.EnvSize), Pad: uboot.ErasedByte}.Marshal(withBootDelay(FlashEnv(c.Board, c.Netboot), c.BootDelay))
		if err != nil {
			return nil, "", fmt.Errorf("environment image: %w", err)
		}
		if err := q.WriteEnv(ctx, img); err != nil {
			return nil, "", err
		}
	}
	m, err := lab.StartWith(ctx, q, lab.Options{Keep: c.Keep})
	if err != nil {
		return nil, "", err
	}
	b.Machine, b.power = m, machinePower{m}
	port, err := serialcon.Open(ctx, m.ConsolePath())
	if err != nil {
		return nil, "", err
	}
	// Recorded also without Keep (Close clears it): bootrig ps and
	// power find the running board by it.
	st := lab.State{Board: c.Board.Name, QEMUPid: m.Pid(), Console: m.ConsolePath(), QMP: q.QMP,
		SerialLog: q.SerialLog, Tap: c.Tap, ServerIP: c.Netboot.ServerIP.String(),
		Name: c.Name, BoardIP: c.Netboot.BoardIP.String(), Started: time.Now(), Consoles: c.Consoles, BootDelay: c.BootDelay}
	if err := st.Save(c.State); err != nil {
		port.Close()
		return nil, "", err
	}
	return port, m.ConsolePath(), nil
}

// openConsole starts the console session on port (called name in
// errors), with the boot's phases counted from now.
func (b *Board) openConsole(port serialcon.Port, name string) {
	b.Phases = serialcon.NewPhases(time.Now(), b.shell)
	b.Session = serialcon.NewSession(port, serialcon.Options{Name: name, Log: b.cfg.Log, Raw: b.cfg.Raw, Phases: b.Phases})
	if b.cfg.Console != nil {
		b.detach = b.Session.Attach(b.cfg.Console)
	}
	if b.cfg.OnConsole != nil {
		b.cfg.OnConsole(b.Session)
	}
}

// wireReal opens a real board's console; its power is its power command,
// or the user pressing reset.
func (b *Board) wireReal(ctx context.Context) (serialcon.Port, string, error) {
	if b.cfg.Port == "" {
		return nil, "", fmt.Errorf("board %s: no console port (give --port SPEC or set serial.port in the profile)", b.cfg.Board.Name)
	}
	port, err := serialcon.Open(ctx, b.cfg.Port)
	if err != nil {
		return nil, "", err
	}
	b.power = resetButton{notes: b.cfg.Notes, board: b.cfg.Board.Name, port: b.cfg.Port}
	if len(b.cfg.PowerCmd) > 0 {
		b.power = commandPower(b.cfg.PowerCmd)
	}
	return port, b.cfg.Port, nil
}

// wireAttached opens the console of an emulated board that runs already.
func (b *Board) wireAttached(ctx context.Context) (serialcon.Port, string, error) {
	st, err := lab.LoadState(b.cfg.State)
	if err != nil {
		return nil, "", err
	}
	port, err := serialcon.Open(ctx, st.Console)
	return port, st.Console, err
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
	if b.power != nil && !keep {
		errs = append(errs, b.power.Off(ctx))
	}
	if b.Machine != nil && !keep {
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
