package up

import (
	"context"
	"fmt"
	"io"

	"github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/serialcon/terminal"
)

// powerSwitch is a board's power switch, as up works it: on once the
// board's console is open (so that no byte of the boot is missed), off
// when up is done with a board it does not keep.
type powerSwitch interface {
	On(ctx context.Context) error
	Off(ctx context.Context) error
}

// machinePower is the emulated board's switch: QEMU waits with its CPU
// paused until on; off ends QEMU, and with it the console's pty.
type machinePower struct{ m *lab.Machine }

func (p machinePower) On(ctx context.Context) error  { return p.m.Resume(ctx) }
func (p machinePower) Off(ctx context.Context) error { return p.m.PowerOff(ctx) }

// commandPower is a real board's power command (argv, no shell). It
// only powers the board on: the board stays on when bootrig exits.
type commandPower []string

func (p commandPower) On(ctx context.Context) error { return terminal.PowerCommand(p)(ctx) }
func (commandPower) Off(context.Context) error      { return nil }

// manualPower is a switch a person works: when the board is not where
// up needs it (Linux, not U-Boot), up can ask again.
type manualPower interface {
	powerSwitch
	Again(ctx context.Context) error
}

// resetButton is a real board with no power command: the user is asked
// to press its reset.
type resetButton struct {
	notes       io.Writer
	board, port string
}

func (r resetButton) On(context.Context) error {
	fmt.Fprintf(r.notes, "bootrig: press reset on the %s now (console %s)\n", r.board, r.port)
	return nil
}

func (resetButton) Off(context.Context) error { return nil }

// Again asks for the reset once more, the board having been found in
// Linux.
func (r resetButton) Again(context.Context) error {
	fmt.Fprintf(r.notes, "bootrig: the %s runs Linux, not U-Boot: press its reset now (console %s)\n", r.board, r.port)
	return nil
}
