package serialcon

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// echoBoard is a console whose far end sends back what it gets, as a
// board's shell echoes typing; Sent is what reached the board.
type echoBoard struct {
	*Session
	sent chan []byte
}

func newEchoBoard(t *testing.T) *echoBoard {
	t.Helper()
	host, board := net.Pipe()
	e := &echoBoard{sent: make(chan []byte, 64)}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := board.Read(b)
			if err != nil {
				return
			}
			select { // the slow-reader test floods: keep the first 64
			case e.sent <- append([]byte(nil), b[:n]...):
			default:
			}
			board.Write(b[:n])
		}
	}()
	e.Session = NewSession(host, Options{Name: "echo"})
	t.Cleanup(func() { e.Session.Close(); board.Close() })
	return e
}

// serveShare serves con on a loopback listener per kind.
func serveShare(t *testing.T, sh *Share, kinds ...Kind) []string {
	t.Helper()
	var addrs []string
	for _, k := range kinds {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { errc <- sh.Serve(l, k) }()
		t.Cleanup(func() {
			sh.Close()
			if err := <-errc; !errors.Is(err, ErrShareClosed) {
				t.Errorf("Serve: %v, want ErrShareClosed", err)
			}
		})
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}

// readUntil reads r until it has seen want, for at most 5 s.
func readUntil(t *testing.T, c net.Conn, r *bufio.Reader, want string) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	for !bytes.Contains(got, []byte(want)) {
		b, err := r.ReadByte()
		if err != nil {
			t.Fatalf("waiting for %q, got %q: %v", want, got, err)
		}
		got = append(got, b)
	}
	return string(got)
}

// TestShareRawTCP: two raw clients both see what the board echoes; the
// first to type writes, the other is told it is read-only and its keys
// never reach the board; once the writer leaves, the other may type.
func TestShareRawTCP(t *testing.T) {
	board := newEchoBoard(t)
	sh := &Share{Console: board.Session, Name: "qemu-arm/b1"}
	addr := serveShare(t, sh, TCP)[0]
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return c, bufio.NewReader(c)
	}
	a, ar := dial()
	b, br := dial()
	defer b.Close()
	waitClients(t, sh, 2)
	io.WriteString(a, "uname\r")
	readUntil(t, a, ar, "uname\r")
	readUntil(t, b, br, "uname\r")
	io.WriteString(b, "reboot\r")
	if got := readUntil(t, b, br, "is typing"); !strings.Contains(got, "read-only") {
		t.Errorf("the second client was told %q", got)
	}
	io.WriteString(a, "date\r")
	if got := readUntil(t, b, br, "date\r"); strings.Contains(got, "reboot") {
		t.Errorf("the read-only client's keys reached the board: %q", got)
	}
	if sent := drain(board.sent); strings.Contains(sent, "reboot") || !strings.Contains(sent, "date") {
		t.Errorf("the board got %q", sent)
	}
	a.Close()
	waitClients(t, sh, 1)
	io.WriteString(b, "ls\r")
	readUntil(t, b, br, "ls\r")
}

func drain(ch chan []byte) string {
	var s []byte
	for {
		select {
		case b := <-ch:
			s = append(s, b...)
		default:
			return string(s)
		}
	}
}

func waitClients(t *testing.T, sh *Share, n int) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		got, changed := sh.Clients()
		if got == n {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("%d clients, want %d", got, n)
		}
	}
}

// TestShareSlowReader: a client that stops reading is cut off once it
// lags MaxQueue chunks; the others keep getting every byte.
func TestShareSlowReader(t *testing.T) {
	board := newEchoBoard(t)
	sh := &Share{Console: board.Session, Name: "b", MaxQueue: 8}
	addr := serveShare(t, sh, TCP)[0]
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.(*net.TCPConn).SetReadBuffer(4096)
	fast, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	waitClients(t, sh, 2)
	fr := bufio.NewReader(fast)
	line := strings.Repeat("x", 4000) + "\r"
	for i := 0; i < 4000 && clients(sh) == 2; i++ {
		io.WriteString(fast, line) // 16 MB at most: far past the slow client's socket buffers
		readUntil(t, fast, fr, "\r")
	}
	waitClients(t, sh, 1)
	io.WriteString(fast, "still here\r")
	readUntil(t, fast, fr, "still here\r")
}

