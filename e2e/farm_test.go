package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/internal/bootrigtest"
	"github.com/bootrig/bootrig/internal/logtest"
	"github.com/bootrig/bootrig/internal/netnstest"
	"github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/lab/up"
	"github.com/bootrig/bootrig/serialcon"
)

// farmBoard is one board of TestFarmLAN's bench.
type farmBoard struct {
	name, tap, mac string
	netboot        boards.Netboot // its address and export
	rootfs         string         // its copy of the rootfs
	log            *logtest.Buffer
	board          *up.Board
}

// TestFarmLAN: three emulated qemu-arm boards on one lab LAN (a bridge
// holding 192.168.7.1 in the test's network namespace, a tap, a MAC and
// an address per board) are served by one `bootrig serve --farm`: all
// three boot at once over TFTP and NFS, each its own copy of the rootfs
// (its own /etc/hostname), to a shell that prints its own name and MAC.
// b2 mounts its own export again from its shell, and is refused b1's;
// serve's log names the refusal.
func TestFarmLAN(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the emulated board")
	}
	if !netnstest.Isolate(t) {
		return // the child ran the test in a network namespace of its own
	}
	if r := runBootrig(t, "build", "--board", "qemu-arm"); r.code != 0 {
		t.Fatalf("bootrig build: exit %d", r.code)
	}
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	bench := farmBench(t, p, 3)
	lan, err := lab.SharedLANFor(bench[0].netboot, len(bench))
	if err != nil {
		t.Fatal(err)
	}
	if err := lan.Setup(); err != nil {
		t.Fatal(err)
	}
	for i := range bench {
		bench[i].tap, bench[i].mac = lan.Taps[i], lan.MAC(i)
	}
	server := bench[0].netboot.ServerIP.String()
	serve := startFarm(t, writeFarm(t, bench), server)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bootFarm(ctx, t, p, bench)
	for _, b := range bench { // all three are up now, and each is itself
		out, code, err := b.board.Run(ctx, "cat /etc/hostname /sys/class/net/eth0/address")
		if want := b.name + "\n" + b.mac + "\n"; err != nil || code != 0 || out != want {
			t.Errorf("%s: cat /etc/hostname and its MAC: %q, exit %d, %v; want %q", b.name, out, code, err, want)
		}
	}

	mount := func(export string) string {
		return fmt.Sprintf("mkdir -p /mnt && mount -t nfs -o nolock,vers=3,addr=%s %s:%s /mnt", server, server, export)
	}
	b1, b2 := bench[0], bench[1]
	out, code, err := b2.board.Run(ctx, mount(b2.rootfs)+" && cat /mnt/etc/hostname && umount /mnt")
	if err != nil || code != 0 || out != "b2\n" {
		t.Fatalf("b2 mounting its own export: %q, exit %d, %v; want its hostname (else the refusal below proves nothing)", out, code, err)
	}
	out, code, err = b2.board.Run(ctx, mount(b1.rootfs))
	if err != nil || code == 0 || !strings.Contains(out, "failed") {
		t.Errorf("b2 mounting b1's export %s: %q, exit %d, %v; want a failed mount", b1.rootfs, out, code, err)
	}
	if out, code, err := b2.board.Run(ctx, "ls /mnt"); err != nil || code != 0 || out != "" {
		t.Errorf("after the refused mount, b2's /mnt holds %q (exit %d, %v), want nothing", out, code, err)
	}
	refusal := `msg="nfs: MOUNT of a path not exported" client=` + b2.netboot.BoardIP.String() + ":"
	refused := false
	for _, line := range strings.Split(serve.stderr.String(), "\n") {
		refused = refused || strings.Contains(line, refusal) && strings.Contains(line, " path="+b1.rootfs+" ")
	}
	if !refused {
		t.Errorf("serve's log has no line %s... path=%s:\n%s", refusal, b1.rootfs, serve.stderr)
	}
	if out, code, err := b1.board.Run(ctx, "cat /etc/hostname"); err != nil || code != 0 || out != "b1\n" {
		t.Errorf("b1 after b2's attempt: %q, exit %d, %v", out, code, err)
	}
}

