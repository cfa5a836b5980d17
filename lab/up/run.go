package up

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrNoStatus is returned by Run when the command's end marker never
// came: the shell exited, or the board stopped.
var ErrNoStatus = errors.New("the command's exit status never arrived")

// Command is one command line run in the board's shell, framed by
// markers unique to it, so that neither the echo of what was typed nor
// kernel messages on the console can be taken for its output.
type Command struct {
	Line  string // what the user asked for
	nonce string
}

// NewCommand frames line with a fresh nonce.
func NewCommand(line string) Command {
	var b [6]byte
	rand.Read(b[:])
	return Command{Line: line, nonce: hex.EncodeToString(b[:])}
}

// Typed is the line typed into the shell. The markers are split by an
// empty quote pair (b”R...), so the echo never matches them; only the
// shell's own output does. The line runs in a subshell, so that "exit 3"
// ends it with status 3 rather than ending the board's login shell
// before the end marker is printed.
func (c Command) Typed() string {
	return fmt.Sprintf("echo b''R%sB; ( %s ); echo b''R%sE $?\r", c.nonce, c.Line, c.nonce)
}

func (c Command) begin() *regexp.Regexp {
	return regexp.MustCompile(`bR` + c.nonce + `B\r?\n`)
}

func (c Command) end() *regexp.Regexp {
	return regexp.MustCompile(`bR` + c.nonce + `E (\d+)\r?\n`)
}

// Run runs line in the board's shell and returns its output (line
// endings as on the host) and exit status. The board must be at its
// shell prompt; it is again when Run returns without error.
func (b *Board) Run(ctx context.Context, line string) (string, int, error) {
	if strings.ContainsAny(line, "\r\n") {
		return "", 0, fmt.Errorf("run %q: one line only (use ; or a script on the rootfs)", line)
	}
	c := NewCommand(line)
	if err := b.Session.Send(c.Typed()); err != nil {
		return "", 0, err
	}
	if _, err := b.Session.Expect(ctx, c.begin()); err != nil {
		return "", 0, fmt.Errorf("run %q: %w: %w", line, ErrNoStatus, err)
	}
	m, err := b.Session.Expect(ctx, c.end())
	if err != nil {
		return "", 0, fmt.Errorf("run %q: %w: %w", line, ErrNoStatus, err)
	}
	code, _ := strconv.Atoi(m.Groups[1])
	if _, err := b.Session.Expect(ctx, b.shell); err != nil {
		return "", 0, fmt.Errorf("run %q: no shell prompt after it: %w", line, err)
	}
	return strings.ReplaceAll(m.Before, "\r\n", "\n"), code, nil
}
