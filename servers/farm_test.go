package servers

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/internal/logtest"
	"github.com/bootrig/bootrig/internal/netnstest"
)

// farmBoard is a board whose hostname and kernel say its name.
func farmBoard(t *testing.T, name, ip string) (board, Board) {
	b := newBoard(t)
	b.kernel = []byte("kernel of " + name)
	os.WriteFile(filepath.Join(b.tftpRoot, "uImage"), b.kernel, 0o644)
	os.WriteFile(filepath.Join(b.rootfs, "etc", "hostname"), []byte(name+"\n"), 0o644)
	return b, Board{Name: name, IP: netip.MustParseAddr(ip), TFTPRoot: b.tftpRoot, Dir: b.rootfs}
}

// TestFarm: two boards on the one set of ports, on their real numbers
// in a namespace of the test's own, from 127.0.0.2 and 127.0.0.3: each
// gets its own kernel over TFTP and mounts its own export through the
// portmapper; the other board's export is refused to it, and a client
// that is no board (127.0.0.1) gets neither.
func TestFarm(t *testing.T) {
	if !netnstest.Isolate(t) {
		return
	}
	for _, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		if err := netnstest.FromItself(netip.MustParseAddr(ip)); err != nil {
			t.Fatal(err)
		}
	}
	b1, f1 := farmBoard(t, "b1", "127.0.0.2")
	b2, f2 := farmBoard(t, "b2", "127.0.0.3")
	log, logs := logtest.New(slog.LevelInfo)
	start(t, Config{Log: log, TFTP: &TFTP{Port: TFTPPort}, NFS: &NFS{Port: NFSPort, PortmapPort: PortmapPort},
		Boards: []Board{f1, f2}})

	for _, b := range []struct {
		name, ip string
		board
	}{{"b1", "127.0.0.2", b1}, {"b2", "127.0.0.3", b2}} {
		if got := run(t, "nfs-cat", "nfs://"+b.ip+b.rootfs+"/etc/hostname?version=3"); got != b.name+"\n" {
			t.Errorf("%s mounted its export and read hostname %q", b.name, got)
		}
		tftp := &net.UDPAddr{IP: net.ParseIP(b.ip), Port: TFTPPort}
		if got := tftpGet(t, tftp, "uImage"); !bytes.Equal(got, b.kernel) {
			t.Errorf("%s downloaded %q over TFTP, want %q", b.name, got, b.kernel)
		}
	}
	if out, err := try("nfs-cat", "nfs://127.0.0.3"+b1.rootfs+"/etc/hostname?version=3"); err == nil || strings.Contains(out, "b1") {
		t.Errorf("b2 read b1's export: %v\n%s", err, out)
	}
	if out, err := try("nfs-ls", "nfs://127.0.0.1"+b1.rootfs+"?version=3"); err == nil {
		t.Errorf("a client that is no board listed b1's export:\n%s", out)
	}
	// curl's exit status 69: "permission problem on TFTP server", its
	// reading of TFTP error 2, access violation.
	out, err := try("curl", "-sS", "-o", filepath.Join(t.TempDir(), "got"), "tftp://127.0.0.1/uImage")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 69 {
		t.Errorf("TFTP to a client that is no board: %v %s; want curl's exit status 69 (access violation)", err, out)
	}
	for _, want := range []string{`msg="NFS server: refused a client that is no board of the farm" client=127.0.0.1:`,
		`msg="TFTP server: refused a client that is no board of the farm" client=127.0.0.1:`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %s in the log:\n%s", want, logs)
		}
	}
}

// TestFarmNeedsAddresses: two boards on one address could not be told
// apart; Start refuses them.
func TestFarmNeedsAddresses(t *testing.T) {
	_, f1 := farmBoard(t, "b1", "127.0.0.2")
	_, f2 := farmBoard(t, "b2", "127.0.0.2")
	r, err := Start(Config{TFTP: &TFTP{}, Boards: []Board{f1, f2}})
	if r != nil || err == nil || !strings.Contains(err.Error(), "board b2: its IP address 127.0.0.2 is none or another board's") {
		t.Errorf("two boards on 127.0.0.2: %v, %v", r, err)
	}
}
