package nfsroot

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	nfs "github.com/willscott/go-nfs"
)

// TestReaddirStableCookies lists a 10,000-entry directory in small
// READDIRPLUS replies while another client creates and removes entries
// in it: every entry present throughout is listed exactly once, with
// cookies that never repeat.
func TestReaddirStableCookies(t *testing.T) {
	const n = 10000
	dir := t.TempDir()
	for i := range n {
		writeFile(t, filepath.Join(dir, "big", fmt.Sprintf("e%05d", i)), nil)
	}
	h := start(t, dir, nil)
	c := dial(t, h.addr)
	big := c.mustLookup(c.mount("/"), "big")
	churn := dial(t, h.addr)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("churn%d", i%50)
			if st, _ := churn.create(big, name, createGuarded, sattrNone); st != nfs.NFSStatusOk {
				churn.dirop(nfs.NFSProcedureRemove, big, name)
			}
		}
	}()
	for round := range 2 {
		st, ents := c.readdirplus(big, 8192, 32768)
		if st != nfs.NFSStatusOk {
			t.Fatalf("round %d: READDIRPLUS: %v", round, st)
		}
		seen := map[string]int{}
		cookies := map[uint64]bool{}
		for _, e := range ents {
			seen[e.name]++
			if cookies[e.cookie] {
				t.Errorf("round %d: cookie %d repeated", round, e.cookie)
			}
			cookies[e.cookie] = true
		}
		for i := range n {
			if name := fmt.Sprintf("e%05d", i); seen[name] != 1 {
				t.Errorf("round %d: %s listed %d times", round, name, seen[name])
			}
		}
	}
	close(stop)
	wg.Wait()
}

// TestReaddirplusDots: READDIRPLUS gives "." and ".." their attributes
// and handles (the directory's own and its parent's; the root's ".." is
// the root), as clients that LOOKUP every entry without them expect.
func TestReaddirplusDots(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "b", "f"), nil)
	h := start(t, dir, nil)
	c := dial(t, h.addr)
	root := c.mount("/")
	a := c.mustLookup(root, "a")
	b := c.mustLookup(a, "b")
	for _, tc := range []struct {
		name             string
		dir, dot, dotdot []byte
	}{{"/", root, root, root}, {"/a", a, a, root}, {"/a/b", b, b, a}} {
		st, ents := c.readdirplus(tc.dir, 8192, 8192)
		if st != nfs.NFSStatusOk {
			t.Fatalf("%s: READDIRPLUS: %v", tc.name, st)
		}
		for _, e := range ents {
			want := map[string][]byte{".": tc.dot, "..": tc.dotdot}[e.name]
			if want == nil {
				continue
			}
			_, wa := c.getattr(want)
			switch {
			case !bytes.Equal(e.handle, want):
				t.Errorf("%s: %q has handle %x, want %x", tc.name, e.name, e.handle, want)
			case e.attr == nil || e.attr.fileid != wa.fileid || e.attr.typ != uint32(nfs.FileTypeDirectory):
				t.Errorf("%s: %q has attributes %+v, want those of %+v", tc.name, e.name, e.attr, wa)
			}
		}
	}
}
