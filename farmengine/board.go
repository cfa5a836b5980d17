// Package farmengine is what bootrig tells a farm engine (labgrid, LAVA) about
// a board it runs: its profile, where its console is shared and how its
// power is switched. Packages labgrid and lava write a [Board] in their
// engine's format.
package farmengine

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/serialcon"
)

// ErrNoSharedConsole is returned for a board whose console is not served
// over RFC 2217 (bootrig up --share rfc2217://HOST:PORT).
var ErrNoSharedConsole = errors.New("the board's console is not shared over RFC 2217")

// Board is a running board as a farm engine is to reach it.
type Board struct {
	Profile *boards.Profile
	// Console is the RFC 2217 address its console is shared on
	// (rfc2217://HOST:PORT), from bootrig up --share.
	Console string
	// Power is the command that switches it (argv, no shell), to which
	// on, off or cycle is appended: bootrig power ... --name N.
	Power []string
}

// ConsoleAddr is the host and port of the shared console.
func (b Board) ConsoleAddr() (host string, port int, err error) {
	sp, err := serialcon.ParseSpec(b.Console)
	if err != nil || sp.Kind != serialcon.RFC2217 || !strings.HasPrefix(b.Console, "rfc2217://") {
		return "", 0, fmt.Errorf("console %q: %w (want rfc2217://HOST:PORT)", b.Console, ErrNoSharedConsole)
	}
	host, ps, err := net.SplitHostPort(sp.Addr)
	if err != nil {
		return "", 0, fmt.Errorf("console %q: %w", b.Console, err)
	}
	port, err = strconv.Atoi(ps)
	if err != nil {
		return "", 0, fmt.Errorf("console %q: port %q: %w", b.Console, ps, err)
	}
	return host, port, nil
}

// Baud is the console's speed: the profile's serial port's, else its
// Linux console's.
func (b Board) Baud() int {
	if b.Profile.Serial.Baud != 0 {
		return b.Profile.Serial.Baud
	}
	return b.Profile.Linux.Baud
}

// PowerCommand is the power command with action (on, off, cycle) as one
// line that Python's shlex.split and a POSIX shell split back into its
// argv: what labgrid's ExternalPowerDriver and LAVA's power commands run.
func (b Board) PowerCommand(action string) string {
	var words []string
	for _, w := range append(append([]string(nil), b.Power...), action) {
		words = append(words, shellQuote(w))
	}
	return strings.Join(words, " ")
}

// shellQuote quotes w for shlex (POSIX rules) from its first character
// that needs it ("/opt/boot' rig/bootrig'"), so that the line starts
// as a plain word where it can: LAVA writes it into YAML unquoted.
func shellQuote(w string) string {
	i := strings.IndexFunc(w, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	})
	switch {
	case w == "":
		return "''"
	case i < 0:
		return w
	}
	return w[:i] + "'" + strings.ReplaceAll(w[i:], "'", `'"'"'`) + "'"
}
