package nfsroot

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// A file handle is 44 bytes: "bR" v2 (4), device (8), inode (8), birth
// time (8), and a MAC of those (16) keyed with the export's secret, so
// that nobody can make a handle the server did not give out (the
// device, inode and birth time are anyone's to stat). It names the host
// object, not a path: the store turns it into the object's current
// path, so it survives renames and restarts, and no in-memory table can
// evict it.
const handleLen = 28 + macLen

const macLen = 16

var handleMagic = [4]byte{'b', 'R', 0, 2}

func (x *Export) makeHandle(k fileKey, btime uint64) []byte {
	h := x.handleOf(k, btime)
	return h[:]
}

// handleOf is makeHandle into an array.
func (x *Export) handleOf(k fileKey, btime uint64) (h [handleLen]byte) {
	copy(h[:], handleMagic[:])
	binary.BigEndian.PutUint64(h[4:], k.dev)
	binary.BigEndian.PutUint64(h[12:], k.ino)
	binary.BigEndian.PutUint64(h[20:], btime)
	copy(h[28:], x.mac(h[:28]))
	return h
}

// handle is n's file handle.
func (x *Export) handle(n *node) []byte { return x.makeHandle(n.key, n.btime) }

// mac is the MAC of a handle's body. The keyed hashes are pooled: a
// Reset one starts from the key's saved state, half the work of a new one.
func (x *Export) mac(body []byte) []byte {
	m, _ := x.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, x.hkey)
	}
	m.Reset()
	m.Write(body)
	sum := m.Sum(make([]byte, 0, sha256.Size))
	x.macs.Put(m)
	return sum[:macLen]
}

// parseHandle checks a handle's form and MAC: ErrBadHandle if either is
// wrong.
func (x *Export) parseHandle(h []byte) (fileKey, uint64, error) {
	if len(h) != handleLen || [4]byte(h[:4]) != handleMagic || !hmac.Equal(h[28:], x.mac(h[:28])) {
		return fileKey{}, 0, ErrBadHandle
	}
	return fileKey{binary.BigEndian.Uint64(h[4:]), binary.BigEndian.Uint64(h[12:])},
		binary.BigEndian.Uint64(h[20:]), nil
}

// handleKeyPath is where the MAC key of the export whose metadata store
// is at store lives: beside it, <store without .db>.key.
func handleKeyPath(store string) string {
	return strings.TrimSuffix(store, ".db") + ".key"
}

const handleKeySize = 32

// ErrHandleKey is wrapped by the errors of a handle key file that
// cannot be used.
var ErrHandleKey = errors.New("nfsroot: handle key")

// loadHandleKey reads the export's handle key, making one (mode 0600)
// the first time. A key others could read, or of the wrong size, is an
// error: handles made with it could be forged, or none would verify.
func loadHandleKey(path string) ([]byte, error) {
	key, err := readHandleKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createHandleKey(path); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrHandleKey, path, err)
	}
	return readHandleKey(path)
}

func readHandleKey(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("%w %s: %w", ErrHandleKey, path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w %s: %w", ErrHandleKey, path, err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%w %s: not a regular file", ErrHandleKey, path)
	case fi.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("%w %s: mode %04o lets others read it and forge file handles: chmod 600 it", ErrHandleKey, path, fi.Mode().Perm())
	}
	key, err := io.ReadAll(io.LimitReader(f, handleKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrHandleKey, path, err)
	}
	if len(key) != handleKeySize {
		return nil, fmt.Errorf("%w %s: %d bytes, want %d (remove it to make a new one; the board's handles then go stale)", ErrHandleKey, path, len(key), handleKeySize)
	}
	return key, nil
}

// createHandleKey writes a new random key to path, atomically: a
// concurrent start that made one first wins.
func createHandleKey(path string) error {
	key := make([]byte, handleKeySize)
	rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".new*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(key)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
