package main

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseAllow(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{nil, nil, false},
		{[]string{"192.168.7.0/24"}, []string{"192.168.7.0/24"}, false},
		{[]string{"192.168.7.9/24"}, []string{"192.168.7.0/24"}, false},
		{[]string{"10.0.0.2", "::1"}, []string{"10.0.0.2/32", "::1/128"}, false},
		{[]string{"board"}, nil, true},
		{[]string{"10.0.0.0/33"}, nil, true},
	}
	for _, tc := range tests {
		got, err := parseAllow(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseAllow(%q): error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if !slices.Equal(s, tc.want) {
			t.Errorf("parseAllow(%q) = %q, want %q", tc.in, s, tc.want)
		}
	}
}

func TestDefaultAllow(t *testing.T) {
	got := defaultAllow(netip.MustParseAddr("192.168.7.2"))
	for _, a := range []string{"127.0.0.1", "::1", "192.168.7.2"} {
		if !slices.ContainsFunc(got, func(p netip.Prefix) bool { return p.Contains(netip.MustParseAddr(a)) }) {
			t.Errorf("default allow %v refuses %s", got, a)
		}
	}
	if slices.ContainsFunc(got, func(p netip.Prefix) bool { return p.Contains(netip.MustParseAddr("192.168.7.3")) }) {
		t.Errorf("default allow %v admits another board", got)
	}
}

func TestServeNFSErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve", "--no-tftp", "--nfs-port", "0"}, 2, "--nfs-port 0 is not a port number"},
		{[]string{"serve", "--no-tftp", "--portmap-port", "70000"}, 2, "--portmap-port 70000"},
		{[]string{"serve", "--no-tftp", "--allow", "board"}, 2, `--allow "board"`},
		{[]string{"serve", "--no-tftp", "--rootfs", "/nonexistent/rootfs"}, 1, "NFS root /nonexistent/rootfs is not a directory"},
	}
	for _, tc := range tests {
		_, stderr, code := runBootrig(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("bootrig %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
}

// TestServeRefusesUnrunnableRootFS: serve checks the rootfs it is given
// against the board's CPU before serving it.
func TestServeRefusesUnrunnableRootFS(t *testing.T) {
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "x.c")
	os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644)
	// Debian's default armel flags: ARMv5TE.
	if out, err := exec.Command("arm-linux-gnueabi-gcc", "-static", "-o", filepath.Join(rootfs, "bin", "x"), src).CombinedOutput(); err != nil {
		t.Fatalf("arm-linux-gnueabi-gcc: %v\n%s", err, out)
	}
	_, stderr, code := runBootrig(t, "serve", "--board", "mini2440", "--no-tftp", "--rootfs", rootfs, "--listen", "127.0.0.1", "--nfs-port", "1")
	if code != 1 || !strings.Contains(stderr, "bin/x is v5TE code") || strings.Contains(stderr, "serving") {
		t.Errorf("serve of an armel rootfs for the mini2440: exit %d, stderr %q; want exit 1 naming bin/x and v5TE", code, stderr)
	}
}
