package tftp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMappingPastEnd pins down what sendMapped rests on when a file
// shrinks under its mapping: the kernel's copy from a page wholly past
// the new end fails with EFAULT (no SIGBUS: Go does not touch the
// bytes), while the page the end falls in reads as zeros past it, which
// is why the sender checks the page after a block first; load tells
// the two kinds of page apart.
func TestMappingPastEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	writeRandom(t, path, 3*pageSize)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := mapFile(f, 3*pageSize)
	if m == nil {
		t.Fatal("mapFile: nil")
	}
	defer unix.Munmap(m)
	if err := os.Truncate(path, pageSize+100); err != nil {
		t.Fatal(err)
	}
	sink, conn := loopbackPair(t)
	hdr := []byte{0, opDATA, 0, 1}
	if _, err := conn.Writev(hdr, m[2*pageSize:3*pageSize]); !errors.Is(err, unix.EFAULT) {
		t.Errorf("writev from the page past the new end: %v, want EFAULT", err)
	}
	if n, err := conn.Writev(hdr, m[pageSize:pageSize+200]); err != nil || n != 204 {
		t.Fatalf("writev from the page the new end falls in: %d, %v", n, err)
	}
	buf := make([]byte, 1000)
	sink.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := sink.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(slices.Clone(hdr), orig[pageSize:pageSize+100]...), make([]byte, 100)...)
	if !bytes.Equal(buf[:n], want) {
		t.Errorf("the page the new end falls in sent % x..., want the file's 100 bytes, then 100 zeros", buf[:min(n, 8)])
	}
	for _, c := range []struct {
		off  int64
		want bool
	}{{0, true}, {pageSize + 100, true}, {2*pageSize - 1, true}, {2 * pageSize, false}, {3*pageSize - 1, false}} {
		if _, ok := load(&m[c.off]); ok != c.want {
			t.Errorf("load at %d of a file shrunk to %d: %v, want %v", c.off, pageSize+100, ok, c.want)
		}
	}
}

