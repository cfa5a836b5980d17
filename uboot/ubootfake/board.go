package ubootfake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Board is a fake board. Its Read, Write and Close make it a console port.
type Board struct {
	d      Dialect
	second time.Duration

	mu           sync.Mutex
	cond         *sync.Cond
	in           []byte // arrived, not yet taken by the CPU
	out          []byte // printed, not yet read
	closed       bool
	lastIn       time.Time
	received     int
	dropped      int
	resetPending bool
	noise        *rand.Rand
	resets       int
	env          map[string]string
	saved        map[string]string // nil: nothing saved (bad CRC at power-on)
	typed        []string          // lines executed
	quit         chan struct{}
	wg           sync.WaitGroup

	powered bool               // the power switch is on
	cut     bool               // the power went off: the CPU stops at its next wait
	stop    context.CancelFunc // ends the CPU's context (the kernel's mount) at a cut
	tftp    map[string]int     // the TFTP server's files and sizes; nil: no server answers
	kernel  Kernel
	ram     map[uint64]loaded // what tftp loaded, by address
}

// loaded is a file tftp put in RAM.
type loaded struct {
	name string
	size int
}

// Option changes a board.
type Option func(*Board)

// WithSecond sets how long a countdown second lasts (default 250ms, so
// tests do not wait real seconds).
func WithSecond(d time.Duration) Option { return func(b *Board) { b.second = d } }

// WithPowerOff makes a board that stays off until [Board.PowerOn], as
// one whose console is opened before its power comes on.
func WithPowerOff() Option { return func(b *Board) { b.powered = false } }

// WithTFTP gives the board's network a TFTP server at serverip with
// these files (name: size in bytes). A file it lacks is the server's
// "File not found"; without WithTFTP no server answers.
func WithTFTP(files map[string]int) Option {
	return func(b *Board) { b.tftp = maps.Clone(files) }
}

// WithKernel sets what the board's Linux does once bootm starts it.
func WithKernel(k Kernel) Option { return func(b *Board) { b.kernel = k } }

// WithSaved gives the board a saved environment, as if saveenv ran before.
func WithSaved(env map[string]string) Option {
	return func(b *Board) { b.saved = maps.Clone(env) }
}

// New makes a board and powers it on (unless [WithPowerOff]).
func New(d Dialect, opts ...Option) *Board {
	b := &Board{d: d, second: 250 * time.Millisecond, quit: make(chan struct{}), noise: rand.New(rand.NewPCG(2217, 115200)), powered: true}
	b.cond = sync.NewCond(&b.mu)
	for _, o := range opts {
		o(b)
	}
	b.wg.Add(1)
	go b.run()
	return b
}

// Write is bytes arriving at the board's UART.
func (b *Board) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, os.ErrClosed
	}
	if !b.powered { // the UART has no power: the bytes go nowhere
		return len(p), nil
	}
	for _, c := range p {
		now := time.Now()
		gap := now.Sub(b.lastIn)
		b.lastIn = now
		b.received++
		switch {
		case b.d.MinGap > 0 && gap < b.d.MinGap,
			b.d.FIFO > 0 && len(b.in) >= b.d.FIFO,
			b.d.LossOneIn > 0 && b.noise.IntN(b.d.LossOneIn) == 0:
			b.dropped++
			continue
		}
		b.in = append(b.in, c)
		if b.d.ResetEvery > 0 && b.received%b.d.ResetEvery == 0 {
			b.resets++
			b.in, b.resetPending = b.in[:0], true
		}
	}
	b.cond.Broadcast()
	return len(p), nil
}

// Read is what the board printed.
func (b *Board) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.out) == 0 && !b.closed {
		b.cond.Wait()
	}
	if len(b.out) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

// PowerOn switches the power on: the board starts from reset (banner,
// environment, countdown). A board that is on stays as it is.
func (b *Board) PowerOn() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.powered = true
	b.cond.Broadcast()
}

