package nfsroot

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/devtable"
	"github.com/bootrig/bootrig/internal/oncrpc"
)

// snapshot records everything about a host tree a request could change.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		v := fmt.Sprintf("mode=%o uid=%d gid=%d size=%d mtime=%v ctime=%v nlink=%d", st.Mode, st.Uid, st.Gid, st.Size, st.Mtim, st.Ctim, st.Nlink)
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			v += fmt.Sprintf(" sha256=%x", sha256.Sum256(b))
		}
		out[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// canary watches directories with inotify: any open, read, write,
// attribute change, creation or deletion in them is an event.
type canary struct {
	fd int
}

func watch(t *testing.T, dirs ...string) *canary {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	for _, d := range dirs {
		if _, err := unix.InotifyAddWatch(fd, d, unix.IN_ALL_EVENTS); err != nil {
			t.Fatal(err)
		}
	}
	return &canary{fd: fd}
}

// events drains and describes what happened.
func (c *canary) events() []string {
	var out []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(c.fd, buf)
		if n <= 0 || err != nil {
			return out
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
			out = append(out, fmt.Sprintf("mask=%#x name=%q", ev.Mask, name))
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

// TestHostileCorpus drives the server with raw NFS requests that try to
// leave the export through symlinks (absolute, relative, in the middle
// of a path, swapped in while requests run), bad names and forged
// handles, and asserts that nothing outside changed and nothing outside
// was opened or read.
func TestHostileCorpus(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	export := filepath.Join(base, "export")
	writeFile(t, filepath.Join(outside, "secret"), []byte("SECRET"))
	writeFile(t, filepath.Join(outside, "d", "inner"), []byte("INNER"))
	writeFile(t, filepath.Join(export, "sub", "x"), []byte("x"))
	writeFile(t, filepath.Join(export, "race", "keep"), []byte("k"))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"abs":             outside,
		"rel":             "../outside",
		"sub/deep":        "../../outside",
		"secretlink":      "../outside/secret",
		"abssecret":       filepath.Join(outside, "secret"),
		"etc":             "/etc",
		"inside":          "sub",
		"racelink":        "../outside",
		"sub/dotdot":      "..",
		"sub/abs-d":       filepath.Join(outside, "d"),
		"sub/loop":        "loop",
		"sub/deep-nested": "deep/d",
	}
	for name, target := range links {
		must(os.Symlink(target, filepath.Join(export, name)))
	}
	// Stat of everything outside, then the canary: from here on, any
	// access outside is a failure.
	before := snapshot(t, outside)
	etcBefore := snapshot(t, "/etc/passwd")
	can := watch(t, outside, filepath.Join(outside, "d"))

	h := start(t, export, nil)
	c := dial(t, h.addr)
	root := c.mount("/")
	ok := nfs.NFSStatusOk
	fail := func(what string, st nfs.NFSStatus) {
		t.Helper()
		if st == ok {
			t.Errorf("%s: OK, want an error", what)
		}
	}
	sub := c.mustLookup(root, "sub")
	x := c.mustLookup(sub, "x")
	for name, target := range links {
		l := c.mustLookup(root, strings.Split(name, "/")...)
		if st, a := c.getattr(l); st != ok || a.typ != uint32(nfs.FileTypeLink) {
			t.Errorf("GETATTR %s: %v type %d, want the symlink itself", name, st, a.typ)
		}
		if st, got := c.readlink(l); st != ok || got != target {
			t.Errorf("READLINK %s: %v %q, want %q verbatim", name, st, got, target)
		}
		for _, child := range []string{"secret", "d", "inner", "x", "."} {
			st, _ := c.lookup(l, child)
			if child == "." {
				continue // "." of a symlink handle: NOTDIR or the link itself
			}
			fail("LOOKUP "+name+"/"+child, st)
		}
		st, _ := c.read(l, 0, 100)
		fail("READ "+name, st)
		fail("WRITE "+name, c.write(l, 0, []byte("PWNED"), fileSync))
		fail("SETATTR size "+name, c.setattr(l, func(e *encoder) {
			e.Bool(true)
			e.Uint32(0o777)
			e.Bool(true)
			e.Uint32(0)
			e.Bool(true)
			e.Uint32(0)
			e.Bool(true)
			e.Uint64(0)
			e.Uint32(timeServer)
			e.Uint32(timeServer)
		}))
		c.setattr(l, sattrMode(0o777)) // the link's own mode: nothing outside
		st, _ = c.create(l, "pwn", createUnchecked, sattrNone)
		fail("CREATE in "+name, st)
		st, _ = c.create(l, "secret", createUnchecked, func(e *encoder) {
			e.Bool(false)
			e.Bool(false)
			e.Bool(false)
			e.Bool(true)
			e.Uint64(0)
			e.Uint32(timeDont)
			e.Uint32(timeDont)
		})
		fail("CREATE truncating secret in "+name, st)
		st, _ = c.mkdir(l, "pwn")
		fail("MKDIR in "+name, st)
		st, _ = c.symlink(l, "pwn", "x")
		fail("SYMLINK in "+name, st)
		st, _ = c.mknod(l, "pwn", nfs.FileTypeFIFO, 0o666, 0, 0)
		fail("MKNOD in "+name, st)
		fail("REMOVE in "+name, c.dirop(nfs.NFSProcedureRemove, l, "secret"))
		fail("RMDIR in "+name, c.dirop(nfs.NFSProcedureRmDir, l, "d"))
		fail("RENAME out of "+name, c.rename(l, "secret", root, "stolen"))
		fail("RENAME into "+name, c.rename(sub, "x", l, "planted"))
		fail("LINK into "+name, c.link(x, l, "planted"))
		st, _ = c.readdirplus(l, 4096, 65536)
		fail("READDIRPLUS "+name, st)
		d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureReadDir), args(func(e *encoder) {
			e.Opaque(l)
			e.Uint64(0)
			e.Fixed(make([]byte, 8))
			e.Uint32(4096)
		}))
		fail("READDIR "+name, nfs.NFSStatus(d.Uint32()))
	}
	// Names that are not one component.
	long := strings.Repeat("a", 256)
	for _, name := range []string{"..", ".", "../outside", "../outside/secret", "/tmp/pwn", "a/b", "a\x00b", long, ""} {
		st, _ := c.create(root, name, createUnchecked, sattrNone)
		fail(fmt.Sprintf("CREATE %q", name), st)
		st, _ = c.mkdir(root, name)
		fail(fmt.Sprintf("MKDIR %q", name), st)
		st, _ = c.symlink(root, name, "x")
		fail(fmt.Sprintf("SYMLINK %q", name), st)
		fail(fmt.Sprintf("RENAME to %q", name), c.rename(sub, "x", root, name))
		fail(fmt.Sprintf("LINK as %q", name), c.link(x, root, name))
		if name != ".." && name != "." {
			st, _ = c.lookup(root, name)
			fail(fmt.Sprintf("LOOKUP %q", name), st)
		}
	}
	if st, up := c.lookup(root, ".."); st != ok || !bytes.Equal(up, root) {
		t.Errorf("LOOKUP .. of the root: %v, want the root itself", st)
	}
	if st, _ := c.create(root, long, createUnchecked, sattrNone); st != nfs.NFSStatusNameTooLong {
		t.Errorf("CREATE of a 256-byte name: %v, want NAMETOOLONG", st)
	}
	// Forged handles naming objects outside (valid format, real inodes).
	for _, p := range []string{outside, filepath.Join(outside, "secret"), base, "/etc/passwd"} {
		var stx unix.Statx_t
		must(unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW, statxMask, &stx))
		fh := h.x.makeHandle(keyOf(&stx), btimeOf(&stx))
		if st, _ := c.getattr(fh); st != nfs.NFSStatusStale {
			t.Errorf("GETATTR of a forged handle for %s: %v, want STALE", p, st)
		}
		st, _ := c.read(fh, 0, 100)
		fail("READ forged "+p, st)
		fail("WRITE forged "+p, c.write(fh, 0, []byte("PWNED"), fileSync))
		st, _ = c.create(fh, "pwn", createUnchecked, sattrNone)
		fail("CREATE in forged "+p, st)
		st, _ = c.lookup(fh, "secret")
		fail("LOOKUP in forged "+p, st)
	}
	for _, fh := range [][]byte{nil, {1, 2, 3}, bytes.Repeat([]byte{0xff}, 64), append(append([]byte(nil), root...), 0)} {
		if st, _ := c.getattr(fh); st != nfs.NFSStatusBadHandle && st != nfs.NFSStatusStale {
			t.Errorf("GETATTR of handle %x: %v, want BADHANDLE", fh, st)
		}
	}
	// MOUNT paths outside.
	for _, p := range []string{outside, base, "/../outside", "/abs", "/rel/d", "/etc", "/sub/deep"} {
		d := c.call(oncrpc.ProgMount, 1, args(func(e *encoder) { e.String(p) }))
		if st := d.Uint32(); st == 0 {
			t.Errorf("MNT %q: OK, want refused", p)
		}
	}
	// A directory swapped with a symlink to outside while requests run.
	raceDir := c.mustLookup(root, "race")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, l, tmp := filepath.Join(export, "race"), filepath.Join(export, "racelink"), filepath.Join(export, "race.tmp")
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			must(os.Rename(r, tmp))
			must(os.Rename(l, r))
			must(os.Rename(r, l))
			must(os.Rename(tmp, r))
		}
	}()
	for i := range 1500 {
		name := fmt.Sprintf("pwn%d", i)
		st, fh := c.create(raceDir, name, createUnchecked, sattrNone)
		if st == ok {
			c.write(fh, 0, []byte("PWNED"), fileSync)
			c.setattr(fh, sattrMode(0o777))
			c.dirop(nfs.NFSProcedureRemove, raceDir, name)
		}
		if st, fresh := c.lookup(root, "race"); st == ok {
			if st, fh := c.create(fresh, name, createUnchecked, sattrNone); st == ok {
				c.write(fh, 0, []byte("PWNED"), fileSync)
			}
			c.lookup(fresh, "secret")
			c.readdirplus(fresh, 4096, 65536)
			c.dirop(nfs.NFSProcedureRemove, fresh, "secret")
			c.rename(fresh, "secret", root, "stolen")
		}
	}
	close(stop)
	wg.Wait()
	// Seeding through a symlink is left alone (a board-made change) too.
	for _, e := range []devtable.Entry{
		{Kind: devtable.Nod, Path: "/abs/pwn", DevType: 'c', Major: 1, Minor: 3, Mode: 0o666},
		{Kind: devtable.Dir, Path: "/rel/pwn", Mode: 0o755},
		{Kind: devtable.Nod, Path: "/secretlink", DevType: 'c', Major: 1, Minor: 3, Mode: 0o666},
	} {
		if err := h.x.seedOne(e); !errors.Is(err, ErrSeedConflict) {
			t.Errorf("seeding %s through a symlink: %v, want ErrSeedConflict", e.Path, err)
		}
	}

	if ev := can.events(); len(ev) > 0 {
		t.Errorf("%d accesses outside the export, e.g. %v", len(ev), ev[:min(len(ev), 10)])
	}
	after := snapshot(t, outside)
	for p, v := range before {
		if after[p] != v {
			t.Errorf("outside changed: %s: %s, was %s", p, after[p], v)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("outside: %s appeared", p)
		}
	}
	if got := snapshot(t, "/etc/passwd"); fmt.Sprint(got) != fmt.Sprint(etcBefore) {
		t.Errorf("/etc/passwd changed")
	}
}
