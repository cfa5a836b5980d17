package tftp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log sink tests read after Shutdown.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type harness struct {
	srv  *Server
	addr netip.AddrPort
	logs *syncBuffer
	errc chan error
	down bool
}

// serve starts srv on a loopback port; the test's cleanup shuts it down.
func serve(t testing.TB, srv *Server) *harness {
	t.Helper()
	h := &harness{srv: srv, logs: &syncBuffer{}, errc: make(chan error, 1)}
	if srv.Logger == nil {
		srv.Logger = slog.New(slog.NewTextHandler(h.logs, nil))
	}
	conn, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	go func() { h.errc <- srv.Serve(conn) }()
	t.Cleanup(func() { h.shutdown(t) })
	return h
}

// shutdown stops the server and waits for its transfers, so that the
// logs and the root are final.
func (h *harness) shutdown(t testing.TB) {
	t.Helper()
	if h.down {
		return
	}
	h.down = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-h.errc; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
}

// writeRandom writes n deterministic pseudo-random bytes to path.
func writeRandom(t testing.TB, path string, n int64) {
	t.Helper()
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)})
	r.Read(b)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sum(t testing.TB, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// Client argv builders: pure, so the exact command lines are visible.

func curlArgs(addr netip.AddrPort, name string, blksize int, out string) []string {
	a := []string{"curl", "--silent", "--show-error", "--max-time", "300", "-o", out}
	if blksize != 0 {
		a = append(a, "--tftp-blksize", strconv.Itoa(blksize))
	}
	return append(a, fmt.Sprintf("tftp://%s/%s", addr, name))
}

func curlPutArgs(addr netip.AddrPort, local, name string) []string {
	return []string{"curl", "--silent", "--show-error", "--max-time", "60", "-T", local,
		fmt.Sprintf("tftp://%s/%s", addr, name)}
}

func tftpHPAArgs(addr netip.AddrPort, name, out string) []string {
	return []string{"tftp", addr.Addr().String(), strconv.Itoa(int(addr.Port())), "-m", "binary", "-c", "get", name, out}
}

func atftpArgs(addr netip.AddrPort, name string, blksize int, out string) []string {
	a := []string{"atftp"}
	if blksize != 0 {
		a = append(a, "--option", fmt.Sprintf("blksize %d", blksize))
	}
	return append(a, "--get", "-r", name, "-l", out, addr.Addr().String(), strconv.Itoa(int(addr.Port())))
}

func atftpPutArgs(addr netip.AddrPort, local, name string) []string {
	return []string{"atftp", "--put", "-l", local, "-r", name, addr.Addr().String(), strconv.Itoa(int(addr.Port()))}
}

// run runs argv and returns its exit code and combined output.
func run(t testing.TB, argv []string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("%s: %v", strings.Join(argv, " "), err)
	return -1, ""
}

// rawClient speaks TFTP by hand for what the real clients cannot show:
// error codes, OACK contents, aborted uploads.
type rawClient struct {
	t    *testing.T
	conn *net.UDPConn
	srv  netip.AddrPort
	peer netip.AddrPort // the transfer's port, after the first reply
}

func newRawClient(t *testing.T, srv netip.AddrPort) *rawClient {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, srv: srv}
}

func requestPacket(op uint16, fields ...string) []byte {
	b := binary.BigEndian.AppendUint16(nil, op)
	for _, f := range fields {
		b = append(append(b, f...), 0)
	}
	return b
}

func (c *rawClient) send(p []byte) {
	to := c.srv
	if c.peer.IsValid() {
		to = c.peer
	}
	if _, err := c.conn.WriteToUDPAddrPort(p, to); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads the next packet (failing after 10 s of silence).
func (c *rawClient) recv() []byte {
	c.t.Helper()
	buf := make([]byte, 70000)
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := c.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		c.t.Fatalf("waiting for a reply: %v", err)
	}
	c.peer = from
	return buf[:n]
}

// quiet fails unless nothing comes for d.
func (c *rawClient) quiet(what string, d time.Duration) {
	c.t.Helper()
	if got := c.drain(d); len(got) > 0 {
		c.t.Fatalf("%s: blocks %v came", what, got)
	}
}

// drain reads packets until none came for d and returns the block
// numbers of the DATA packets among them.
func (c *rawClient) drain(d time.Duration) []int {
	c.t.Helper()
	var blocks []int
	buf := make([]byte, 70000)
	for {
		c.conn.SetReadDeadline(time.Now().Add(d))
		n, _, err := c.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return blocks
		}
		if err != nil {
			c.t.Fatal(err)
		}
		if n >= 4 && buf[1] == opDATA {
			blocks = append(blocks, int(buf[2])<<8|int(buf[3]))
		}
	}
}

// errorCode returns the code of an ERROR packet, or -1.
func errorCode(p []byte) int {
	if len(p) < 4 || binary.BigEndian.Uint16(p) != opERROR {
		return -1
	}
	return int(binary.BigEndian.Uint16(p[2:]))
}

// oack parses an OACK packet, or returns nil.
func oack(p []byte) map[string]string {
	if len(p) < 2 || binary.BigEndian.Uint16(p) != 6 {
		return nil
	}
	f := strings.Split(strings.TrimSuffix(string(p[2:]), "\x00"), "\x00")
	m := map[string]string{}
	for i := 0; i+1 < len(f); i += 2 {
		m[f[i]] = f[i+1]
	}
	return m
}

func mkdirs(t *testing.T, dirs ...string) {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func symlink(t *testing.T, target, link string) {
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func listDir(t *testing.T, dir string) []string {
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	return names
}
