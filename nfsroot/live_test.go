package nfsroot

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	nfs "github.com/willscott/go-nfs"
)

// liveDeadline is how soon a host edit must show in the board's listing.
const liveDeadline = time.Second

// TestListingSeesHostChanges edits an exported directory on the host
// after the server has listed it (twice, so that it keeps what it
// can): every change shows within liveDeadline, and in fact in the
// first READDIRPLUS listing after it — names, attributes, a
// subdirectory's times, and a file changed through a link in another
// directory.
func TestListingSeesHostChanges(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "d")
	for _, n := range []string{"a", "b", "c", "sub/keep", "o/m", "o/h2"} {
		writeFile(t, filepath.Join(d, n), nil)
	}
	if err := os.Rename(filepath.Join(d, "o"), filepath.Join(dir, "o")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "o", "h2"), filepath.Join(d, "h")); err != nil {
		t.Fatal(err)
	}
	h := start(t, dir, nil)
	c := dial(t, h.addr)
	dh := c.mustLookup(c.mount("/"), "d")
	list := func() map[string]*attr3 {
		st, ents := c.readdirplus(dh, 8192, 8192)
		if st != nfs.NFSStatusOk {
			t.Fatalf("READDIRPLUS: %v", st)
		}
		m := map[string]*attr3{}
		for _, e := range ents {
			m[e.name] = e.attr
		}
		return m
	}
	list()
	subBefore := *list()["sub"]
	host := func(fn func() error) func() {
		return func() {
			if err := fn(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		change func()
		shown  func(m map[string]*attr3) bool
	}{
		{"create", host(func() error { return os.WriteFile(filepath.Join(d, "new"), nil, 0o644) }),
			func(m map[string]*attr3) bool { return m["new"] != nil }},
		{"remove", host(func() error { return os.Remove(filepath.Join(d, "a")) }),
			func(m map[string]*attr3) bool { _, ok := m["a"]; return !ok }},
		{"rename", host(func() error { return os.Rename(filepath.Join(d, "b"), filepath.Join(d, "b2")) }),
			func(m map[string]*attr3) bool { _, ok := m["b"]; return !ok && m["b2"] != nil }},
		{"move in", host(func() error { return os.Rename(filepath.Join(dir, "o", "m"), filepath.Join(d, "m")) }),
			func(m map[string]*attr3) bool { return m["m"] != nil }},
		{"chmod", host(func() error { return os.Chmod(filepath.Join(d, "c"), 0o600) }),
			func(m map[string]*attr3) bool { return m["c"] != nil && m["c"].mode&0o777 == 0o600 }},
		{"write", host(func() error { return os.WriteFile(filepath.Join(d, "c"), make([]byte, 100), 0o600) }),
			func(m map[string]*attr3) bool { return m["c"] != nil && m["c"].size == 100 }},
		{"subdirectory", host(func() error { return os.WriteFile(filepath.Join(d, "sub", "x"), nil, 0o644) }),
			func(m map[string]*attr3) bool {
				return m["sub"] != nil && (m["sub"].mtime != subBefore.mtime || m["sub"].ctime != subBefore.ctime)
			}},
		{"other link", host(func() error { return os.WriteFile(filepath.Join(dir, "o", "h2"), make([]byte, 7), 0o644) }),
			func(m map[string]*attr3) bool { return m["h"] != nil && m["h"].size == 7 }},
	} {
		list()
		tc.change()
		t0, n := time.Now(), 1
		for ; !tc.shown(list()); n++ {
			if time.Since(t0) > liveDeadline {
				t.Errorf("%s: not in the listing after %v (%d listings)", tc.name, liveDeadline, n)
				break
			}
		}
		// The server reads its inotify events before each call, so
		// the first listing after the change shows it.
		if n > 1 {
			t.Errorf("%s: shown only by listing %d after the change, %v later; want the first", tc.name, n, time.Since(t0))
		}
	}
}

// TestListedDirMovedOutIsStale: a directory the server has listed (and
// keeps) is STALE at once through its handle when the host moves its
// parent out of the export, or swaps it for a symlink to a directory
// outside: what the server kept of it is not served from outside.
func TestListedDirMovedOutIsStale(t *testing.T) {
	base := t.TempDir()
	export, outside := filepath.Join(base, "export"), filepath.Join(base, "outside")
	for _, n := range []string{"a/b/f", "c/g"} {
		writeFile(t, filepath.Join(export, n), nil)
	}
	writeFile(t, filepath.Join(outside, "secret"), []byte("x"))
	h := start(t, export, nil)
	c := dial(t, h.addr)
	root := c.mount("/")
	b, cd := c.mustLookup(root, "a", "b"), c.mustLookup(root, "c")
	for _, d := range [][]byte{b, cd} {
		for range 2 {
			if st, _ := c.readdirplus(d, 8192, 8192); st != nfs.NFSStatusOk {
				t.Fatalf("READDIRPLUS before the move: %v", st)
			}
		}
	}
	if err := os.Rename(filepath.Join(export, "a"), filepath.Join(outside, "a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(export, "c"), filepath.Join(base, "c-away")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(export, "c")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		dir  []byte
	}{{"parent moved out", b}, {"swapped for a symlink", cd}} {
		if st, ents := c.readdirplus(tc.dir, 8192, 8192); st != nfs.NFSStatusStale {
			t.Errorf("%s: READDIRPLUS: %v with %d entries, want STALE", tc.name, st, len(ents))
		}
		if st, _ := c.lookup(tc.dir, "secret"); st != nfs.NFSStatusStale {
			t.Errorf("%s: LOOKUP: %v, want STALE", tc.name, st)
		}
	}
}
