package tftp

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/internal/netnstest"

	"golang.org/x/sys/unix"
)

// TestOptions checks the OACK: blksize, tsize and windowsize are
// negotiated, the timeout option pin/tftp does not implement is left out
// rather than faked, and MaxBlockSize and MaxWindowSize cap theirs.
func TestOptions(t *testing.T) {
	root := t.TempDir()
	writeRandom(t, filepath.Join(root, "f"), 100000)
	for _, c := range []struct {
		max, window int
		mode        string
		opts        []string
		want        map[string]string // nil: no OACK, data straight away
	}{
		{0, 0, "octet", []string{"blksize", "1468", "tsize", "0"}, map[string]string{"blksize": "1468", "tsize": "100000"}},
		{0, 0, "octet", []string{"BLKSIZE", "65464"}, map[string]string{"blksize": "65464"}},
		{0, 0, "octet", []string{"blksize", "1468", "timeout", "3", "windowsize", "16"}, map[string]string{"blksize": "1468", "windowsize": "16"}},
		{0, 0, "octet", []string{"timeout", "3", "windowsize", "16"}, map[string]string{"windowsize": "16"}},
		{0, 0, "octet", []string{"timeout", "3"}, nil},
		{0, 0, "octet", []string{"windowsize", "1000", "tsize", "0"}, map[string]string{"windowsize": "64", "tsize": "100000"}},
		{0, 8, "octet", []string{"windowsize", "16"}, map[string]string{"windowsize": "8"}},
		{0, 0, "octet", []string{"windowsize", "0"}, nil},
		{0, 0, "octet", []string{"windowsize", "x", "blksize", "4"}, nil},
		{1024, 0, "octet", []string{"windowsize", "4", "blksize", "8192"}, map[string]string{"blksize": "1024", "windowsize": "4"}},
		{0, 0, "netascii", []string{"windowsize", "4", "blksize", "1024"}, map[string]string{"blksize": "1024"}},
		{0, 0, "octet", []string{"tsize", "0", "rollover", "0"}, map[string]string{"tsize": "100000"}},
		{1024, 0, "octet", []string{"blksize", "8192"}, map[string]string{"blksize": "1024"}},
	} {
		t.Run(fmt.Sprint(c.max, c.window, c.mode, c.opts), func(t *testing.T) {
			h := serve(t, &Server{Root: root, MaxBlockSize: c.max, MaxWindowSize: c.window})
			cl := newRawClient(t, h.addr)
			cl.send(requestPacket(opRRQ, append([]string{"f", c.mode}, c.opts...)...))
			p := cl.recv()
			got := oack(p)
			if c.want == nil {
				if len(p) < 4 || p[1] != 3 || p[3] != 1 {
					t.Errorf("want DATA 1 without OACK, got % x", p[:min(len(p), 16)])
				}
			} else if !maps.Equal(got, c.want) {
				t.Errorf("OACK %v, want %v", got, c.want)
			}
			cl.send(errorPacket(0, "enough"))
		})
	}
}

// TestListenErrors: a taken port and a privileged port give errors
// that name the port and the fix.
func TestListenErrors(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, err = Listen(taken.LocalAddr().String())
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), taken.LocalAddr().String()) {
		t.Errorf("Listen on a taken port: %v", err)
	}
	err = privilegedListen(t)
	if !errors.Is(err, ErrPortPrivileged) || !strings.Contains(err.Error(), "port 69") ||
		!strings.Contains(err.Error(), "setcap cap_net_bind_service=+ep") {
		t.Errorf("Listen on :69 without CAP_NET_BIND_SERVICE: %v", err)
	}
}

// privilegedListen tries port 69 in a private network namespace from a
// thread that has dropped CAP_NET_BIND_SERVICE.
func privilegedListen(t *testing.T) error {
	var lerr error
	err := netnstest.Run(func() error {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return fmt.Errorf("capget: %w", err)
		}
		data[0].Effective &^= 1 << unix.CAP_NET_BIND_SERVICE
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return fmt.Errorf("capset: %w", err)
		}
		c, err := Listen("127.0.0.1:69")
		if err == nil {
			c.Close()
		}
		lerr = err
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lerr
}

func TestParseRequest(t *testing.T) {
	for _, c := range []struct {
		p    []byte
		want request
		err  bool
	}{
		{requestPacket(opRRQ, "uImage", "octet"), request{name: "uImage", mode: "octet", opts: map[string]string{}}, false},
		{requestPacket(opWRQ, "a/b", "NetASCII", "TSIZE", "9"), request{write: true, name: "a/b", mode: "netascii", opts: map[string]string{"tsize": "9"}}, false},
		{requestPacket(opRRQ, "f", "octet", "blksize"), request{}, true},
		{requestPacket(opRRQ, "f", "mail"), request{}, true},
		{requestPacket(opRRQ, "f"), request{}, true},
		{[]byte{0, 1, 'f', 0, 'o'}, request{}, true},
		{[]byte{0, 3, 0, 1}, request{}, true}, // errNotRequest
		{[]byte{0}, request{}, true},
		{append([]byte{0, 1}, make([]byte, 600)...), request{}, true},
	} {
		got, err := parseRequest(c.p)
		if c.err {
			if !errors.Is(err, ErrMalformed) && err != errNotRequest {
				t.Errorf("parseRequest(%q): err %v, want ErrMalformed", c.p, err)
			}
			continue
		}
		if err != nil || got.write != c.want.write || got.name != c.want.name || got.mode != c.want.mode || !maps.Equal(got.opts, c.want.opts) {
			t.Errorf("parseRequest(%q) = %+v, %v; want %+v", c.p, got, err, c.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"uImage": true, "boot/board.dtb": true, "a/./b": true, "..hidden": true, "a..b": true,
		"/uImage": true, "//boot/x": true, "/": false, "/../x": false,
		"": false, "../x": false, "a/../b": false, "a/..": false,
		`a\b`: false, "a\x00b": false, strings.Repeat("x", 256): false, strings.Repeat("x", 255): true,
	} {
		if err := checkName(name); (err == nil) != ok || err != nil && !errors.Is(err, ErrBadName) {
			t.Errorf("checkName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

// FuzzParseRequest: no input panics, and what parses re-encodes to a
// request that parses to the same thing.
func FuzzParseRequest(f *testing.F) {
	f.Add(requestPacket(opRRQ, "uImage", "octet", "blksize", "1468", "tsize", "0"))
	f.Add(requestPacket(opWRQ, "x", "netascii"))
	f.Add([]byte{0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := parseRequest(p)
		if err != nil {
			return
		}
		r2, err := parseRequest(r.encode(r.name))
		if err != nil || r2.name != r.name || r2.mode != r.mode || r2.write != r.write {
			t.Fatalf("re-encoded %+v parses as %+v, %v", r, r2, err)
		}
	})
}
