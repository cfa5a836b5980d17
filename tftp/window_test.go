package tftp

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func atftpWindowArgs(addr fmt.Stringer, host string, port uint16, name string, blksize, window int, out string) []string {
	return []string{"atftp", "--trace", "--option", fmt.Sprintf("blksize %d", blksize),
		"--option", fmt.Sprintf("windowsize %d", window), "--option", "tsize 0",
		"--get", "-r", name, "-l", out, host, fmt.Sprint(port)}
}

// TestWindowAtftp downloads with atftp 0.8.0 asking for windows of 1,
// 4, 16 and 64 blocks: the OACK atftp traces echoes the window, and the
// file arrives byte-exact, read through the read-ahead buffer (blksize
// 512 and 1468) or sent from its mapping (8192).
func TestWindowAtftp(t *testing.T) {
	root := t.TempDir()
	const size = 3<<20 + 77
	writeRandom(t, filepath.Join(root, "k.bin"), size)
	h := serve(t, &Server{Root: root})
	for _, c := range []struct{ blksize, window int }{{1468, 1}, {1468, 4}, {1468, 16}, {1468, 64}, {512, 16},
		{8192, 1}, {8192, 16}, {8192, 64}} {
		t.Run(fmt.Sprintf("blksize-%d-window-%d", c.blksize, c.window), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			argv := atftpWindowArgs(h.addr, h.addr.Addr().String(), h.addr.Port(), "k.bin", c.blksize, c.window, out)
			code, msg := run(t, argv)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", argv, code, tail(msg, 2000))
			}
			oack := regexp.MustCompile(`received OACK <([^>]*)>`).FindStringSubmatch(msg)
			want := fmt.Sprintf("blksize: %d, windowsize: %d, tsize: %d", c.blksize, c.window, size)
			if oack == nil || !sameOptions(strings.ReplaceAll(oack[1], "\b", ""), want) {
				t.Errorf("atftp's trace shows OACK %q, want %q:\n%s", oack, want, head(msg, 1000))
			}
			if sum(t, out) != sum(t, filepath.Join(root, "k.bin")) {
				t.Errorf("sha256 differs from the source")
			}
		})
	}
	h.shutdown(t)
	// (A transfer whose last ACK was lost ends "failed" on the server's
	// side while the client has it all.)
	logs := h.logs.String()
	if !regexp.MustCompile(`msg="tftp: transfer(?: failed)?" client=127\.0\.0\.1:\d+ op=read file=k\.bin bytes=\d+ blksize=8192 .* window=64`).MatchString(logs) {
		t.Errorf("no transfer log line with window=64:\n%s", logs)
	}
	// Every block but the last, short one, from the mapping; small
	// blocks from the read-ahead buffer.
	for _, c := range []struct {
		blksize, transfers, min, max int
	}{{8192, 3, 384, 1 << 20}, {1468, 4, 0, 0}, {512, 1, 0, 0}} {
		if got := mappedCounts(logs, fmt.Sprintf(`file=k\.bin .*blksize=%d `, c.blksize)); len(got) != c.transfers ||
			slices.ContainsFunc(got, func(n int) bool { return n < c.min || n > c.max }) {
			t.Errorf("blocks sent from the mapping by the transfers at blksize %d: %v, want %d transfers with %d to %d\n%s",
				c.blksize, got, c.transfers, c.min, c.max, logs)
		}
	}
}

// sameOptions compares "a: 1, b: 2" lists in any order.
func sameOptions(a, b string) bool {
	split := func(s string) []string {
		var f []string
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				f = append(f, x)
			}
		}
		return f
	}
	fa, fb := split(a), split(b)
	if len(fa) != len(fb) {
		return false
	}
	for _, x := range fb {
		found := false
		for _, y := range fa {
			found = found || x == y
		}
		if !found {
			return false
		}
	}
	return true
}

func head(s string, n int) string { return s[:min(len(s), n)] }

