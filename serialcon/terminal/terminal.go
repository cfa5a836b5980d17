package terminal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/term"
)

// BreakLength is how long Ctrl-] b holds the line in break.
const BreakLength = 250 * time.Millisecond

// ErrInputEnded is returned by [Terminal.Run] when the user's input ends
// (a pipe or a file that was read to its end).
var ErrInputEnded = errors.New("terminal input ended")

// ErrConsoleClosed is wrapped by [Terminal.Run]'s error when the board's
// console closed under it.
var ErrConsoleClosed = errors.New("console closed")

// Console is the board's side: a serialcon.Session is one.
type Console interface {
	io.Writer
	Break(d time.Duration) error
	Done() <-chan struct{} // closed when the console stops
	Err() error            // why it stopped
}

// Terminal copies keys from In to Console, and runs the commands of the
// key map. The board's output is not its business: attach it to the
// screen beside (serialcon.Session.Attach).
type Terminal struct {
	Console Console
	In      io.Reader // the user's keys
	// Msg gets bootrig's own lines, ended "\r\n" for a raw terminal.
	Msg io.Writer
	// PowerCycle power-cycles the board for Ctrl-] r; nil when there is
	// no way to, and NoPower then says what would give one.
	PowerCycle func(context.Context) error
	NoPower    string
}

// Run copies keys until Ctrl-] q or ctx ends (nil), the input ends
// ([ErrInputEnded]), the console closes ([ErrConsoleClosed]) or a write
// to the board fails.
func (t *Terminal) Run(ctx context.Context) error {
	done := make(chan struct{})
	defer close(done)
	reads, rerr := readChunks(t.In, done)
	var keys Keys
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.Console.Done():
			return fmt.Errorf("%w: %w", ErrConsoleClosed, t.Console.Err())
		case err := <-rerr:
			if errors.Is(err, io.EOF) {
				return ErrInputEnded
			}
			return fmt.Errorf("terminal input: %w", err)
		case b := <-reads:
			quit, err := t.handle(ctx, keys.Feed(b))
			if quit || err != nil {
				return err
			}
		}
	}
}

// readChunks reads r in a goroutine until it fails or done is closed.
func readChunks(r io.Reader, done <-chan struct{}) (<-chan []byte, <-chan error) {
	reads, errc := make(chan []byte), make(chan error, 1)
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				select {
				case reads <- append([]byte(nil), buf[:n]...):
				case <-done:
					return
				}
			}
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	return reads, errc
}

// handle does what the events ask for, in order; quit is Ctrl-] q.
func (t *Terminal) handle(ctx context.Context, evs []Event) (quit bool, err error) {
	for _, ev := range evs {
		switch ev.Command {
		case 0:
			if _, err := t.Console.Write(ev.Send); err != nil {
				return false, fmt.Errorf("console: %w", err)
			}
		case Quit:
			return true, nil
		case Break:
			if err := t.Console.Break(BreakLength); err != nil {
				t.say("%v", err)
			}
		case PowerCycle:
			t.cycle(ctx)
		case ShowKeys:
			t.showKeys(ev.Key)
		}
	}
	return false, nil
}

func (t *Terminal) say(format string, a ...any) {
	fmt.Fprintf(t.Msg, "\r\nbootrig: "+format+"\r\n", a...)
}

func (t *Terminal) showKeys(k byte) {
	if k == '?' {
		t.say("%s", KeyMap)
		return
	}
	t.say("Ctrl-] %q is not a command: %s", k, KeyMap)
}

func (t *Terminal) cycle(ctx context.Context) {
	if t.PowerCycle == nil {
		t.say("no power-cycle command: %s", t.NoPower)
		return
	}
	if err := t.PowerCycle(ctx); err != nil {
		t.say("%v", err)
		return
	}
	t.say("power-cycled")
}

// PowerCommand is a PowerCycle that runs argv (no shell); its error
// carries the command's output.
func PowerCommand(argv []string) func(context.Context) error {
	return func(ctx context.Context) error {
		out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("power command %q: %w: %s", argv, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
}

// Is says whether v (a reader or writer: stdin, stdout, stderr) is a
// terminal: an *os.File open on one. Pipes, files and buffers are not.
func Is(v any) bool {
	f, ok := v.(*os.File)
	return ok && f != nil && term.IsTerminal(int(f.Fd()))
}

// Raw puts f in raw mode when it is a terminal, and returns what puts it
// back (nothing to do when f is no terminal).
func Raw(f *os.File) (restore func(), err error) {
	if !Is(f) {
		return func() {}, nil
	}
	fd := int(f.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("raw mode on %s: %w", f.Name(), err)
	}
	return func() { term.Restore(fd, old) }, nil
}