// loopbackPair is a UDP socket on loopback and a blockingConn to it.
func loopbackPair(t testing.TB) (*net.UDPConn, *blockingConn) {
	t.Helper()
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	conn, err := dialBlocking(sink.LocalAddr().(*net.UDPAddr).AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return sink, conn
}

// TestFileChangedUnderTransfer changes a file sent from its mapping
// (blksize 8192) between the first window and its ACK, and checks that
// the client ends with what reading the file block by block (the
// sender before the mapping, as tftpd-hpa) gives: blocks sent before
// keep their old bytes; later ones are the file's as it is now. A file
// shrunk ends at its new size (the first block past what was sent
// comes empty if it shrank below that), however the new end falls
// among pages and blocks; one grown goes on to its new end; one
// renamed over is sent as it was.
func TestFileChangedUnderTransfer(t *testing.T) {
	const bs = 8192
	const size = 20*bs + 3000 // 21 blocks, the last short
	newBytes := func(n int64) []byte {
		b := make([]byte, n)
		rand.NewChaCha8([32]byte{'n', 'e', 'w'}).Read(b)
		return b
	}
	type change struct {
		name string
		// do changes the file at path once sent bytes have gone out;
		// it returns what the client should end with, given the old
		// bytes.
		do func(t *testing.T, path string, old []byte, sent int64) []byte
	}
	shrink := func(name string, to func(sent int64) int64) change {
		return change{name, func(t *testing.T, path string, old []byte, sent int64) []byte {
			n := to(sent)
			if err := os.Truncate(path, n); err != nil {
				t.Fatal(err)
			}
			return old[:max(n, sent)]
		}}
	}
	changes := []change{
		shrink("shrunk-into-the-last-page-of-a-block", func(s int64) int64 { return s + 3*bs + 5000 }),
		shrink("shrunk-into-the-first-page-of-a-block", func(s int64) int64 { return s + 3*bs + 3000 }),
		shrink("shrunk-to-a-page-inside-a-block", func(s int64) int64 { return s + 3*bs + 4096 }),
		shrink("shrunk-to-a-block", func(s int64) int64 { return s + 3*bs }),
		shrink("shrunk-into-the-next-block", func(s int64) int64 { return s + 1 }),
		shrink("shrunk-to-what-was-sent", func(s int64) int64 { return s }),
		shrink("shrunk-below-what-was-sent", func(s int64) int64 { return s - 100 }),
		shrink("emptied", func(int64) int64 { return 0 }),
		{"grown", func(t *testing.T, path string, old []byte, sent int64) []byte {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			more := newBytes(3*bs + 10)
			if _, err := f.Write(more); err != nil {
				t.Fatal(err)
			}
			return append(slices.Clone(old), more...)
		}},
		{"overwritten", func(t *testing.T, path string, old []byte, sent int64) []byte {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b := newBytes(int64(len(old)))
			if _, err := f.WriteAt(b, 0); err != nil {
				t.Fatal(err)
			}
			return append(slices.Clone(old[:sent]), b[sent:]...)
		}},
		{"rewritten", func(t *testing.T, path string, old []byte, sent int64) []byte {
			b := newBytes(int64(len(old)))
			if err := os.WriteFile(path, b, 0o644); err != nil { // emptied, then written, as cp does
				t.Fatal(err)
			}
			return append(slices.Clone(old[:sent]), b[sent:]...)
		}},
		{"rewritten-shorter", func(t *testing.T, path string, old []byte, sent int64) []byte {
			b := newBytes(sent + 2*bs + 5000)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return append(slices.Clone(old[:sent]), b[sent:]...)
		}},
		{"renamed-over", func(t *testing.T, path string, old []byte, sent int64) []byte {
			tmp := path + ".new"
			if err := os.WriteFile(tmp, newBytes(int64(len(old))), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
			return old
		}},
	}
	root := t.TempDir()
	// No resends: the client answers well within Timeout.
	h := serve(t, &Server{Root: root, Timeout: 10 * time.Second})
	for _, window := range []int{1, 4} {
		for _, c := range changes {
			name := fmt.Sprintf("window-%d-%s", window, c.name)
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(root, name)
				writeRandom(t, path, size)
				old, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				var want []byte
				got := newRawClient(t, h.addr).fetch(name, bs, window, func() {
					want = c.do(t, path, old, int64(window*bs))
				})
				if !bytes.Equal(got, want) {
					t.Errorf("the client got %d bytes, %s; want %d bytes", len(got), firstDiff(got, want), len(want))
				}
			})
		}
	}
	h.shutdown(t)
	// Each transfer sent at least its first window from the mapping.
	logs := h.logs.String()
	for _, window := range []int{1, 4} {
		got := mappedCounts(logs, fmt.Sprintf(`file=window-%d-`, window))
		if len(got) != len(changes) || slices.ContainsFunc(got, func(n int) bool { return n < window }) {
			t.Errorf("blocks sent from the mapping by the transfers with windows of %d: %v, want %d transfers with at least %d\n%s",
				window, got, len(changes), window, logs)
		}
	}
}

// firstDiff says where got first differs from want.
func firstDiff(got, want []byte) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("first differing at byte %d (block %d, offset %d)", i, i/8192+1, i%8192)
		}
	}
	return "equal as far as the shorter goes"
}

// fetch downloads name with blksize and windowsize window, acknowledging
// each window at once, and returns the bytes received. It calls between
// once the first window has arrived, before acknowledging it. It fails
// on a packet out of order: loopback loses none, and the server resends
// only after its Timeout.
func (c *rawClient) fetch(name string, blksize, window int, between func()) []byte {
	c.t.Helper()
	if o := c.open(name, blksize, window); o["blksize"] != strconv.Itoa(blksize) || o["windowsize"] != strconv.Itoa(window) {
		c.t.Fatalf("OACK %v", o)
	}
	ack := func(n uint16) { c.send([]byte{0, opACK, byte(n >> 8), byte(n)}) }
	var got []byte
	next := uint16(1)
	for first := true; ; first = false {
		last := false
		for range window {
			p := c.recv()
			if len(p) < 4 || p[1] != opDATA || uint16(p[2])<<8|uint16(p[3]) != next {
				c.t.Fatalf("want DATA %d, got % x", next, p[:min(len(p), 4)])
			}
			got = append(got, p[4:]...)
			next++
			if last = len(p)-4 < blksize; last {
				break
			}
		}
		if first {
			between()
		}
		ack(next - 1)
		if last {
			return got
		}
	}
}