// lossyRelay forwards one TFTP transfer between a client and a server
// and drops a share of the packets after the request, both ways. The
// client talks to the relay's port only; the relay learns the server's
// transfer port from its first reply.
type lossyRelay struct {
	front *net.UDPConn // the client's side
	back  *net.UDPConn // the server's side
	srv   netip.AddrPort
	loss  float64

	mu      sync.Mutex
	rng     *rand.Rand
	client  netip.AddrPort // learned from the request
	tid     netip.AddrPort // the server's transfer port, from its first reply
	dropped map[string]int // by packet kind
}

func newLossyRelay(t *testing.T, srv netip.AddrPort, loss float64, seed uint64) *lossyRelay {
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	r := &lossyRelay{front: listen(), back: listen(), srv: srv, loss: loss,
		rng: rand.New(rand.NewPCG(seed, 1)), dropped: map[string]int{}}
	go r.pump(r.front, r.toServer)
	go r.pump(r.back, r.toClient)
	return r
}

func (r *lossyRelay) addr() netip.AddrPort { return r.front.LocalAddr().(*net.UDPAddr).AddrPort() }

// pump reads from c and hands each packet to route until c is closed.
func (r *lossyRelay) pump(c *net.UDPConn, route func(p []byte, from netip.AddrPort)) {
	buf := make([]byte, 70000)
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		route(buf[:n], from)
	}
}

func (r *lossyRelay) toServer(p []byte, from netip.AddrPort) {
	r.mu.Lock()
	to := r.tid
	if len(p) > 1 && p[1] == opRRQ {
		r.client, to = from, r.srv
	}
	drop := r.drop(p)
	r.mu.Unlock()
	if !drop && to.IsValid() {
		r.back.WriteToUDPAddrPort(p, to)
	}
}

func (r *lossyRelay) toClient(p []byte, from netip.AddrPort) {
	r.mu.Lock()
	r.tid = from
	to := r.client
	drop := r.drop(p)
	r.mu.Unlock()
	if !drop {
		r.front.WriteToUDPAddrPort(p, to)
	}
}

// drop decides whether p goes missing; requests always pass. r.mu is
// held.
func (r *lossyRelay) drop(p []byte) bool {
	if len(p) < 2 || p[1] == opRRQ || r.rng.Float64() >= r.loss {
		return false
	}
	r.dropped[map[byte]string{opDATA: "DATA", opACK: "ACK", opOACK: "OACK", opERROR: "ERROR"}[p[1]]]++
	return true
}

func (r *lossyRelay) drops() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.dropped)
}

// TestWindowLoss downloads through a relay that drops 10% of the DATA,
// ACK and OACK packets: atftp still gets every byte, with every window
// size, read through the read-ahead buffer (blksize 1468) or sent from
// the file's mapping (8192). The files are 140 blocks and 5 bytes long.
func TestWindowLoss(t *testing.T) {
	root := t.TempDir()
	for _, blksize := range []int{1468, 8192} {
		writeRandom(t, filepath.Join(root, fmt.Sprint(blksize)), 140*int64(blksize)+5)
	}
	h := serve(t, &Server{Root: root, Timeout: 300 * time.Millisecond, Retries: 10})
	acks := 0
	for i, c := range []struct{ blksize, window int }{{1468, 1}, {1468, 4}, {1468, 16}, {1468, 64}, {8192, 1}, {8192, 16}} {
		t.Run(fmt.Sprintf("blksize-%d-window-%d", c.blksize, c.window), func(t *testing.T) {
			relay := newLossyRelay(t, h.addr, 0.10, uint64(i+1))
			out := filepath.Join(t.TempDir(), "out")
			ra := relay.addr()
			name := fmt.Sprint(c.blksize)
			argv := atftpWindowArgs(ra, ra.Addr().String(), ra.Port(), name, c.blksize, c.window, out)
			argv = append(argv[:1], append([]string{"--tftp-timeout", "1"}, argv[1:]...)...)
			code, msg := run(t, argv)
			d := relay.drops()
			t.Logf("dropped %v", d)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s\nserver: %s", argv, code, tail(msg, 2000), h.logs)
			}
			if sum(t, out) != sum(t, filepath.Join(root, name)) {
				t.Errorf("sha256 differs from the source")
			}
			if d["DATA"] == 0 {
				t.Errorf("the relay dropped %v: no DATA loss to recover from", d)
			}
			acks += d["ACK"]
		})
	}
	if acks == 0 {
		t.Errorf("the relay dropped no ACK")
	}
	h.shutdown(t)
	if got := mappedCounts(h.logs.String(), `file=8192 `); len(got) != 2 || slices.Contains(got, 0) {
		t.Errorf("blocks sent from the mapping by the transfers at blksize 8192: %v, want 2 transfers with some\n%s", got, h.logs)
	}
}