// PowerOff switches the power off: the CPU stops where it is, what it
// had not printed yet and what arrives on the line until the next
// PowerOn are lost. The port stays open (the serial adapter is powered
// apart, as a USB one is).
func (b *Board) PowerOff() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cutPower()
}

func (b *Board) cutPower() {
	if !b.powered {
		return
	}
	b.powered, b.cut, b.in = false, true, b.in[:0]
	if b.stop != nil {
		b.stop()
	}
	b.cond.Broadcast()
}

// Close powers the board off and closes the port.
func (b *Board) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.cutPower()
	b.closed = true
	close(b.quit)
	b.cond.Broadcast()
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}

// Env is the environment in RAM.
func (b *Board) Env() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.env)
}

// Saved is the environment in flash; nil before any saveenv.
func (b *Board) Saved() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.saved)
}

// Stats are the line's counters: bytes received, lost, and resets.
func (b *Board) Stats() (received, dropped, resets int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.received, b.dropped, b.resets
}

// Lines are the command lines the board executed.
func (b *Board) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.typed...)
}

// print is the CPU's output; none after a power cut.
func (b *Board) print(s string) {
	b.mu.Lock()
	if b.cut || !b.powered {
		b.mu.Unlock()
		return
	}
	b.out = append(b.out, s...)
	b.cond.Broadcast()
	b.mu.Unlock()
}

func (b *Board) printf(format string, a ...any) { b.print(fmt.Sprintf(format, a...)) }

var (
	errOff   = errors.New("closed")
	errCut   = errors.New("powered off")
	errReset = errors.New("reset")
)

// getc takes the next input byte, waiting at most d (forever if d < 0).
// ok is false on timeout.
func (b *Board) getc(d time.Duration) (c byte, ok bool, err error) {
	deadline := time.Now().Add(d)
	if d >= 0 {
		defer b.wakeAt(deadline)()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.in) == 0 && !b.closed && !b.cut && !b.resetPending && (d < 0 || time.Now().Before(deadline)) {
		b.cond.Wait()
	}
	switch {
	case b.closed:
		return 0, false, errOff
	case b.cut:
		return 0, false, errCut
	case b.resetPending:
		b.resetPending = false
		return 0, false, errReset
	case len(b.in) == 0:
		return 0, false, nil
	}
	c = b.in[0]
	b.in = b.in[1:]
	return c, true, nil
}

