package serialcon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// TestMain doubles as a helper: with SERIALCON_TRY_OPEN set, the test
// binary (re-executed as another user) opens that port and prints the error.
func TestMain(m *testing.M) {
	if spec := os.Getenv("SERIALCON_TRY_OPEN"); spec != "" {
		p, err := Open(context.Background(), spec)
		if err == nil {
			p.Close()
			fmt.Println("opened")
			os.Exit(0)
		}
		fmt.Println(err)
		if errors.Is(err, ErrPermission) {
			os.Exit(3)
		}
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newPty is a pty pair: the master is the board's end, the slave path is
// what bootrig opens, like QEMU's -serial pty.
func newPty(t *testing.T) (master *os.File, slave string) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	// Raw, so the line discipline neither echoes nor translates.
	tio, err := unix.IoctlGetTermios(int(s.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Lflag &^= unix.ECHO | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Iflag &^= unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	if err := unix.IoctlSetTermios(int(s.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s.Name()
}

// roundTrip checks bytes both ways, 0xff included, through a session.
func roundTrip(t *testing.T, p Port, board io.ReadWriter) {
	t.Helper()
	s := NewSession(p, Options{Name: "test"})
	defer s.Close()
	ctx := ctxFor(t, 10*time.Second)
	typed := []byte("printenv\xff\x00\r")
	if err := s.Send(string(typed)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(typed))
	if _, err := io.ReadFull(board, got); err != nil || !bytes.Equal(got, typed) {
		t.Fatalf("board got %q, %v; want %q", got, err, typed)
	}
	if _, err := board.Write([]byte("bootdelay=2\xff\r\n=> ")); err != nil {
		t.Fatal(err)
	}
	m, err := s.Expect(ctx, regexp.MustCompile(`=> $`))
	if err != nil || m.Before != "bootdelay=2\xff\r\n" {
		t.Fatalf("Expect: before %q, %v", m.Before, err)
	}
}

func TestDevice(t *testing.T) {
	master, slave := newPty(t)
	p, err := Open(ctxFor(t, time.Second), slave+",57600")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.(Breaker).Break(10 * time.Millisecond); err != nil {
		t.Errorf("break on a pty: %v, want none", err)
	}
	if err := p.(BaudSetter).SetBaud(9600); err != nil {
		t.Errorf("SetBaud: %v", err)
	}
	roundTrip(t, p, master)
}

func TestDeviceErrors(t *testing.T) {
	_, slave := newPty(t)
	p, err := Open(ctxFor(t, time.Second), slave)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = Open(ctxFor(t, time.Second), slave)
	if !errors.Is(err, ErrPortBusy) || !strings.Contains(err.Error(), slave) {
		t.Errorf("second open: %v, want ErrPortBusy naming %s", err, slave)
	}
	_, err = Open(ctxFor(t, time.Second), "/dev/ttyUSB99")
	if !errors.Is(err, ErrPortNotFound) || !strings.Contains(err.Error(), "/dev/ttyUSB99") {
		t.Errorf("missing port: %v, want ErrPortNotFound naming it", err)
	}
}

// TestDevicePermission opens a root-only pty as nobody: the error names
// the port and the dialout fix.
func TestDevicePermission(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test runs as root, to open the port as another user")
	}
	_, slave := newPty(t)
	if err := os.Chmod(slave, 0o600); err != nil {
		t.Fatal(err)
	}
	// A copy of the test binary that nobody may run (go test's build
	// directory is root's alone).
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "serialcon-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "serialcon.test"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(dir, "serialcon.test"), "-test.run=^$")
	cmd.Env = append(os.Environ(), "SERIALCON_TRY_OPEN="+slave)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("open as nobody: %v: %s", err, out)
	}
	if msg := string(out); !strings.Contains(msg, slave) || !strings.Contains(msg, "usermod -aG dialout") {
		t.Errorf("error does not name the port and the fix: %s", msg)
	}
}

func TestTCPAndUnix(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "console.sock")
			}
			l, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			accepted := make(chan net.Conn, 1)
			go func() {
				c, err := l.Accept()
				if err == nil {
					accepted <- c
				}
			}()
			spec := "tcp://" + l.Addr().String()
			if network == "unix" {
				spec = "unix:" + addr
			}
			p, err := Open(ctxFor(t, 5*time.Second), spec)
			if err != nil {
				t.Fatal(err)
			}
			c := <-accepted
			defer c.Close()
			roundTrip(t, p, c)
		})
	}
}

