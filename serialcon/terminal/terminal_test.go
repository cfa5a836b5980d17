package terminal

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// board is a Console that records what it is sent.
type board struct {
	mu     sync.Mutex
	got    bytes.Buffer
	breaks int
	done   chan struct{}
	err    error
}

func newBoard() *board { return &board{done: make(chan struct{})} }

func (b *board) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.got.Write(p)
}

func (b *board) Break(time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.breaks++
	return nil
}

func (b *board) Done() <-chan struct{} { return b.done }
func (b *board) Err() error            { return b.err }

// chunks is an input whose every Read returns one chunk, then io.EOF.
type chunks []string

func (c *chunks) Read(p []byte) (int, error) {
	if len(*c) == 0 {
		return 0, io.EOF
	}
	n := copy(p, (*c)[0])
	*c = (*c)[1:]
	return n, nil
}

func TestTerminalRun(t *testing.T) {
	cycleErr := errors.New("relay: no answer")
	for _, tc := range []struct {
		name    string
		in      chunks
		power   func(context.Context) error
		wantErr error
		sent    string
		breaks  int
		cycles  int
		msg     string // in bootrig's messages
	}{
		{name: "quit after keys", in: chunks{"ls\r", "\x1dq", "never"}, sent: "ls\r"},
		{name: "input ends", in: chunks{"printenv\r"}, wantErr: ErrInputEnded, sent: "printenv\r"},
		{name: "break", in: chunks{"\x1db\x1dq"}, breaks: 1},
		{name: "power cycle", in: chunks{"\x1dr\x1dq"}, power: func(context.Context) error { return nil }, cycles: 1, msg: "bootrig: power-cycled"},
		{name: "power cycle fails", in: chunks{"\x1dr\x1dq"}, power: func(context.Context) error { return cycleErr }, cycles: 1, msg: "relay: no answer"},
		{name: "no power command", in: chunks{"\x1dr\x1dq"}, msg: "no power-cycle command: give --power-cycle"},
		{name: "unknown key", in: chunks{"a\x1dxb\x1dq"}, sent: "ab", msg: `Ctrl-] 'x' is not a command: ` + KeyMap},
		{name: "literal Ctrl-]", in: chunks{"\x1d", "\x1d\x1dq"}, sent: "\x1d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBoard()
			var msg bytes.Buffer
			cycles := 0
			term := &Terminal{Console: b, In: &tc.in, Msg: &msg, NoPower: "give --power-cycle"}
			if tc.power != nil {
				term.PowerCycle = func(ctx context.Context) error { cycles++; return tc.power(ctx) }
			}
			err := term.Run(context.Background())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Run: %v, want %v", err, tc.wantErr)
			}
			if got := b.got.String(); got != tc.sent {
				t.Errorf("board got %q, want %q", got, tc.sent)
			}
			if b.breaks != tc.breaks || cycles != tc.cycles {
				t.Errorf("%d breaks and %d power cycles, want %d and %d", b.breaks, cycles, tc.breaks, tc.cycles)
			}
			if !strings.Contains(msg.String(), tc.msg) {
				t.Errorf("messages %q, want %q in them", msg.String(), tc.msg)
			}
		})
	}
}

func TestTerminalConsoleCloses(t *testing.T) {
	b := newBoard()
	b.err = io.ErrUnexpectedEOF
	close(b.done)
	in, w := io.Pipe() // the user types nothing
	defer w.Close()
	err := (&Terminal{Console: b, In: in, Msg: io.Discard}).Run(context.Background())
	if !errors.Is(err, ErrConsoleClosed) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Run: %v, want %v wrapping %v", err, ErrConsoleClosed, io.ErrUnexpectedEOF)
	}
}

func TestTerminalContextEnds(t *testing.T) {
	in, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (&Terminal{Console: newBoard(), In: in, Msg: io.Discard}).Run(ctx); err != nil {
		t.Fatalf("Run after ctx ended: %v, want nil", err)
	}
}

func TestPowerCommand(t *testing.T) {
	if err := PowerCommand([]string{"true"})(context.Background()); err != nil {
		t.Fatalf("true: %v", err)
	}
	err := PowerCommand([]string{"sh", "-c", "echo relay busy; exit 3"})(context.Background())
	if err == nil || !strings.Contains(err.Error(), "relay busy") {
		t.Fatalf("failing command: %v, want its output in the error", err)
	}
}

func TestIs(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer tty.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var none *os.File
	for _, tc := range []struct {
		name string
		v    any
		want bool
	}{
		{"pty", tty, true},
		{"pipe", w, false},
		{"regular file", f, false},
		{"buffer", &bytes.Buffer{}, false},
		{"nil file", none, false},
		{"nil", nil, false},
	} {
		if got := Is(tc.v); got != tc.want {
			t.Errorf("Is(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
