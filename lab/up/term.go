package up

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// escapeKey (Ctrl-]) starts a console command: q quits, b sends a break.
const escapeKey = 0x1d

// Interact hands the board's console to a terminal until the user types
// Ctrl-] q, ctx ends or the console closes. in is put in raw mode when it
// is a terminal. Set attach when the console's output is not already
// shown on out (Config.Console).
func (b *Board) Interact(ctx context.Context, in *os.File, out io.Writer, attach bool) error {
	if fd := int(in.Fd()); term.IsTerminal(fd) {
		old, err := term.MakeRaw(fd)
		if err != nil {
			return fmt.Errorf("console: raw mode on %s: %w", in.Name(), err)
		}
		defer term.Restore(fd, old)
	}
	if attach {
		defer b.Session.Attach(out)()
	}
	fmt.Fprintf(out, "\r\n[bootrig: console of %s; Ctrl-] q quits, Ctrl-] b sends a break]\r\n", b.cfg.Board.Name)
	quit := make(chan error, 1)
	go func() { quit <- b.keys(in) }()
	select {
	case err := <-quit:
		return err
	case <-ctx.Done():
		return nil
	case <-b.Session.Done():
		return fmt.Errorf("console closed: %w", b.Session.Err())
	}
}

// keys copies what the user types to the board, handling Ctrl-].
func (b *Board) keys(in io.Reader) error {
	buf := make([]byte, 256)
	escaped := false
	for {
		n, err := in.Read(buf)
		if err != nil {
			return nil // end of input: leave the console
		}
		var send []byte
		for _, c := range buf[:n] {
			switch {
			case escaped && c == 'q':
				return nil
			case escaped && c == 'b':
				b.Session.Break(250 * time.Millisecond)
			case escaped && c != escapeKey:
				send = append(send, escapeKey, c)
			case !escaped && c == escapeKey:
				escaped = true
				continue
			default:
				send = append(send, c)
			}
			escaped = false
		}
		if len(send) > 0 {
			if _, err := b.Session.Write(send); err != nil {
				return err
			}
		}
	}
}