// ser2netArgs is ser2net's command line exporting dev with RFC 2217 on
// port, in the foreground, without UUCP locks or a system pid file.
func ser2netArgs(port int, dev, pidFile string) []string {
	return []string{"-n", "-u", "-P", pidFile,
		"-Y", "connection: &con0",
		"-Y", fmt.Sprintf("  accepter: telnet(rfc2217),tcp,127.0.0.1,%d", port),
		"-Y", "  connector: serialdev," + dev + ",115200n81,local",
		"-Y", "  options:",
		"-Y", "    kickolduser: true",
	}
}

// TestRFC2217WithSer2net talks to Debian's ser2net exporting a pty: data
// both ways with 0xff escaped, and the baud rate set over the wire lands
// on the tty.
func TestRFC2217WithSer2net(t *testing.T) {
	master, slave := newPty(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx := ctxFor(t, 20*time.Second)
	cmd := exec.CommandContext(ctx, "ser2net", ser2netArgs(port, slave, filepath.Join(t.TempDir(), "ser2net.pid"))...)
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	spec := fmt.Sprintf("rfc2217://127.0.0.1:%d,57600", port)
	var p Port
	for p == nil {
		p, err = Open(ctx, spec)
		if err != nil {
			select {
			case <-ctx.Done():
				t.Fatalf("ser2net never listened: %v: %s", err, stderr.String())
			case <-time.After(20 * time.Millisecond): // ser2net has no readiness signal but its port
			}
		}
	}
	roundTrip(t, p, master)
	// The server confirmed the speed, and the tty has it.
	for p.(interface{ Baud() int }).Baud() != 57600 {
		select {
		case <-ctx.Done():
			t.Fatalf("ser2net never confirmed 57600 baud (got %d)", p.(interface{ Baud() int }).Baud())
		case <-time.After(10 * time.Millisecond):
		}
	}
	tio, err := unix.IoctlGetTermios(int(master.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if got := tio.Cflag & unix.CBAUD; got != unix.B57600 {
		t.Errorf("tty speed %#o, want B57600 (%#o)", got, unix.B57600)
	}
}

func TestSessionTimeoutShowsLastBytes(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	s := NewSession(a, Options{Name: "/dev/ttyUSB0"})
	defer s.Close()
	go b.Write([]byte("U-Boot 2009.11\r\nDRAM: 64 MB\r\n"))
	if _, err := s.Expect(ctxFor(t, 5*time.Second), regexp.MustCompile(`DRAM.*\n`)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Expect(ctxFor(t, 50*time.Millisecond), regexp.MustCompile(`=> $`))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("silent board: %v, want ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), `DRAM: 64 MB`) || !strings.Contains(err.Error(), "/dev/ttyUSB0") {
		t.Errorf("timeout error does not show the port and last bytes: %v", err)
	}
	b.Close()
	if _, err := s.Expect(ctxFor(t, 5*time.Second), regexp.MustCompile(`=> $`)); !errors.Is(err, ErrClosed) {
		t.Errorf("after the board hung up: %v, want ErrClosed", err)
	}
}

// TestSessionFansOut: the log, the raw log, the phases and an attached
// terminal all see every byte; the log's times come from the clock given.
func TestSessionFansOut(t *testing.T) {
	a, b := net.Pipe()
	clock := &stepClock{t: time.Unix(1000, 0), step: 250 * time.Millisecond}
	var logBuf, raw, term bytes.Buffer
	ph := NewPhases(clock.t, nil)
	s := NewSession(a, Options{Name: "x", Clock: clock, Log: &logBuf, Raw: &raw, Phases: ph})
	detach := s.Attach(&term)
	text := "\r\nU-Boot 2023.01\r\nHit any key to stop autoboot:  2 \r\n=> "
	go func() { b.Write([]byte(text)); b.Close() }()
	if _, err := s.Expect(ctxFor(t, 5*time.Second), regexp.MustCompile(`=> $`)); err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	detach()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if raw.String() != text || term.String() != text {
		t.Errorf("raw %q, terminal %q; want %q", raw.String(), term.String(), text)
	}
	if !strings.Contains(logBuf.String(), "] U-Boot 2023.01\n") || !strings.HasSuffix(logBuf.String(), "] => \n") {
		t.Errorf("log:\n%s", logBuf.String())
	}
	if !ph.Summary(clock.Now()).Reached(PhaseAutoboot) {
		t.Errorf("phases missed the countdown")
	}
}

type stepClock struct {
	t    time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time { c.t = c.t.Add(c.step); return c.t }

// TestDeviceSetLine: the line settings a device takes are those stty
// (coreutils, reading the tty's termios itself) shows afterwards. A pty
// keeps speed, stop bits, parity's odd and stick bits and flow control;
// Linux's pty driver forces 8 data bits and no parity (pty_set_termios
// clears CSIZE and PARENB), which SetLine reports as in force.
func TestDeviceSetLine(t *testing.T) {
	_, slave := newPty(t)
	p, err := Open(ctxFor(t, time.Second), slave)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	lc := p.(LineControl)
	for _, tc := range []struct {
		line, got Line
		stty      []string // words stty -a prints for it; none for a speed glibc cannot name
	}{
		{Line{Baud: 9600, DataBits: 8, Parity: 'N', StopBits: 2}, Line{Baud: 9600, DataBits: 8, Parity: 'N', StopBits: 2},
			[]string{"9600", "cs8", "-parenb", "-parodd", "-cmspar", "cstopb", "-crtscts", "-ixon"}},
		{Line{Baud: 57600, DataBits: 7, Parity: 'O', StopBits: 1, Flow: FlowXonXoff}, Line{Baud: 57600, DataBits: 8, Parity: 'N', StopBits: 1, Flow: FlowXonXoff},
			[]string{"57600", "cs8", "-parenb", "parodd", "-cstopb", "ixon", "ixoff", "-crtscts"}},
		{Line{Baud: 1200, DataBits: 5, Parity: 'M', StopBits: 1, Flow: FlowRTSCTS}, Line{Baud: 1200, DataBits: 8, Parity: 'N', StopBits: 1, Flow: FlowRTSCTS},
			[]string{"1200", "cs8", "-parenb", "parodd", "cmspar", "crtscts", "-ixon"}},
		{Line{Baud: 250000, DataBits: 8, Parity: 'N', StopBits: 1}, Line{Baud: 250000, DataBits: 8, Parity: 'N', StopBits: 1}, nil},
		{Line{Baud: 115200, DataBits: 8, Parity: 'N', StopBits: 1}, Line{Baud: 115200, DataBits: 8, Parity: 'N', StopBits: 1},
			[]string{"115200", "cs8", "-parenb", "-parodd", "-cmspar", "-cstopb", "-crtscts", "-ixon", "-ixoff"}},
	} {
		got, err := lc.SetLine(tc.line)
		if err != nil || got != tc.got {
			t.Errorf("SetLine(%s) = %s, %v; want %s in force", tc.line, got, err, tc.got)
		}
		if words := sttyWords(t, slave); !hasAll(words, tc.stty) {
			t.Errorf("SetLine(%s): stty shows %v, want %q", tc.line, words, tc.stty)
		}
	}
	was, _ := lc.Line()
	if got, err := lc.SetLine(Line{Baud: 9600, DataBits: 9, Parity: 'N', StopBits: 1}); !errors.Is(err, ErrLineInvalid) || got != was {
		t.Errorf("9 data bits: %s, %v; want ErrLineInvalid and %s still", got, err, was)
	}
}

// sttyWords are the settings stty -a prints for a tty.
func sttyWords(t *testing.T, path string) map[string]bool {
	t.Helper()
	out, err := exec.Command("stty", "-F", path, "-a").Output()
	if err != nil {
		t.Fatalf("stty -F %s: %v", path, err)
	}
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(string(out), func(r rune) bool { return r == ' ' || r == '\n' || r == ';' }) {
		words[w] = true
	}
	return words
}

func hasAll(words map[string]bool, want []string) bool {
	for _, w := range want {
		if !words[w] {
			return false
		}
	}
	return true
}