// pyserialClients runs two pyserial rfc2217:// clients (Debian's
// python3-serial under /usr/bin/python3, an implementation of its own):
// the first types a line with a 0xff byte in it, both must read its
// echo; then the second types and must be told it is read-only. Both
// open at pyserial's default 9600, which labgrid's and grabserial's
// users get when they name no speed: an emulated UART takes it.
const pyserialClients = `
import sys, serial
url = sys.argv[1]
a = serial.serial_for_url(url, timeout=5)
b = serial.serial_for_url(url, timeout=5)
a.write(b"echo hi\xff there\r")
for name, c in (("a", a), ("b", b)):
    got = c.read_until(b"there\r")
    print(name, "saw", repr(got))
b.write(b"x")
print("b told", repr(b.read_until(b"dropped]")))
for name, c in (("b", b), ("a", a)):
    try:
        c.baudrate = 57600
        print(name, "set 57600")
    except (serial.SerialException, ValueError) as e:
        print(name, "refused:", e)
`

func TestSharePyserialRFC2217(t *testing.T) {
	board := newEchoBoard(t)
	sh := &Share{Console: board.Session, Name: "qemu-arm/b1"}
	addr := serveShare(t, sh, RFC2217)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", pyserialClients, "rfc2217://"+addr).CombinedOutput()
	if err != nil {
		t.Fatalf("pyserial: %v\n%s", err, out)
	}
	for _, want := range []string{
		`a saw b'echo hi\xff there\r'`, `b saw b'echo hi\xff there\r'`,
		"b told b'\\r\\n[bootrig: console qemu-arm/b1 is read-only here:",
		"b refused:",  // a writes
		"a set 57600", // the emulated UART takes what the writer asks
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("pyserial output lacks %q:\n%s", want, out)
		}
	}
	if sent := drain(board.sent); sent != "echo hi\xff there\r" {
		t.Errorf("the board got %q, want the first client's line alone", sent)
	}
}

// pyserialLine: pyserial rfc2217:// clients set the line of a shared
// tty. a opens at 9600 with 2 stop bits and hardware flow control; b
// opens at the same (no change: accepted) and may not change the speed
// (a writes); a changes it to 57600, then asks for 7 data bits, which a
// pty cannot have (answered with the 8 in force: refused).
const pyserialLine = `
import sys, serial
url = sys.argv[1] + "?timeout=2"
line = dict(baudrate=9600, stopbits=2, rtscts=True, timeout=5)
a = serial.serial_for_url(url, **line)
print("a opened")
b = serial.serial_for_url(url, **line)
print("b opened")
for name, c, setting, value in (("b", b, "baudrate", 19200), ("a", a, "baudrate", 57600), ("a", a, "bytesize", 7)):
    try:
        setattr(c, setting, value)
        print(name, "set", setting, value)
    except (serial.SerialException, ValueError):
        print(name, "refused", setting, value)
`

// TestSharePyserialSetsTTYLine: line settings from RFC 2217 clients
// reach the tty behind the console (stty reads them back), the writer's
// alone.
func TestSharePyserialSetsTTYLine(t *testing.T) {
	_, slave := newPty(t)
	port, err := Open(ctxFor(t, time.Second), slave)
	if err != nil {
		t.Fatal(err)
	}
	sess := NewSession(port, Options{Name: slave})
	defer sess.Close()
	if words := sttyWords(t, slave); !hasAll(words, []string{"115200", "-cstopb", "-crtscts"}) {
		t.Fatalf("before: stty shows %v", words)
	}
	sh := &Share{Console: sess, Line: sess, Name: "b1"}
	addr := serveShare(t, sh, RFC2217)[0]
	out, err := exec.CommandContext(ctxFor(t, 30*time.Second), "/usr/bin/python3", "-c", pyserialLine, "rfc2217://"+addr).CombinedOutput()
	if err != nil {
		t.Fatalf("pyserial: %v\n%s", err, out)
	}
	want := "a opened\nb opened\nb refused baudrate 19200\na set baudrate 57600\na refused bytesize 7\n"
	if string(out) != want {
		t.Errorf("pyserial said\n%s\nwant\n%s", out, want)
	}
	if words := sttyWords(t, slave); !hasAll(words, []string{"57600", "cs8", "cstopb", "crtscts"}) {
		t.Errorf("after: stty shows %v, want 57600 cs8 cstopb crtscts", words)
	}
}

func clients(sh *Share) int {
	n, _ := sh.Clients()
	return n
}
