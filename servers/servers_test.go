package servers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/devtable"
	"github.com/bootrig/bootrig/internal/netnstest"
	"github.com/bootrig/bootrig/internal/oncrpc"
	"github.com/bootrig/bootrig/portmap"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// board is a TFTP root with a kernel and a root filesystem with a file,
// as a build leaves them.
type board struct {
	tftpRoot, rootfs string
	kernel           []byte
}

func newBoard(t testing.TB) board {
	t.Helper()
	b := board{tftpRoot: t.TempDir(), rootfs: filepath.Join(t.TempDir(), "rootfs"), kernel: bytes.Repeat([]byte("uImage"), 50000)}
	if err := os.MkdirAll(filepath.Join(b.rootfs, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.rootfs, "etc", "hostname"), []byte("board\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.tftpRoot, "uImage"), b.kernel, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// config serves b on ip: TFTP, NFS and the portmapper on the given
// ports, loopback allowed.
func (b board) config(ip netip.Addr, tftpPort, nfsPort, pmapPort int) Config {
	lo := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	return Config{
		IP:   ip,
		TFTP: &TFTP{Root: b.tftpRoot, Port: tftpPort, Allow: lo},
		NFS: &NFS{Dir: b.rootfs, Allow: lo, Port: nfsPort, PortmapPort: pmapPort,
			Devices: devtable.Default("ttyAMA0")},
	}
}

func start(t testing.TB, cfg Config) *Running {
	t.Helper()
	r, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return r
}

// run runs a client tool, failing t with its output if it fails.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := try(name, args...)
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return out
}

// try runs a client tool and returns its output.
func try(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

// tftpGet downloads name with curl from the TFTP server at addr.
func tftpGet(t testing.TB, addr net.Addr, name string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "got")
	run(t, "curl", "-sS", "--tftp-blksize", "1468", "-o", out, fmt.Sprintf("tftp://%s/%s", addr, name))
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// nfsURL is a libnfs URL of path on the NFS server at addr, with NFS's
// and MOUNT's port in it (no portmapper asked).
func nfsURL(addr net.Addr, path string) string {
	p := addr.(*net.TCPAddr).Port
	return fmt.Sprintf("nfs://%s%s?version=3&nfsport=%d&mountport=%d", addr.(*net.TCPAddr).IP, path, p, p)
}

// TestServesTFTPAndNFS: on free loopback ports, curl downloads the
// kernel over TFTP and libnfs reads the root filesystem, the device
// table seeded into it, through the addresses Start reports.
func TestServesTFTPAndNFS(t *testing.T) {
	b := newBoard(t)
	cfg := b.config(loopback, 0, 0, 0)
	cfg.NFS.NoPortmap = true
	r := start(t, cfg)
	if r.Addrs.Portmap != nil {
		t.Errorf("NoPortmap, yet a portmapper on %s", r.Addrs.Portmap)
	}
	if got := tftpGet(t, r.Addrs.TFTP, "uImage"); !bytes.Equal(got, b.kernel) {
		t.Errorf("TFTP: downloaded %d bytes, differing from the %d served", len(got), len(b.kernel))
	}
	if got := run(t, "nfs-cat", nfsURL(r.Addrs.NFS, "/etc/hostname")); got != "board\n" {
		t.Errorf("nfs-cat /etc/hostname: %q", got)
	}
	if ls := run(t, "nfs-ls", nfsURL(r.Addrs.NFS, "/dev")); !strings.Contains(ls, "console") {
		t.Errorf("nfs-ls /dev: no console seeded from the device table:\n%s", ls)
	}
	if r.ExportDir("") != b.rootfs {
		t.Errorf("ExportDir %q, want %q", r.ExportDir(""), b.rootfs)
	}
}

// TestPortmapperNamesNFS: on the real ports, in a network namespace of
// the test's own, libnfs finds NFS and MOUNT through the portmapper as
// a board's kernel does, and rpcinfo lists them on the NFS port.
func TestPortmapperNamesNFS(t *testing.T) {
	if !netnstest.Isolate(t) {
		return
	}
	b := newBoard(t)
	r := start(t, b.config(loopback, TFTPPort, NFSPort, PortmapPort))
	for name, addr := range map[string]net.Addr{"TFTP": r.Addrs.TFTP, "NFS": r.Addrs.NFS, "portmapper": r.Addrs.Portmap} {
		want := map[string]int{"TFTP": 69, "NFS": 2049, "portmapper": 111}[name]
		if addr == nil || !strings.HasSuffix(addr.String(), fmt.Sprintf("127.0.0.1:%d", want)) {
			t.Errorf("%s on %v, want 127.0.0.1:%d", name, addr, want)
		}
	}
	if got := run(t, "nfs-cat", "nfs://127.0.0.1"+b.rootfs+"/etc/hostname?version=3"); got != "board\n" {
		t.Errorf("nfs-cat through the portmapper: %q", got)
	}
	out := run(t, "rpcinfo", "-p", "127.0.0.1")
	for _, prog := range []string{"100003", "100005"} {
		if !rpcinfoLists(out, prog, NFSPort) {
			t.Errorf("rpcinfo lists no %s v3 on TCP 2049:\n%s", prog, out)
		}
	}
	if got := tftpGet(t, r.Addrs.TFTP, "uImage"); !bytes.Equal(got, b.kernel) {
		t.Errorf("TFTP on port 69: %d bytes, differing from the %d served", len(got), len(b.kernel))
	}
}

// rpcinfoLists reports whether rpcinfo -p's output has prog, version 3,
// over TCP, on port.
func rpcinfoLists(out, prog string, port int) bool {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 4 && f[0] == prog && f[1] == "3" && f[2] == "tcp" && f[3] == fmt.Sprint(port) {
			return true
		}
	}
	return false
}

// TestHooksSeeTheCalls: the hooks (lab/up's mount watch) see the
// connections and the MOUNT and NFS calls a real client makes.
func TestHooksSeeTheCalls(t *testing.T) {
	b := newBoard(t)
	cfg := b.config(loopback, 0, 0, 0)
	var mu sync.Mutex
	calls, conns := map[uint32]int{}, 0
	cfg.NFS.Hooks = oncrpc.Hooks{
		Conn: func(net.Addr) { mu.Lock(); conns++; mu.Unlock() },
		Call: func(h oncrpc.Header, _ net.Addr) { mu.Lock(); calls[h.Prog]++; mu.Unlock() },
	}
	r := start(t, cfg)
	run(t, "nfs-ls", nfsURL(r.Addrs.NFS, "/"))
	mu.Lock()
	defer mu.Unlock()
	if conns == 0 || calls[oncrpc.ProgMount] == 0 || calls[oncrpc.ProgNFS] == 0 {
		t.Errorf("hooks saw %d connections, calls by program %v; want MOUNT and NFS calls", conns, calls)
	}
}

// TestStartErrors: a server that cannot start is named, with why;
// nothing started before it is left running (its port is free again).
func TestStartErrors(t *testing.T) {
	b := newBoard(t)
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	taken := tcp.Addr().(*net.TCPAddr).Port
	free := freeUDPPort(t)
	tests := []struct {
		name   string
		change func(*Config)
		server Kind
		is     error
		text   string
	}{
		{"TFTP root missing", func(c *Config) { c.TFTP.Root = "/nonexistent/out" }, TFTPServer, ErrNotDir, "TFTP root /nonexistent/out is not a directory"},
		{"export missing", func(c *Config) { c.NFS.Dir = "/nonexistent/rootfs" }, NFSServer, ErrNotDir, "NFS root /nonexistent/rootfs is not a directory"},
		{"NFS port taken", func(c *Config) { c.NFS.Port = taken }, NFSServer, syscall.EADDRINUSE, fmt.Sprintf("listen on TCP 127.0.0.1:%d", taken)},
		{"portmapper port taken", func(c *Config) { c.NFS.PortmapPort = taken }, Portmapper, syscall.EADDRINUSE, fmt.Sprintf("portmapper: listen on TCP 127.0.0.1:%d", taken)},
		{"check refuses the tree", func(c *Config) { c.NFS.Check = func(string) error { return errors.New("bin/x is v5TE code") } }, NFSServer, nil, "bin/x is v5TE code"},
		{"not this host's address", func(c *Config) { c.IP = netip.MustParseAddr("192.0.2.1") }, TFTPServer, syscall.EADDRNOTAVAIL, "192.0.2.1 is not an address of this host"},
	}
	for _, tc := range tests {
		cfg := b.config(loopback, free, 0, 0)
		tc.change(&cfg)
		r, err := Start(cfg)
		var se *Error
		if r != nil || !errors.As(err, &se) || se.Server != tc.server || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, %v; want the %s and %q", tc.name, r, err, tc.server, tc.text)
		}
		// What had started is stopped: the TFTP port binds again.
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", free))
		if err != nil {
			t.Errorf("%s: the TFTP port is still held: %v", tc.name, err)
			continue
		}
		pc.Close()
	}
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// TestCloseAndStartAgain: after Close the same ports and export serve
// again, as lab/up restarts its servers under a running board.
func TestCloseAndStartAgain(t *testing.T) {
	b := newBoard(t)
	r, err := Start(b.config(loopback, 0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	tftpPort, nfsPort := r.Addrs.TFTP.(*net.UDPAddr).Port, r.Addrs.NFS.(*net.TCPAddr).Port
	if err := r.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Errorf("a second close: %v", err)
	}
	if err := r.Err(); err != nil {
		t.Errorf("Err after Close: %v, want nil", err)
	}
	r = start(t, b.config(loopback, tftpPort, nfsPort, 0))
	if got := run(t, "nfs-cat", nfsURL(r.Addrs.NFS, "/etc/hostname")); got != "board\n" {
		t.Errorf("nfs-cat after a restart: %q", got)
	}
}

// TestReportsAStop: a server whose Serve returns before Close ends the
// set's Wait with an error naming it, and Close returns it too; a Serve
// that Close shuts down is no error.
func TestReportsAStop(t *testing.T) {
	r := &Running{done: make(chan struct{})}
	boom := errors.New("accept: too many open files")
	quit := make(chan struct{})
	r.serve(Portmapper, func(context.Context) error { close(quit); return nil },
		func() error { return boom },
		func() error { <-quit; return portmap.ErrServerClosed })
	if err := r.Wait(); !errors.Is(err, boom) || !strings.Contains(err.Error(), "portmapper stopped") {
		t.Errorf("Wait: %v, want the portmapper's stop", err)
	}
	if err := r.Close(context.Background()); !errors.Is(err, boom) || strings.Contains(err.Error(), "server closed") {
		t.Errorf("Close: %v, want the stopped server's error alone", err)
	}

	r = &Running{done: make(chan struct{})}
	shut := make(chan struct{})
	r.serve(TFTPServer, func(context.Context) error { close(shut); return nil }, func() error { <-shut; return net.ErrClosed })
	if err := r.Close(context.Background()); err != nil {
		t.Errorf("Close of a set that ran: %v", err)
	}
	if err := r.Wait(); err != nil {
		t.Errorf("Wait after Close: %v, want nil", err)
	}
}
