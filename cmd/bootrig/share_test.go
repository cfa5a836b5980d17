package main

import (
	"net"
	"testing"

	"github.com/bootrig/bootrig/serialcon"
)

// TestShareLine: RFC 2217 clients set the line of a tty device only;
// TCP ports keep theirs; QEMU's pty gets the share's emulated UART.
func TestShareLine(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	sess := serialcon.NewSession(a, serialcon.Options{})
	defer sess.Close()
	for _, tc := range []struct {
		port string
		want serialcon.LineControl
	}{
		{"/dev/ttyUSB0", sess},
		{"/dev/ttyUSB0,9600", sess},
		{"", nil}, // QEMU's pty: the share's emulated UART
		{"tcp://127.0.0.1:4000,57600", serialcon.FixedLine{Baud: 57600, DataBits: 8, Parity: 'N', StopBits: 1}},
		{"rfc2217://farm:7001,38400,7E1", serialcon.FixedLine{Baud: 38400, DataBits: 7, Parity: 'E', StopBits: 1}},
	} {
		if got := shareLine(tc.port, sess); got != tc.want {
			t.Errorf("shareLine(%q) = %v, want %v", tc.port, got, tc.want)
		}
	}
}
