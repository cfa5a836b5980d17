package serialcon

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestTermiosLine: each line's termios bits are those termios(3) names
// for it (a pty cannot show data size and parity: see TestDeviceSetLine),
// and they read back as the same line.
func TestTermiosLine(t *testing.T) {
	for _, tc := range []struct {
		line         Line
		cflag, iflag uint32
	}{
		{Line{Baud: 9600, DataBits: 7, Parity: 'E', StopBits: 2}, unix.B9600 | unix.CS7 | unix.PARENB | unix.CSTOPB, 0},
		{Line{Baud: 115200, DataBits: 8, Parity: 'N', StopBits: 1, Flow: FlowRTSCTS}, unix.B115200 | unix.CS8 | unix.CRTSCTS, 0},
		{Line{Baud: 300, DataBits: 5, Parity: 'O', StopBits: 1, Flow: FlowXonXoff}, unix.B300 | unix.CS5 | unix.PARENB | unix.PARODD, unix.IXON | unix.IXOFF},
		{Line{Baud: 19200, DataBits: 6, Parity: 'M', StopBits: 1}, unix.B19200 | unix.CS6 | unix.PARENB | unix.PARODD | unix.CMSPAR, 0},
		{Line{Baud: 4800, DataBits: 7, Parity: 'S', StopBits: 2}, unix.B4800 | unix.CS7 | unix.PARENB | unix.CMSPAR | unix.CSTOPB, 0},
		{Line{Baud: 250000, DataBits: 8, Parity: 'N', StopBits: 1}, unix.BOTHER | unix.CS8, 0},
	} {
		// Start from every bit set that a line owns, and the ones it
		// must leave alone (CREAD, CLOCAL, ICRNL).
		tio := unix.Termios{Cflag: 0xffffffff, Iflag: unix.IXON | unix.IXOFF | unix.IXANY | unix.ICRNL}
		setTermiosLine(&tio, tc.line)
		const line = unix.CBAUD | unix.CIBAUD | unix.CSIZE | unix.PARENB | unix.PARODD | unix.CMSPAR | unix.CSTOPB | unix.CRTSCTS
		if tio.Cflag&line != tc.cflag || tio.Cflag&(unix.CREAD|unix.CLOCAL) != unix.CREAD|unix.CLOCAL {
			t.Errorf("%s: c_cflag %#x, want %#x plus CREAD|CLOCAL kept", tc.line, tio.Cflag, tc.cflag)
		}
		if tio.Iflag != tc.iflag|unix.ICRNL {
			t.Errorf("%s: c_iflag %#x, want %#x", tc.line, tio.Iflag, tc.iflag|unix.ICRNL)
		}
		if got := termiosLine(&tio); got != tc.line {
			t.Errorf("%s reads back as %s", tc.line, got)
		}
	}
}
