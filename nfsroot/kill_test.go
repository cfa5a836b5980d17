package nfsroot

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	nfs "github.com/willscott/go-nfs"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// TestMain doubles as a server process for TestKillRestart: with
// NFSROOT_SERVE_DIR set, it serves that directory on 127.0.0.1 (port
// NFSROOT_SERVE_PORT, or any) and prints the address.
func TestMain(m *testing.M) {
	if dir := os.Getenv("NFSROOT_SERVE_DIR"); dir != "" {
		x, err := OpenExport(dir, ExportOptions{})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("NFSROOT_SERVE_PORT"))
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(l.Addr())
		(&Server{Export: x, InsecurePorts: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Serve(l)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProcess runs this test binary as a server for dir.
func serverProcess(t *testing.T, dir, port string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NFSROOT_SERVE_DIR="+dir, "NFSROOT_SERVE_PORT="+port)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.HasPrefix(line, "error:") {
		t.Fatalf("server process: %q %v", line, err)
	}
	return cmd, strings.TrimSpace(line)
}

// TestKillRestart kills the server with SIGKILL after a client wrote,
// committed, created device nodes and changed ownership, starts it again
// on the same port, and checks that every handle still works and that
// nothing the client was told is stable, nor the overlay, was lost.
func TestKillRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rootfs")
	for i := range 300 {
		writeFile(t, filepath.Join(dir, "usr", "bin", fmt.Sprintf("tool%03d", i)), []byte(fmt.Sprint(i)))
	}
	cmd, addr := serverProcess(t, dir, "0")
	c := dial(t, addr)
	root := c.mount("/")
	bin := c.mustLookup(root, "usr", "bin")
	var tools [][]byte
	for i := range 300 {
		tools = append(tools, c.mustLookup(bin, fmt.Sprintf("tool%03d", i)))
	}
	_, f := c.create(root, "log", createUnchecked, sattrMode(0o600))
	committed := bytes.Repeat([]byte("committed "), 10000)
	if st := c.write(f, 0, committed, unstable); st != nfs.NFSStatusOk {
		t.Fatal(st)
	}
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureCommit), args(func(e *encoder) { e.Opaque(f); e.Uint64(0); e.Uint32(0) }))
	if st := nfs.NFSStatus(d.Uint32()); st != nfs.NFSStatusOk {
		t.Fatal(st)
	}
	synced := []byte("file-sync write")
	if st := c.write(f, uint64(len(committed)), synced, fileSync); st != nfs.NFSStatusOk {
		t.Fatal(st)
	}
	_, dev := c.mkdir(root, "dev")
	_, tty := c.mknod(dev, "ttyS0", nfs.FileTypeCharacter, 0o620, 4, 64)
	c.setattr(f, sattrOwner(1000, 5)) // a chown clears setuid: before the mode
	c.setattr(f, sattrMode(0o4750))
	if st := c.rename(root, "usr", root, "usr2"); st != nfs.NFSStatusOk {
		t.Fatal(st)
	}

	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	_, port, _ := net.SplitHostPort(addr)
	_, addr2 := serverProcess(t, dir, port)
	c = dial(t, addr2)
	for i, fh := range tools {
		if st, data := c.read(fh, 0, 100); st != nfs.NFSStatusOk || string(data) != fmt.Sprint(i) {
			t.Fatalf("after kill -9: READ tool%03d: %v %q", i, st, data)
		}
	}
	st, data := c.read(f, 0, 1<<20)
	if want := append(append([]byte(nil), committed...), synced...); st != nfs.NFSStatusOk || !bytes.Equal(data, want) {
		t.Errorf("after kill -9: log holds %d bytes (%v), want %d", len(data), st, len(want))
	}
	if _, a := c.getattr(f); a.mode != 0o4750 || a.uid != 1000 || a.gid != 5 {
		t.Errorf("after kill -9: log attributes %+v", a)
	}
	if _, a := c.getattr(tty); a.typ != uint32(nfs.FileTypeCharacter) || a.major != 4 || a.minor != 64 || a.mode != 0o620 {
		t.Errorf("after kill -9: ttyS0 attributes %+v", a)
	}
}
