package serialcon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Port is an open console: bytes from the board on Read, to it on Write.
type Port interface {
	io.ReadWriteCloser
}

// Breaker is a port that can send a break condition. A pty ignores it.
type Breaker interface {
	Break(d time.Duration) error
}

// BaudSetter is a port whose line speed can be changed after opening.
type BaudSetter interface {
	SetBaud(baud int) error
}

// Errors opening a port; they wrap the cause and name the port and the fix.
var (
	ErrPortNotFound = errors.New("serial port not found")
	ErrPortBusy     = errors.New("serial port busy")
	ErrPermission   = errors.New("permission denied on serial port")
)

// Open opens the port a spec string names (see [ParseSpec]).
func Open(ctx context.Context, spec string) (Port, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	return OpenSpec(ctx, sp)
}

// OpenSpec opens a parsed spec.
func OpenSpec(ctx context.Context, sp Spec) (Port, error) {
	switch sp.Kind {
	case Device:
		d, err := openDevice(sp)
		if err != nil {
			return nil, err
		}
		return d, nil
	case TCP, Unix:
		network := "tcp"
		if sp.Kind == Unix {
			network = "unix"
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, sp.Addr)
		if err != nil {
			return nil, fmt.Errorf("console %s: %w (is the board, ser2net or QEMU listening there?)", sp.Addr, err)
		}
		return c, nil
	case RFC2217:
		t, err := dialRFC2217(ctx, sp)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
	return nil, fmt.Errorf("port spec %s: unknown kind %q", sp, sp.Kind)
}
