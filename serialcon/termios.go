package serialcon

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// termios speeds: the standard rates have a code of their own (which
// glibc's cfgetospeed and stty read); any other goes as BOTHER with the
// rate in c_ospeed.
var speedCodes = map[int]uint32{
	50: unix.B50, 75: unix.B75, 110: unix.B110, 134: unix.B134, 150: unix.B150, 200: unix.B200,
	300: unix.B300, 600: unix.B600, 1200: unix.B1200, 1800: unix.B1800, 2400: unix.B2400,
	4800: unix.B4800, 9600: unix.B9600, 19200: unix.B19200, 38400: unix.B38400,
	57600: unix.B57600, 115200: unix.B115200, 230400: unix.B230400, 460800: unix.B460800,
	500000: unix.B500000, 576000: unix.B576000, 921600: unix.B921600, 1000000: unix.B1000000,
	1152000: unix.B1152000, 1500000: unix.B1500000, 2000000: unix.B2000000,
	2500000: unix.B2500000, 3000000: unix.B3000000, 3500000: unix.B3500000, 4000000: unix.B4000000,
}

var dataBitsCodes = map[int]uint32{5: unix.CS5, 6: unix.CS6, 7: unix.CS7, 8: unix.CS8}

// parityFlags are the c_cflag bits of each parity.
var parityFlags = map[byte]uint32{
	'N': 0, 'E': unix.PARENB, 'O': unix.PARENB | unix.PARODD,
	'M': unix.PARENB | unix.PARODD | unix.CMSPAR, 'S': unix.PARENB | unix.CMSPAR,
}

// termiosLine is the line a termios describes.
func termiosLine(t *unix.Termios) Line {
	l := Line{Baud: int(t.Ospeed), DataBits: 8, Parity: 'N', StopBits: 1}
	for baud, code := range speedCodes {
		if t.Cflag&unix.CBAUD == code {
			l.Baud = baud
		}
	}
	for bits, code := range dataBitsCodes {
		if t.Cflag&unix.CSIZE == code {
			l.DataBits = bits
		}
	}
	for p, flags := range parityFlags {
		if t.Cflag&(unix.PARENB|unix.PARODD|unix.CMSPAR) == flags {
			l.Parity = p
		}
	}
	if t.Cflag&unix.CSTOPB != 0 {
		l.StopBits = 2
	}
	switch {
	case t.Cflag&unix.CRTSCTS != 0:
		l.Flow = FlowRTSCTS
	case t.Iflag&(unix.IXON|unix.IXOFF) == unix.IXON|unix.IXOFF:
		l.Flow = FlowXonXoff
	}
	return l
}

// setTermiosLine makes t describe l, leaving its other settings (raw
// mode, VMIN and VTIME) as they are.
func setTermiosLine(t *unix.Termios, l Line) {
	speed, ok := speedCodes[l.Baud]
	if !ok {
		speed = unix.BOTHER
	}
	t.Cflag &^= unix.CBAUD | unix.CIBAUD | unix.CSIZE | unix.PARENB | unix.PARODD | unix.CMSPAR | unix.CSTOPB | unix.CRTSCTS
	t.Cflag |= speed | dataBitsCodes[l.DataBits] | parityFlags[l.Parity]
	t.Ispeed, t.Ospeed = uint32(l.Baud), uint32(l.Baud)
	if l.StopBits == 2 {
		t.Cflag |= unix.CSTOPB
	}
	t.Iflag &^= unix.IXON | unix.IXOFF | unix.IXANY
	switch l.Flow {
	case FlowRTSCTS:
		t.Cflag |= unix.CRTSCTS
	case FlowXonXoff:
		t.Iflag |= unix.IXON | unix.IXOFF
	}
}

// Line is the tty's settings, read from its termios.
func (d *device) Line() (Line, error) {
	t, err := unix.IoctlGetTermios(int(d.lock.Fd()), unix.TCGETS2)
	if err != nil {
		return Line{}, fmt.Errorf("serial port %s: read termios: %w", d.path, err)
	}
	return termiosLine(t), nil
}

// SetLine sets the tty's speed, frame and flow control (termios, at
// once: what was queued goes out at the new speed) and returns them as
// the driver took them.
func (d *device) SetLine(l Line) (Line, error) {
	fd := int(d.lock.Fd()) // the same tty as the port's: termios is the tty's
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS2)
	if err != nil {
		return Line{}, fmt.Errorf("serial port %s: read termios: %w", d.path, err)
	}
	was := termiosLine(t)
	if err := l.check(); err != nil {
		return was, fmt.Errorf("serial port %s: %w", d.path, err)
	}
	setTermiosLine(t, l)
	if err := unix.IoctlSetTermios(fd, unix.TCSETS2, t); err != nil {
		return was, fmt.Errorf("serial port %s: set %s: %w", d.path, l, err)
	}
	return d.Line()
}
