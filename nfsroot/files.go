package nfsroot

import (
	"os"

	"golang.org/x/sys/unix"
	"sync"
	"time"
)

// fileCache keeps recently used files open so that a sequential READ or
// WRITE stream does not walk and open the path for every call. It is an
// optimisation only: a miss reopens through the verified path, an entry
// is reopened once it is older than fileTTL, REMOVE and RENAME drop the
// entries of the files they unlink, and every use checks that the open
// file is still where its handle says inside the export (the host may
// have moved it out).
type fileCache struct {
	mu sync.Mutex
	m  map[fileKey]*openFile
}

type openFile struct {
	f      *os.File
	key    fileKey
	btime  uint64
	write  bool
	opened time.Time
	refs   int
	gone   bool // dropped from the cache: close at last release
}

const (
	fileCacheSize = 64
	fileTTL       = 5 * time.Second
)

func (c *fileCache) open(x *Export, n *node, write bool) (*openFile, error) {
	c.mu.Lock()
	if of := c.m[n.key]; of != nil && of.btime == n.btime && (of.write || !write) && time.Since(of.opened) < fileTTL {
		of.refs++
		c.mu.Unlock()
		if err := x.stillThere(of.f, n); err != nil {
			c.release(of)
			c.drop(n.key)
			return nil, err
		}
		return of, nil
	}
	c.mu.Unlock()
	f, err := x.openFile(n, write)
	if err != nil {
		return nil, err
	}
	of := &openFile{f: f, key: n.key, btime: n.btime, write: write, opened: time.Now(), refs: 1}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[fileKey]*openFile{}
	}
	if old := c.m[n.key]; old != nil {
		c.evict(old)
	}
	if len(c.m) >= fileCacheSize {
		var oldest *openFile
		for _, o := range c.m {
			if oldest == nil || o.opened.Before(oldest.opened) {
				oldest = o
			}
		}
		c.evict(oldest)
	}
	c.m[n.key] = of
	return of, nil
}

// evict removes of from the map; called with c.mu held.
func (c *fileCache) evict(of *openFile) {
	delete(c.m, of.key)
	of.gone = true
	if of.refs == 0 {
		of.f.Close()
	}
}

func (c *fileCache) release(of *openFile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	of.refs--
	if of.refs == 0 && of.gone {
		of.f.Close()
	}
}

// drop forgets k's open file.
func (c *fileCache) drop(k fileKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if of := c.m[k]; of != nil {
		c.evict(of)
	}
}

// closeAll closes every idle file (at Export.Close).
func (c *fileCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, of := range c.m {
		c.evict(of)
	}
}

// stillThere checks that the open file f is still n's file at n's path
// in the export: the kernel's name for it (/proc/self/fd) is that path,
// or, when it is not (a name the kernel does not show, a file moved),
// the path still holds the same object.
func (x *Export) stillThere(f *os.File, n *node) error {
	var buf [4096]byte
	got, err := unix.Readlink(procFd(int(f.Fd())), buf[:])
	if err == nil && string(buf[:got]) == x.realDir+"/"+n.path() {
		return nil
	}
	_, err = x.stat(n)
	return err
}