// TestWindowRollover fetches 40 MiB at blksize 512 in windows of 16
// with atftp: 81920 blocks, so the block number wraps past 65535 to 0
// in the middle of a window (65535 is not a multiple of 16).
func TestWindowRollover(t *testing.T) {
	root := t.TempDir()
	const size = 40 << 20
	writeRandom(t, filepath.Join(root, "big.bin"), size)
	h := serve(t, &Server{Root: root})
	out := filepath.Join(t.TempDir(), "out")
	argv := atftpWindowArgs(h.addr, h.addr.Addr().String(), h.addr.Port(), "big.bin", 512, 16, out)
	argv = slices.DeleteFunc(argv, func(s string) bool { return s == "--trace" })
	if code, msg := run(t, argv); code != 0 {
		t.Fatalf("%v: exit %d: %s", argv, code, tail(msg, 2000))
	}
	if sum(t, out) != sum(t, filepath.Join(root, "big.bin")) {
		t.Errorf("sha256 of the 40 MiB download differs from the source")
	}
	h.shutdown(t)
	t.Log(lastLine(h.logs.String()))
}

// TestWindowProtocol plays the client by hand: an ACK inside the window
// makes the server go on from the block after it, silence makes it
// resend the window once (a window of 4 and its resend fit in the 24
// blocks a client may find unread), then wait for the client, whose
// own resent ACK brings the window again; a stale
// ACK is ignored, and the ACK of the short last block ends the transfer.
func TestWindowProtocol(t *testing.T) {
	root := t.TempDir()
	writeRandom(t, filepath.Join(root, "f"), 10*512+100) // blocks 1-10 full, 11 short
	h := serve(t, &Server{Root: root, Timeout: 500 * time.Millisecond})
	cl := newRawClient(t, h.addr)
	cl.send(requestPacket(opRRQ, "f", "octet", "windowsize", "4"))
	if got := oack(cl.recv()); !maps.Equal(got, map[string]string{"windowsize": "4"}) {
		t.Fatalf("OACK %v", got)
	}
	ack := func(n uint16) { cl.send([]byte{0, opACK, byte(n >> 8), byte(n)}) }
	expect := func(what string, blocks ...int) {
		t.Helper()
		for _, b := range blocks {
			p := cl.recv()
			if len(p) < 4 || p[1] != opDATA || int(p[2])<<8|int(p[3]) != b {
				t.Fatalf("%s: want DATA %d, got % x", what, b, p[:min(len(p), 4)])
			}
		}
	}
	ack(0)
	expect("first window", 1, 2, 3, 4)
	ack(2)
	expect("after ACK 2, inside the window", 3, 4, 5, 6)
	expect("silence: the window again", 3, 4, 5, 6)
	cl.quiet("then the server waits for the client", time.Second)
	ack(2) // the client's own resend: nothing new since block 2
	expect("the client's resent ACK 2", 3, 4, 5, 6)
	ack(1) // stale: below the window
	ack(6)
	expect("after ACK 6", 7, 8, 9, 10)
	ack(10)
	p := cl.recv()
	if len(p) != 4+100 || int(p[2])<<8|int(p[3]) != 11 {
		t.Fatalf("want the short DATA 11, got %d bytes % x", len(p), p[:4])
	}
	ack(11)
	h.shutdown(t)
	if !regexp.MustCompile(`msg="tftp: transfer" .* file=f bytes=5220 blksize=512 .* window=4`).MatchString(h.logs.String()) {
		t.Errorf("no completed transfer in the log:\n%s", h.logs)
	}
}

