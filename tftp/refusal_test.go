package tftp

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// canary watches a directory outside the root with inotify: any open
// or read of it or of a file in it, by anyone, shows up as an event.
type canary struct {
	fd  int
	dir string
}

func newCanary(t *testing.T, dir string) *canary {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_OPEN|unix.IN_ACCESS); err != nil {
		t.Fatal(err)
	}
	return &canary{fd: fd, dir: dir}
}

// events returns what happened since the last call.
func (c *canary) events(t *testing.T) []string {
	var got []string
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(c.fd, buf)
		if err == unix.EAGAIN || n <= 0 {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			l := int(binary.NativeEndian.Uint32(buf[off+12:]))
			name := string(bytes.TrimRight(buf[off+16:off+16+l], "\x00"))
			what := "open"
			if mask&unix.IN_ACCESS != 0 {
				what = "read"
			}
			got = append(got, what+" "+filepath.Join(c.dir, name))
			off += unix.SizeofInotifyEvent + l
		}
	}
}

// refusalSetup builds a root with every kind of escape attempt and a
// secret beside it.
func refusalSetup(t *testing.T) (root, outside string) {
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	mkdirs(t, filepath.Join(root, "sub", "deeper"), filepath.Join(root, "adir"), outside)
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "ok"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	symlink(t, secret, filepath.Join(root, "abs-link"))                    // absolute, to the file
	symlink(t, "../outside/secret", filepath.Join(root, "rel-link"))       // relative, to the file
	symlink(t, "../../outside/secret", filepath.Join(root, "sub", "deep")) // relative, one level down
	symlink(t, outside, filepath.Join(root, "abs-dir"))                    // absolute, to the directory
	symlink(t, "../../../outside", filepath.Join(root, "sub", "deeper", "up"))
	symlink(t, "../ok", filepath.Join(root, "sub", "ok-link")) // stays inside: allowed
	return root, outside
}

