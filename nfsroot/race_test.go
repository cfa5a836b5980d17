package nfsroot

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"
)

// victim is a file outside the export that races must not reach.
type victim struct {
	t    *testing.T
	path string
	want string
}

func newVictim(t *testing.T, dir string) *victim {
	t.Helper()
	v := &victim{t: t, path: filepath.Join(dir, "victim")}
	writeFile(t, v.path, []byte("VICTIM"))
	v.reset()
	v.want = v.state()
	return v
}

// state is everything about the victim a request could change (not
// its atime, which reading it here moves).
func (v *victim) state() string {
	var st unix.Stat_t
	if err := unix.Lstat(v.path, &st); err != nil {
		return err.Error()
	}
	b, _ := os.ReadFile(v.path)
	return fmt.Sprintf("mode=%o uid=%d gid=%d size=%d mtime=%v data=%q", st.Mode, st.Uid, st.Gid, st.Size, st.Mtim, b)
}

func (v *victim) reset() {
	os.WriteFile(v.path, []byte("VICTIM"), 0o600)
	os.Chmod(v.path, 0o600)
	os.Chown(v.path, 0, 0)
	os.Chtimes(v.path, time.Unix(1e9, 0), time.Unix(1e9, 0))
}

// hit reports (and undoes) a change of the victim.
func (v *victim) hit() bool {
	if v.state() == v.want {
		return false
	}
	v.t.Logf("outside the export: %s, was %s", v.state(), v.want)
	v.reset()
	return true
}

// raceRounds bounds each race: the escapes these tests guard against
// were won about once in 300 tries, so a race that never wins in this
// many is held (and one that does is found within seconds).
const (
	raceRounds = 3000
	raceTime   = 20 * time.Second
)

// TestSymlinkRaceHostSwap races every procedure that changes a file
// against a host process that swaps the file with a symlink to a file
// outside the export (renameat2 RENAME_EXCHANGE, as fast as it can): the
// outside file never changes.
func TestSymlinkRaceHostSwap(t *testing.T) {
	base := t.TempDir()
	v := newVictim(t, filepath.Join(base, "outside"))
	export := filepath.Join(base, "export")
	writeFile(t, filepath.Join(export, "swap", "f"), []byte("file"))
	if err := os.Symlink(v.path, filepath.Join(export, "swap", "s")); err != nil {
		t.Fatal(err)
	}
	h := start(t, export, nil)
	c := dial(t, h.addr)
	dir := c.mustLookup(c.mount("/"), "swap")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f, s := filepath.Join(export, "swap", "f"), filepath.Join(export, "swap", "s")
		for {
			select {
			case <-stop:
				return
			default:
				unix.Renameat2(unix.AT_FDCWD, f, unix.AT_FDCWD, s, unix.RENAME_EXCHANGE)
			}
		}
	}()
	procs := []struct {
		name string
		call func(fh []byte)
	}{
		{"SETATTR mode", func(fh []byte) { c.setattr(fh, sattrMode(0o777)) }},
		{"SETATTR owner", func(fh []byte) { c.setattr(fh, sattrOwner(1234, 1234)) }},
		{"SETATTR times", func(fh []byte) { c.setattr(fh, sattrTimes(timeClient, 5)) }},
		{"SETATTR size", func(fh []byte) { c.setattr(fh, sattrSize(0)) }},
		{"WRITE", func(fh []byte) { c.write(fh, 0, []byte("PWNED"), unstable) }},
		{"READLINK", func(fh []byte) { c.readlink(fh) }},
		{"LINK", func(fh []byte) { c.link(fh, dir, "l"); c.dirop(nfs.NFSProcedureRemove, dir, "l") }},
		{"CREATE over", func([]byte) { c.create(dir, "f", createUnchecked, sattrSize(0)) }},
		{"RENAME", func([]byte) { c.rename(dir, "f", dir, "g"); c.rename(dir, "g", dir, "f") }},
		{"MKDIR", func([]byte) {
			c.created(nfs.NFSProcedureMkDir, dir, "m", sattrMode(0o777))
			c.dirop(nfs.NFSProcedureRmDir, dir, "m")
		}},
		{"MKNOD", func([]byte) {
			c.mknod(dir, "m", nfs.FileTypeFIFO, 0o777, 0, 0)
			c.dirop(nfs.NFSProcedureRemove, dir, "m")
		}},
		{"SYMLINK", func([]byte) { c.symlink(dir, "m", v.path); c.dirop(nfs.NFSProcedureRemove, dir, "m") }},
	}
	for _, p := range procs {
		hits, rounds := 0, 0
		deadline := time.Now().Add(raceTime / 4)
		for ; rounds < raceRounds && time.Now().Before(deadline); rounds++ {
			_, fh := c.lookup(dir, []string{"f", "s"}[rounds%2])
			p.call(fh)
			if v.hit() {
				hits++
			}
		}
		t.Logf("%s: %d rounds", p.name, rounds)
		if hits > 0 {
			t.Errorf("%s reached the file outside the export %d times in %d rounds", p.name, hits, rounds)
		}
	}
	close(stop)
	wg.Wait()
}

// TestSymlinkRaceClient races CREATE, MKDIR and MKNOD of a name, each
// with mode 0777, against a second connection of the same client that
// renames its own symlink (to a file outside the export) onto that name:
// the outside file never changes.
func TestSymlinkRaceClient(t *testing.T) {
	base := t.TempDir()
	v := newVictim(t, filepath.Join(base, "outside"))
	export := filepath.Join(base, "export")
	if err := os.MkdirAll(filepath.Join(export, "cr"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := start(t, export, nil)
	maker, renamer := dial(t, h.addr), dial(t, h.addr)
	dir := maker.mustLookup(maker.mount("/"), "cr")
	makes := []struct {
		name string
		mk   func()
	}{
		{"CREATE", func() { maker.create(dir, "c", createUnchecked, sattrMode(0o777)) }},
		{"MKDIR", func() { maker.created(nfs.NFSProcedureMkDir, dir, "c", sattrMode(0o777)) }},
		{"MKNOD", func() { maker.mknod(dir, "c", nfs.FileTypeFIFO, 0o777, 0, 0) }},
	}
	for _, m := range makes {
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				renamer.symlink(dir, "s", v.path)
				renamer.rename(dir, "s", dir, "c")
			}
		}()
		hits, rounds := 0, 0
		deadline := time.Now().Add(raceTime)
		for ; rounds < raceRounds && time.Now().Before(deadline); rounds++ {
			m.mk()
			if v.hit() {
				hits++
			}
			maker.dirop(nfs.NFSProcedureRemove, dir, "c")
			maker.dirop(nfs.NFSProcedureRmDir, dir, "c")
		}
		stop.Store(true)
		wg.Wait()
		t.Logf("%s: %d rounds", m.name, rounds)
		if hits > 0 {
			t.Errorf("%s with a symlink renamed onto the name reached the file outside the export %d times in %d rounds", m.name, hits, rounds)
		}
	}
}