// farmBench is n boards of profile p on its lab network, b1 at the
// profile's board address and each next one at the next address, each
// with a copy of the built rootfs (and its device table) whose
// /etc/hostname is its name. The cache's rootfs is never changed.
func farmBench(t *testing.T, p *boards.Profile, n int) []farmBoard {
	t.Helper()
	dir, out := t.TempDir(), buildOut(t)
	ip := p.Network.BoardIP
	var bench []farmBoard
	for i := range n {
		name := fmt.Sprintf("b%d", i+1)
		rootfs := filepath.Join(dir, name, "rootfs")
		if err := os.MkdirAll(filepath.Dir(rootfs), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, cp := range [][]string{{"-a", filepath.Join(out, "rootfs"), rootfs}, {filepath.Join(out, "rootfs.devtable"), rootfs + ".devtable"}} {
			if o, err := exec.Command("cp", cp...).CombinedOutput(); err != nil {
				t.Fatalf("cp %q: %v: %s", cp, err, o)
			}
		}
		if err := os.WriteFile(filepath.Join(rootfs, "etc", "hostname"), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := p.Netboot(boards.Netboot{BoardIP: ip, Export: rootfs})
		if err != nil {
			t.Fatal(err)
		}
		bench = append(bench, farmBoard{name: name, netboot: l, rootfs: rootfs, log: &logtest.Buffer{}})
		ip = ip.Next()
	}
	return bench
}

// writeFarm writes the bench's farm file: each board's IP, MAC and
// rootfs; TFTP from the profile's build output, the farm's default.
func writeFarm(t *testing.T, bench []farmBoard) string {
	t.Helper()
	var f strings.Builder
	f.WriteString("boards:\n")
	for _, b := range bench {
		fmt.Fprintf(&f, "  - name: %s\n    profile: qemu-arm\n    ip: %s\n    mac: %s\n    rootfs: %s\n", b.name, b.netboot.BoardIP, b.mac, b.rootfs)
	}
	path := filepath.Join(t.TempDir(), "farm.yaml")
	if err := os.WriteFile(path, []byte(f.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// farmServe is a running `bootrig serve --farm`.
type farmServe struct {
	stdout, stderr *logtest.Buffer
}

// startFarm runs `bootrig serve --farm path --listen ip` until the test
// ends and returns once it serves (it has said "Ctrl-C stops").
func startFarm(t *testing.T, path, ip string) farmServe {
	t.Helper()
	s := farmServe{stdout: &logtest.Buffer{}, stderr: &logtest.Buffer{}}
	cmd := exec.Command(bootrigtest.Binary(t), "serve", "--farm", path, "--listen", ip)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	serving := make(chan struct{})
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			fmt.Fprintln(s.stdout, lines.Text())
			if lines.Text() == "Ctrl-C stops" {
				close(serving)
				break
			}
		}
		io.Copy(s.stdout, stdout)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		<-copied
		if err := cmd.Wait(); err != nil {
			t.Errorf("serve --farm: %v\n%s", err, s.stderr)
		}
		t.Logf("serve --farm's stdout:\n%s\nits log:\n%s", s.stdout, s.stderr)
	})
	select {
	case <-serving:
	case <-copied:
		t.Fatalf("serve --farm stopped before serving:\n%s\n%s", s.stdout, s.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("serve --farm not serving after a minute:\n%s\n%s", s.stdout, s.stderr)
	}
	if want := fmt.Sprintf("(%d boards):", strings.Count(readFile(t, path), "- name:")); !strings.Contains(s.stdout.String(), want) {
		t.Fatalf("serve --farm's stdout lacks %q:\n%s", want, s.stdout)
	}
	return s
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// bootFarm powers every board of the bench on at once, each on its own
// tap with its environment flashed while off, as bootrig up does, with
// no servers of its own: the farm's serve it. It returns once all are at
// their shell prompt; they are powered off when the test ends.
func bootFarm(ctx context.Context, t *testing.T, p *boards.Profile, bench []farmBoard) {
	t.Helper()
	errs := make([]error, len(bench))
	out := buildOut(t)
	var wg sync.WaitGroup
	for i := range bench {
		b, state := &bench[i], t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			b.board, err = up.Start(ctx, up.Config{
				Board: p, Netboot: b.netboot, Out: out, State: state,
				Tap: b.tap, MAC: b.mac, Served: true, Name: b.name, Log: b.log,
			})
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", b.name, err)
			}
		}()
	}
	wg.Wait()
	for i := range bench {
		b := &bench[i]
		if b.board != nil {
			t.Cleanup(func() {
				if err := b.board.Close(context.Background()); err != nil {
					t.Errorf("%s: power off: %v", b.name, err)
				}
				t.Logf("%s's console:\n%s", b.name, b.log)
			})
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("booting the farm: %v", err)
	}
	for _, b := range bench {
		for _, st := range b.board.Summary().Steps {
			if st.Phase == serialcon.PhaseShell {
				t.Logf("%s (%s, %s on %s): shell prompt %s after power-on", b.name, b.netboot.BoardIP, b.mac, b.tap, st.Start.Round(time.Millisecond))
			}
		}
	}
}
