package up

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bootrig/bootrig/serialcon/terminal"
)

// Interact hands the board's console to a terminal until the user types
// Ctrl-] q, the input ends, ctx ends or the console closes (the keys are
// [terminal]'s). in is put in raw mode when it is a terminal. Set attach
// when the console's output is not already shown on out
// (Config.Console). Ctrl-] r runs the power command of a real board.
func (b *Board) Interact(ctx context.Context, in *os.File, out io.Writer, attach bool) error {
	restore, err := terminal.Raw(in)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	defer restore()
	if attach {
		defer b.Session.Attach(out)()
	}
	fmt.Fprintf(out, "\r\n[bootrig: console of %s; %s]\r\n", b.cfg.Board.Name, terminal.KeyMap)
	t := terminal.Terminal{Console: b.Session, In: in, Msg: out,
		NoPower: fmt.Sprintf("board %s has none (bootrig up --power-cmd, for a real board)", b.cfg.Board.Name)}
	if b.cfg.Board.QEMU == nil && len(b.cfg.PowerCmd) > 0 {
		t.PowerCycle = terminal.PowerCommand(b.cfg.PowerCmd)
	}
	if err := t.Run(ctx); !errors.Is(err, terminal.ErrInputEnded) {
		return err
	}
	return nil // end of input: leave the console
}