// mappedCounts returns, for each transfer log line that matches re, how
// many blocks it says were sent from the file's mapping (0 when the
// line says none).
func mappedCounts(logs, re string) []int {
	var counts []int
	line := regexp.MustCompile(re)
	mapped := regexp.MustCompile(` mapped=(\d+)`)
	for _, l := range strings.Split(logs, "\n") {
		if !strings.Contains(l, `msg="tftp: transfer`) || !line.MatchString(l) {
			continue
		}
		n := 0
		if m := mapped.FindStringSubmatch(l); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		counts = append(counts, n)
	}
	return counts
}

// TestMappingsReleased: a transfer in progress at blksize 8192 holds
// one mapping of its file, and none is left once transfers have ended
// in every way: completed by curl and atftp, failed by the client's
// ERROR or its silence, or cut short by Shutdown.
func TestMappingsReleased(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "m.bin")
	writeRandom(t, path, 64*8192+1)
	h := serve(t, &Server{Root: root, Timeout: 100 * time.Millisecond, Retries: 1})
	cl := newRawClient(t, h.addr)
	cl.startPaused("m.bin", 8192, 4)
	if n := mappings(t, path); n != 1 {
		t.Fatalf("%d mappings of the file during a transfer, want 1", n)
	}
	cl.send(append([]byte{0, opERROR, 0, 0}, "enough\x00"...))
	for i := range 10 {
		out := filepath.Join(t.TempDir(), "out")
		argv := curlArgs(h.addr, "m.bin", 8192, out)
		if i%2 == 1 {
			argv = slices.DeleteFunc(atftpWindowArgs(h.addr, h.addr.Addr().String(), h.addr.Port(), "m.bin", 8192, 16, out),
				func(s string) bool { return s == "--trace" })
		}
		if code, msg := run(t, argv); code != 0 {
			t.Fatalf("%v: exit %d: %s", argv, code, msg)
		}
	}
	for i := range 10 {
		c := newRawClient(t, h.addr)
		c.startPaused("m.bin", 8192, 4)
		if i%2 == 0 {
			c.send(append([]byte{0, opERROR, 0, 0}, "enough\x00"...))
		} // else silent: the server gives up after its retries
	}
	// One more in progress when Shutdown gives up waiting and aborts it.
	newRawClient(t, h.addr).startPaused("m.bin", 8192, 4)
	h.down = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := h.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a transfer in progress: %v, want DeadlineExceeded", err)
	}
	if err := h.srv.Shutdown(context.Background()); err != nil { // waits for the transfers to end
		t.Fatal(err)
	}
	if err := <-h.errc; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	if n := mappings(t, path); n != 0 {
		t.Errorf("%d mappings of the file left after the transfers", n)
	}
	logs := h.logs.String()
	if got := mappedCounts(logs, `file=m\.bin `); len(got) != 22 || slices.Contains(got, 0) {
		t.Errorf("blocks sent from the mapping by the transfers: %v, want 22 transfers with some\n%s", got, logs)
	}
}

// open requests name with blksize and windowsize window, acknowledges
// the OACK (block 0) and returns its options.
func (c *rawClient) open(name string, blksize, window int) map[string]string {
	c.t.Helper()
	c.send(requestPacket(opRRQ, name, "octet", "blksize", strconv.Itoa(blksize), "windowsize", strconv.Itoa(window)))
	o := oack(c.recv())
	c.send([]byte{0, opACK, 0, 0})
	return o
}

// startPaused opens name with blksize and windowsize window and reads
// the first window, which it leaves unacknowledged.
func (c *rawClient) startPaused(name string, blksize, window int) {
	c.t.Helper()
	c.open(name, blksize, window)
	for range window {
		if p := c.recv(); len(p) < 4 || p[1] != opDATA {
			c.t.Fatalf("want DATA, got % x", p[:min(len(p), 4)])
		}
	}
}

// mappings counts the mappings of the file at path in this process.
func mappings(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 6 && f[5] == path {
			n++
		}
	}
	return n
}