// TestRefusals sends each refused request by hand, checks the TFTP
// error code and the log line, and checks that nothing outside the
// root was opened or read.
func TestRefusals(t *testing.T) {
	root, outside := refusalSetup(t)
	watch := newCanary(t, outside)
	srv := &Server{Root: root}
	srv.refusals.Every = time.Nanosecond // a line for each case, though several share a cause
	h := serve(t, srv)
	rrq := func(name string) []byte { return requestPacket(opRRQ, name, "octet") }
	cases := []struct {
		name   string
		packet []byte
		code   int
		log    string
	}{
		{"dotdot", rrq("../outside/secret"), codeAccess, "contains a .. component"},
		{"dotdot-inside", rrq("sub/../../outside/secret"), codeAccess, "contains a .. component"},
		// Absolute names are taken from the root, as tftpd-hpa -s does.
		{"absolute", rrq(filepath.Join(outside, "secret")), codeNotFound, "file not found"},
		{"absolute-dotdot", rrq("/../outside/secret"), codeAccess, "contains a .. component"},
		{"backslash", rrq(`..\outside\secret`), codeAccess, "backslash"},
		{"too-long", rrq(strings.Repeat("a/", 150) + "x"), codeAccess, "more than 255"},
		{"abs-symlink", rrq("abs-link"), codeAccess, "outside the TFTP root"},
		{"rel-symlink", rrq("rel-link"), codeAccess, "outside the TFTP root"},
		{"nested-symlink", rrq("sub/deep"), codeAccess, "outside the TFTP root"},
		{"abs-dir-symlink", rrq("abs-dir/secret"), codeAccess, "outside the TFTP root"},
		{"rel-dir-symlink-mid-path", rrq("sub/deeper/up/secret"), codeAccess, "outside the TFTP root"},
		// A name cannot carry a NUL on the wire: the NUL ends the name and
		// what follows is read as the mode, so the request is malformed.
		{"nul", requestPacket(opRRQ, "ok", "../outside/secret", "octet"), codeIllegalOp, "malformed"},
		{"bad-mode", requestPacket(opRRQ, "ok", "mail"), codeIllegalOp, "malformed"},
		{"missing", rrq("nothing-here"), codeNotFound, "file not found"},
		{"directory", rrq("adir"), codeNotFound, "not a regular file"},
		{"write-read-only", requestPacket(opWRQ, "new", "octet"), codeAccess, "server is read-only"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := newRawClient(t, h.addr)
			cl.send(c.packet)
			if got := errorCode(cl.recv()); got != c.code {
				t.Errorf("error code %d, want %d", got, c.code)
			}
			line := lastLine(h.logs.String())
			if !strings.Contains(line, `msg="tftp: refused: `) || !strings.Contains(line, "client=127.0.0.1:") || !strings.Contains(line, c.log) {
				t.Errorf("log line %q does not name the client and %q", line, c.log)
			}
			if ev := watch.events(t); len(ev) > 0 {
				t.Errorf("outside the root: %v", ev)
			}
		})
	}
	// The symlink that stays inside the root still works.
	out := filepath.Join(t.TempDir(), "out")
	if code, msg := run(t, curlArgs(h.addr, "sub/ok-link", 0, out)); code != 0 {
		t.Errorf("inside symlink: curl exit %d: %s", code, msg)
	}
	// What curl reports: 68 is TFTP "file not found", 69 "permission".
	for name, want := range map[string]int{"rel-link": 69, "abs-dir/secret": 69, "nothing": 68} {
		if code, _ := run(t, curlArgs(h.addr, name, 0, out)); code != want {
			t.Errorf("curl %s: exit %d, want %d", name, code, want)
		}
	}
	if code, _ := run(t, curlPutArgs(h.addr, out, "up")); code != 69 {
		t.Errorf("curl upload to read-only server: exit %d, want 69", code)
	}
	if ev := watch.events(t); len(ev) > 0 {
		t.Errorf("outside the root: %v", ev)
	}
	// The canary itself works: reading the secret shows up.
	if _, err := os.ReadFile(filepath.Join(outside, "secret")); err != nil {
		t.Fatal(err)
	}
	if ev := watch.events(t); len(ev) == 0 {
		t.Errorf("canary saw no event for a read of the secret")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestAllow refuses clients outside Server.Allow with error 2.
func TestAllow(t *testing.T) {
	root := t.TempDir()
	writeRandom(t, filepath.Join(root, "f"), 100)
	for _, c := range []struct {
		allow []netip.Prefix
		code  int // -1: served
	}{
		{nil, -1},
		{[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, -1},
		{[]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}, -1},
		{[]netip.Prefix{netip.MustParsePrefix("192.168.1.0/24")}, codeAccess},
		{[]netip.Prefix{netip.MustParsePrefix("::1/128")}, codeAccess},
	} {
		h := serve(t, &Server{Root: root, Allow: c.allow})
		cl := newRawClient(t, h.addr)
		cl.send(requestPacket(opRRQ, "f", "octet"))
		p := cl.recv()
		if got := errorCode(p); got != c.code {
			t.Errorf("Allow %v: error code %d, want %d", c.allow, got, c.code)
		}
		if c.code == -1 {
			cl.send([]byte{0, 4, p[2], p[3]}) // ACK the only block: done
		}
		if c.code != -1 && !strings.Contains(h.logs.String(), "client address not allowed") {
			t.Errorf("Allow %v: refusal not logged: %s", c.allow, h.logs)
		}
	}
}

// TestUploadConfinement: uploads get the same name checks, and an
// aborted upload leaves the old file and no temporary file behind.
func TestUploadConfinement(t *testing.T) {
	root, outside := refusalSetup(t)
	watch := newCanary(t, outside)
	h := serve(t, &Server{Root: root, Writable: true})
	for name, code := range map[string]int{
		"../outside/new": codeAccess, "rel-link": codeNotFound, "abs-dir/new": codeAccess,
		"sub/deeper/up/new": codeAccess, "no-dir/new": codeNotFound, "adir": codeNotFound,
	} {
		cl := newRawClient(t, h.addr)
		cl.send(requestPacket(opWRQ, name, "octet"))
		if got := errorCode(cl.recv()); got != code {
			t.Errorf("WRQ %s: error code %d, want %d", name, got, code)
		}
	}
	// Abort an upload of "ok" after one full block.
	cl := newRawClient(t, h.addr)
	cl.send(requestPacket(opWRQ, "ok", "octet"))
	if p := cl.recv(); len(p) != 4 || binary.BigEndian.Uint16(p) != 4 || binary.BigEndian.Uint16(p[2:]) != 0 {
		t.Fatalf("want ACK 0, got % x", p)
	}
	data := append([]byte{0, 3, 0, 1}, bytes.Repeat([]byte("x"), 512)...)
	cl.send(data)
	if p := cl.recv(); len(p) != 4 || binary.BigEndian.Uint16(p[2:]) != 1 {
		t.Fatalf("want ACK 1, got % x", p)
	}
	cl.send(errorPacket(0, "client gives up"))
	h.shutdown(t)
	if !regexp.MustCompile(`msg="tftp: transfer failed" client=127\.0\.0\.1:\d+ op=write file=ok bytes=512 .*client gives up`).MatchString(h.logs.String()) {
		t.Errorf("no failed-transfer log line for the aborted upload:\n%s", h.logs)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "ok")); string(b) != "ok" {
		t.Errorf("aborted upload changed the target: %q", b)
	}
	for _, n := range listDir(t, root) {
		if strings.Contains(n, "tftp-upload") {
			t.Errorf("temporary file %s left behind", n)
		}
	}
	if ev := watch.events(t); len(ev) > 0 {
		t.Errorf("outside the root: %v", ev)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "secret" {
		t.Errorf("secret changed: %q", b)
	}
}

// TestRefusal: a read or write request gets ERROR 2, access violation,
// as a client Allow refuses does; an ACK or a DATA packet gets nothing.
func TestRefusal(t *testing.T) {
	rrq := append([]byte{0, 1}, "uImage\x00octet\x00"...)
	wrq := append([]byte{0, 2}, "up\x00octet\x00"...)
	want := append([]byte{0, 5, 0, 2}, "access violation\x00"...)
	for _, p := range [][]byte{rrq, wrq} {
		if got := Refusal(p); !bytes.Equal(got, want) {
			t.Errorf("Refusal(%q) = %q, want %q", p, got, want)
		}
	}
	for _, p := range [][]byte{{0, 4, 0, 1}, {0, 3, 0, 1, 'x'}, {}} {
		if got := Refusal(p); got != nil {
			t.Errorf("Refusal(%q) = %q, want no answer", p, got)
		}
	}
}
