package serialcon

import (
	"fmt"
	"strconv"
	"strings"
)

// Spec is a parsed port spec string.
type Spec struct {
	Kind Kind   // which transport
	Addr string // device path, host:port or socket path
	// Line is the speed and frame: 115200 and 8N1 unless given; no flow
	// control.
	Line
}

// Kind is a transport.
type Kind string

// Transports.
const (
	Device  Kind = "device"  // a tty device or pty, through go.bug.st/serial
	TCP     Kind = "tcp"     // raw TCP, as ser2net's raw mode and qemu -serial tcp give
	RFC2217 Kind = "rfc2217" // Telnet with COM-PORT-OPTION: the baud rate is set over the wire
	Unix    Kind = "unix"    // a unix socket, as qemu -serial unix gives
)

// Default line settings.
const (
	DefaultBaud = 115200
)

// ParseSpec parses a port spec: a device path ("/dev/ttyUSB0"),
// "tcp://host:port", "rfc2217://host:port" or "unix:PATH", optionally
// followed by ",BAUD" and ",FRAME" where FRAME is data bits, parity and stop
// bits ("8N1", "7E1"): "/dev/ttyUSB0,115200,8N1".
func ParseSpec(s string) (Spec, error) {
	sp := Spec{Line: Line{Baud: DefaultBaud, DataBits: 8, Parity: 'N', StopBits: 1}}
	if s == "" {
		return sp, fmt.Errorf("empty port spec (want /dev/ttyUSB0, tcp://host:port, rfc2217://host:port or unix:PATH)")
	}
	parts := strings.Split(s, ",")
	addr := parts[0]
	switch {
	case strings.HasPrefix(addr, "tcp://"):
		sp.Kind, sp.Addr = TCP, strings.TrimPrefix(addr, "tcp://")
	case strings.HasPrefix(addr, "rfc2217://"):
		sp.Kind, sp.Addr = RFC2217, strings.TrimPrefix(addr, "rfc2217://")
	case strings.HasPrefix(addr, "telnet://"):
		sp.Kind, sp.Addr = RFC2217, strings.TrimPrefix(addr, "telnet://")
	case strings.HasPrefix(addr, "unix:"):
		sp.Kind, sp.Addr = Unix, strings.TrimPrefix(strings.TrimPrefix(addr, "unix:"), "//")
	case strings.Contains(addr, "://"):
		return sp, fmt.Errorf("port spec %q: unknown scheme (want tcp://, rfc2217:// or unix:)", s)
	default:
		sp.Kind, sp.Addr = Device, addr
	}
	if sp.Addr == "" {
		return sp, fmt.Errorf("port spec %q: no address", s)
	}
	if (sp.Kind == TCP || sp.Kind == RFC2217) && !strings.Contains(sp.Addr, ":") {
		return sp, fmt.Errorf("port spec %q: want host:port after the scheme", s)
	}
	if len(parts) > 3 {
		return sp, fmt.Errorf("port spec %q: too many fields (want SPEC[,BAUD[,8N1]])", s)
	}
	if len(parts) > 1 {
		b, err := strconv.Atoi(parts[1])
		if err != nil || b <= 0 {
			return sp, fmt.Errorf("port spec %q: baud %q is not a positive number", s, parts[1])
		}
		sp.Baud = b
	}
	if len(parts) > 2 {
		if err := sp.parseFrame(parts[2]); err != nil {
			return sp, fmt.Errorf("port spec %q: %w", s, err)
		}
	}
	return sp, nil
}

func (sp *Spec) parseFrame(f string) error {
	f = strings.ToUpper(f)
	if len(f) != 3 || f[0] < '5' || f[0] > '8' || !strings.ContainsRune("NEOMS", rune(f[1])) || (f[2] != '1' && f[2] != '2') {
		return fmt.Errorf("frame %q: want data bits 5-8, parity N/E/O/M/S, stop bits 1/2, like 8N1", f)
	}
	sp.DataBits, sp.Parity, sp.StopBits = int(f[0]-'0'), f[1], int(f[2]-'0')
	return nil
}

// String gives the spec back in the form ParseSpec reads.
func (sp Spec) String() string {
	var a string
	switch sp.Kind {
	case Device:
		a = sp.Addr
	case Unix:
		a = "unix:" + sp.Addr
		if strings.HasPrefix(sp.Addr, "//") {
			// ParseSpec strips one "//" after "unix:" (the URL form), so a
			// path that starts with "//" needs it written out.
			a = "unix://" + sp.Addr
		}
	default:
		a = string(sp.Kind) + "://" + sp.Addr
	}
	return a + "," + sp.frame()
}
