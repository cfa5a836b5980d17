package serialcon

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"/dev/ttyUSB0", "/dev/ttyS0,9600,7E2", "tcp://h:1", "rfc2217://h:2,57600", "unix:/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			return
		}
		// What parses prints back to a spec that parses the same.
		again, err := ParseSpec(sp.String())
		if err != nil || again != sp {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, sp, sp.String(), again, err)
		}
	})
}

func FuzzPhases(f *testing.F) {
	f.Add([]byte("U-Boot 2023.01\r\nTFTP from server 1.2.3.4; our IP address is 1.2.3.5\r\nFilename 'x'.\r\nBytes transferred = 12 (c hex)\r\nStarting kernel ...\r\n/ # "))
	f.Fuzz(func(t *testing.T, b []byte) {
		start := time.Unix(0, 0)
		p := NewPhases(start, nil)
		for i := 0; i < len(b); i += 7 {
			p.Feed(b[i:min(i+7, len(b))], start.Add(time.Duration(i)*time.Millisecond))
		}
		s := p.Summary(start.Add(time.Hour))
		_ = s.String()
		for _, st := range s.Steps {
			if st.Duration < 0 {
				t.Fatalf("negative duration: %+v", st)
			}
		}
	})
}

// FuzzRFC2217Data: any data written through the Telnet escaping reads
// back the same, whatever Telnet commands the server puts between.
func FuzzRFC2217Data(f *testing.F) {
	f.Add([]byte("hello\xff\xff world"), []byte{tIAC, tWILL, optBinary})
	f.Fuzz(func(t *testing.T, data, cmd []byte) {
		// A well-formed command: DO/WILL x, or a COM-PORT reply.
		var between []byte
		if len(cmd) > 0 {
			switch cmd[0] % 3 {
			case 0:
				between = []byte{tIAC, tDO, 1}
			case 1:
				between = sub(cpSetBaud+cpServerOff, cmd...)
			}
		}
		var wire bytes.Buffer
		w := &rfc2217{conn: nopConn{w: &wire}}
		half := len(data) / 2
		w.Write(data[:half])
		wire.Write(between)
		w.Write(data[half:])
		r := &rfc2217{conn: nopConn{w: io.Discard}, r: bufio.NewReader(&wire), acks: map[byte][]byte{}}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %q, %v; wrote %q", got, err, data)
		}
	})
}

// nopConn is enough of a net.Conn for the codec.
type nopConn struct {
	net.Conn
	w io.Writer
}

func (c nopConn) Write(b []byte) (int, error) { return c.w.Write(b) }

// FuzzReadLog: whatever bytes a Log writes, ReadLog reads back as the
// same lines, carriage returns dropped.
func FuzzReadLog(f *testing.F) {
	f.Add([]byte("U-Boot 2023.01\r\n\r\nDRAM:  128 MiB\r\n=> "), uint16(3))
	f.Add([]byte("[    0.000000] Linux version 6.1\n\n\n"), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, step uint16) {
		var b bytes.Buffer
		start := time.Unix(0, 0)
		l := NewLog(&b, start)
		l.WriteAt(data, start.Add(time.Duration(step)*time.Millisecond))
		l.Close()
		lines, err := ReadLog(&b, "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		// Lines end at newlines; Close writes a last unfinished one.
		want := strings.Split(string(data), "\n")
		if want[len(want)-1] == "" {
			want = want[:len(want)-1]
		}
		for i := range want {
			want[i] = strings.ReplaceAll(want[i], "\r", "")
		}
		if len(lines) != len(want) {
			t.Fatalf("%d lines, want %d", len(lines), len(want))
		}
		for i := range want {
			if lines[i].Text != want[i] || lines[i].At != time.Duration(step)*time.Millisecond {
				t.Fatalf("line %d = %+v, want %q", i, lines[i], want[i])
			}
		}
	})
}
