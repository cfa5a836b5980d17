package serialcon

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// device is a tty through go.bug.st/serial, locked with flock like picocom
// does so two programs do not share one console.
type device struct {
	serial.Port
	path string
	lock *os.File // also the descriptor its termios is read and set on
}

func openDevice(sp Spec) (*device, error) {
	mode := serial.Mode{BaudRate: sp.Baud, DataBits: sp.DataBits, StopBits: serial.OneStopBit}
	if sp.StopBits == 2 {
		mode.StopBits = serial.TwoStopBits
	}
	mode.Parity = map[byte]serial.Parity{'N': serial.NoParity, 'E': serial.EvenParity, 'O': serial.OddParity,
		'M': serial.MarkParity, 'S': serial.SpaceParity}[sp.Parity]
	lock, err := os.OpenFile(sp.Addr, os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, portError(sp.Addr, err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return nil, portError(sp.Addr, syscall.EBUSY)
	}
	p, err := serial.Open(sp.Addr, &mode)
	if err != nil {
		lock.Close()
		return nil, portError(sp.Addr, err)
	}
	return &device{Port: p, path: sp.Addr, lock: lock}, nil
}

// portError turns an open error into one that names the port and the fix.
func portError(path string, err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortBusy:
			err = syscall.EBUSY
		case serial.PermissionDenied:
			err = syscall.EACCES
		case serial.PortNotFound:
			err = syscall.ENOENT
		}
	}
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENXIO), errors.Is(err, syscall.ENODEV):
		return fmt.Errorf("%w: %s does not exist: is the USB serial adapter plugged in? (ls /dev/serial/by-id)", ErrPortNotFound, path)
	case errors.Is(err, syscall.EBUSY), errors.Is(err, syscall.EWOULDBLOCK):
		return fmt.Errorf("%w: %s is in use by another program (find it with: fuser -v %s)", ErrPortBusy, path, path)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w: %s: add yourself to the dialout group: sudo usermod -aG dialout $USER, then log in again", ErrPermission, path)
	}
	return fmt.Errorf("serial port %s: %w", path, err)
}

// Read blocks until at least one byte arrives: go.bug.st/serial returns
// (0, nil) when a read timeout expires, which io.Reader callers take for
// a stalled stream.
func (d *device) Read(p []byte) (int, error) {
	for {
		n, err := d.Port.Read(p)
		if n > 0 || err != nil {
			if err != nil {
				var pe *serial.PortError
				if errors.As(err, &pe) && pe.Code() == serial.PortClosed {
					return n, fmt.Errorf("serial port %s: %w", d.path, os.ErrClosed)
				}
			}
			return n, err
		}
	}
}

// Write writes all of p.
func (d *device) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := d.Port.Write(p[done:])
		done += n
		if err != nil {
			return done, fmt.Errorf("serial port %s: %w", d.path, err)
		}
	}
	return done, nil
}

// Break sends a break; a pty has no line to break, so it is a no-op there.
func (d *device) Break(t time.Duration) error {
	err := d.Port.Break(t)
	if errors.Is(err, syscall.ENOTTY) || errors.Is(err, syscall.EINVAL) {
		return nil
	}
	return err
}

// SetBaud changes the line speed alone.
func (d *device) SetBaud(baud int) error {
	l, err := d.Line()
	if err != nil {
		return err
	}
	l.Baud = baud
	_, err = d.SetLine(l)
	return err
}

// Close closes the port and releases the lock.
func (d *device) Close() error {
	err := d.Port.Close()
	d.lock.Close()
	return err
}