// TestWindowSlowClient: a client that reads nothing for a while (an
// emulated board starved of CPU) finds at most the window and 4 blocks
// resent waiting for it, however many timeouts fired meanwhile; Debian's
// U-Boot on QEMU's virtio-net stops receiving for good once 32 packets
// are waiting. Its own resent ACK then brings the window again.
func TestWindowSlowClient(t *testing.T) {
	root := t.TempDir()
	writeRandom(t, filepath.Join(root, "f"), 100*1468)
	h := serve(t, &Server{Root: root, Timeout: 100 * time.Millisecond, Retries: 50})
	cl := newRawClient(t, h.addr)
	cl.send(requestPacket(opRRQ, "f", "octet", "blksize", "1468", "windowsize", "16"))
	cl.recv() // OACK
	cl.send([]byte{0, opACK, 0, 0})
	got := cl.drain(time.Second) // timeouts of 100 ms, doubling, fired meanwhile
	if len(got) != 20 {
		t.Fatalf("a client silent for 1 s was sent %d DATA packets (blocks %v), want 20: a window of 16 and 4 resent", len(got), got)
	}
	cl.send([]byte{0, opACK, 0, 0}) // the client's own resend of its last ACK
	if again := cl.drain(time.Second); len(again) != 20 || again[0] != 1 {
		t.Fatalf("after the client's resent ACK 0: blocks %v, want 1 to 16 and 1 to 4", again)
	}
	cl.send([]byte{0, opACK, 0, 16})
	if p := cl.recv(); len(p) < 4 || p[1] != opDATA || int(p[2])<<8|int(p[3]) != 17 {
		t.Fatalf("after ACK 16: want DATA 17, got % x", p[:min(len(p), 4)])
	}
	cl.send(append([]byte{0, opERROR, 0, 0}, "enough\x00"...)) // as a client that gives up does
}

// TestNoSorcerersApprentice: a client that acknowledges every block
// twice (as a lock-step client does when a block came twice) gets each
// block once: a duplicate ACK does not make the server send again.
func TestNoSorcerersApprentice(t *testing.T) {
	root := t.TempDir()
	writeRandom(t, filepath.Join(root, "f"), 40*512+1)
	for _, opts := range [][]string{nil, {"windowsize", "4"}} {
		h := serve(t, &Server{Root: root})
		cl := newRawClient(t, h.addr)
		cl.send(requestPacket(opRRQ, append([]string{"f", "octet"}, opts...)...))
		window := 1
		if opts != nil {
			cl.recv() // OACK
			cl.send([]byte{0, opACK, 0, 0})
			cl.send([]byte{0, opACK, 0, 0})
			window = 4
		}
		for n := 1; n <= 41; n++ {
			p := cl.recv()
			if len(p) < 4 || p[1] != opDATA || int(p[2])<<8|int(p[3]) != n {
				t.Fatalf("%v: want DATA %d, got % x", opts, n, p[:min(len(p), 4)])
			}
			if n%window == 0 || n == 41 {
				ack := []byte{0, opACK, byte(n >> 8), byte(n)}
				cl.send(ack)
				cl.send(ack)
			}
		}
		h.shutdown(t)
		if !strings.Contains(h.logs.String(), "retransmits=0") {
			t.Errorf("%v: %s", opts, h.logs)
		}
	}
}