// wakeAt wakes the board's waits at deadline, so that one whose time is
// up sees it; it returns what stops the timer. The deadline is taken
// before the timer starts: the timer cannot fire before it.
func (b *Board) wakeAt(deadline time.Time) (stop func()) {
	t := time.AfterFunc(time.Until(deadline), func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	return func() { t.Stop() }
}

// sleep waits d, as the CPU busy with something; a power cut or close
// ends it.
func (b *Board) sleep(d time.Duration) error {
	deadline := time.Now().Add(d)
	defer b.wakeAt(deadline)()
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.closed && !b.cut && time.Now().Before(deadline) {
		b.cond.Wait()
	}
	switch {
	case b.closed:
		return errOff
	case b.cut:
		return errCut
	}
	return nil
}

// run is the CPU: from each power-on or reset until the next reset or
// power cut, until the board is closed.
func (b *Board) run() {
	defer b.wg.Done()
	for {
		b.mu.Lock()
		for !b.powered && !b.closed {
			b.cond.Wait()
		}
		if b.closed {
			b.mu.Unlock()
			return
		}
		b.cut = false
		ctx, stop := context.WithCancel(context.Background())
		b.stop = stop
		b.mu.Unlock()
		err := b.powerOn(ctx)
		stop()
		if errors.Is(err, errOff) {
			return
		}
	}
}

// powerOn runs from reset until the next reset or power-off: U-Boot's
// board_init_r, then its main loop (autoboot, the command line).
func (b *Board) powerOn(ctx context.Context) error {
	b.print("\r\n\r\n" + b.d.Banner + "\r\n\r\nDRAM:  64 MiB\r\n")
	if b.d.EnvFrom != "" {
		b.print("Loading Environment from " + b.d.EnvFrom + "... ")
	}
	b.mu.Lock()
	b.ram = map[uint64]loaded{} // RAM does not survive a reset in the fake
	if b.saved == nil {
		b.env = maps.Clone(b.d.Defaults)
		b.mu.Unlock()
		b.print("*** Warning - bad CRC, using default environment\r\n\r\n")
	} else {
		b.env = maps.Clone(b.saved)
		b.mu.Unlock()
		if b.d.EnvFrom != "" {
			b.print("OK\r\n")
		}
	}
	b.print("In:    serial\r\nOut:   serial\r\nErr:   serial\r\n")
	boot, err := b.autoboot()
	if err != nil {
		return err
	}
	if boot {
		// main_loop: run_command_list(bootcmd); the command line
		// follows when it returns.
		if err := b.runLine(ctx, b.getenv("bootcmd")); err != nil {
			return err
		}
	}
	return b.cli(ctx)
}

// autoboot is U-Boot's bootdelay_process and abortboot: bootdelay from
// the environment (the dialect's when unset); -1 turns autoboot off, -2
// boots without a countdown; else the countdown, which a key already
// waiting or one pressed within bootdelay seconds stops.
func (b *Board) autoboot() (bool, error) {
	n, err := strconv.Atoi(b.getenv("bootdelay"))
	if err != nil {
		n = b.d.Bootdelay
	}
	switch {
	case n == -1:
		return false, nil
	case n < -1:
		return true, nil
	}
	stopped, err := b.countdown(n)
	return !stopped, err
}

// countdown is U-Boot's abortboot: a key already waiting, or one pressed
// within n seconds, stops it.
func (b *Board) countdown(n int) (bool, error) {
	if b.d.OldCountdown {
		b.printf("\r\n%2d ", n)
	} else {
		b.printf("Hit any key to stop autoboot: %2d ", n)
	}
	if _, ok, err := b.getc(0); err != nil || ok {
		if ok {
			b.print("\b\b\b 0 \r\n")
		}
		return ok, err
	}
	for ; n > 0; n-- {
		_, ok, err := b.getc(b.second)
		if err != nil {
			return false, err
		}
		if ok {
			b.print("\b\b\b 0 \r\n")
			return true, nil
		}
		b.printf("\b\b\b%2d ", n-1)
	}
	b.print("\r\n")
	return false, nil
}

// cli reads and runs command lines until a reset.
func (b *Board) cli(ctx context.Context) error {
	for {
		b.print(b.d.Prompt)
		line, err := b.readline(b.d.Prompt)
		switch {
		case errors.Is(err, errInterrupt):
			b.print("<INTERRUPT>\r\n") // old main_loop and modern cli_simple_loop alike
			continue
		case err != nil:
			return err
		}
		b.mu.Lock()
		b.typed = append(b.typed, line)
		b.mu.Unlock()
		if err := b.runLine(ctx, line); err != nil {
			return err
		}
	}
}

var errInterrupt = errors.New("^C")

// readline edits one line like U-Boot's: echo, backspace, ^U, ^C, the
// buffer limit.
func (b *Board) readline(prompt string) (string, error) {
	var line []byte
	limit := b.d.CBSize - 2
	for {
		c, _, err := b.getc(-1)
		if err != nil {
			return "", err
		}
		switch {
		case c == '\r' || c == '\n':
			b.print("\r\n")
			return string(line), nil
		case c == 0x03:
			return "", errInterrupt
		case c == 0x15:
			b.print(strings.Repeat("\b \b", len(line)))
			line = line[:0]
		case c == 0x08 || c == 0x7f:
			if len(line) > 0 {
				line = line[:len(line)-1]
				b.print("\b \b")
			}
		case c == '\t':
			b.print("\a")
		case c < 0x20 || c >= 0x7f:
		case len(line) >= limit && b.d.Truncate:
			b.print(string(c))
		case len(line) >= limit:
			b.print("\a")
		default:
			line = append(line, c)
			b.print(string(c))
		}
	}
}

// runLine parses and runs a line.
func (b *Board) runLine(ctx context.Context, line string) error {
	var cmds [][]string
	if b.d.Hush {
		cmds = b.parseHush(line)
	} else {
		cmds = b.parseSimple(line)
	}
	for _, args := range cmds {
		if len(args) == 0 {
			continue
		}
		if err := b.command(ctx, args); err != nil {
			return err
		}
	}
	return nil
}

func (b *Board) command(ctx context.Context, args []string) error {
	if len(args) > b.d.MaxArgs {
		b.printf("** Too many args (max. %d) **\r\n", b.d.MaxArgs)
		args = args[:b.d.MaxArgs]
	}
	switch args[0] {
	case "setenv":
		if len(args) < 2 {
			b.print("setenv - set environment variables\r\n\r\nUsage:\r\nsetenv name value ...\r\n")
			return nil
		}
		b.mu.Lock()
		if len(args) == 2 {
			delete(b.env, args[1])
		} else {
			b.env[args[1]] = strings.Join(args[2:], " ")
		}
		b.mu.Unlock()
	case "printenv":
		b.printenv(args[1:])
	case "echo":
		b.print(strings.Join(args[1:], " ") + "\r\n")
	case "saveenv":
		if b.d.SaveMessage == "" {
			b.print("Saving Environment to Flash... Flash buffer write timeout at address 4000000\r\nFAILED\r\n")
			return nil
		}
		b.mu.Lock()
		b.saved = maps.Clone(b.env)
		b.mu.Unlock()
		b.print(b.d.SaveMessage + "\r\n")
	case "reset":
		b.print("resetting ...\r\n")
		return errReset
	case "boot": // do_bootd: run bootcmd
		return b.run1(ctx, "bootcmd")
	case "run":
		for _, name := range args[1:] {
			if err := b.run1(ctx, name); err != nil {
				return err
			}
		}
	case "tftp", "tftpboot":
		return b.tftpboot(args[1:])
	case "bootm":
		return b.bootm(ctx, args[1:])
	case "nboot":
		if b.d.NANDKernel > 0 {
			b.nboot(args[1:])
			return nil
		}
		b.printf("Unknown command '%s' - try 'help'\r\n", args[0])
	default:
		b.printf("Unknown command '%s' - try 'help'\r\n", args[0])
	}
	return nil
}

func (b *Board) printenv(names []string) {
	b.mu.Lock()
	env := maps.Clone(b.env)
	b.mu.Unlock()
	if len(names) == 0 {
		keys := make([]string, 0, len(env))
		size := 0
		for k, v := range env {
			keys = append(keys, k)
			size += len(k) + len(v) + 2
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.print(k + "=" + env[k] + "\r\n")
		}
		b.printf("\r\nEnvironment size: %d/262140 bytes\r\n", size)
		return
	}
	for _, n := range names {
		if v, ok := env[n]; ok {
			b.print(n + "=" + v + "\r\n")
		} else {
			b.printf("## Error: \"%s\" not defined\r\n", n)
		}
	}
}

// run1 is run VAR: the variable's commands, as if typed.
func (b *Board) run1(ctx context.Context, name string) error {
	b.mu.Lock()
	cmd, ok := b.env[name]
	b.mu.Unlock()
	if !ok {
		b.printf("## Error: \"%s\" not defined\r\n", name)
		return nil
	}
	return b.runLine(ctx, cmd)
}

// Serve exposes the board's console on l, one connection at a time (a new
// one takes over), as ser2net's raw TCP mode does. What the board prints
// while nobody is connected is lost, as on a real line. It returns when l
// is closed.
func (b *Board) Serve(l net.Listener) error {
	var mu sync.Mutex
	var cur net.Conn
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := b.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			if cur != nil {
				cur.Write(buf[:n])
			}
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		if cur != nil {
			cur.Close()
		}
		mu.Unlock()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		mu.Lock()
		if cur != nil {
			cur.Close()
		}
		cur = c
		mu.Unlock()
		go io.Copy(b, c)
	}
}
