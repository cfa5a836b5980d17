package nfsroot

import (
	"crypto/aes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// A file handle is 24 bytes: the host object's device (4: major<<20 |
// minor, the kernel's own dev_t), inode (8) and generation (4: the
// birth time folded to 32 bits, which tells a reused inode from the file
// that had it, as i_generation does in the kernel's handles), then a tag
// (8) keyed with the export's secret, so that nobody can make a handle
// the server did not give out (the device, inode and birth time are
// anyone's to stat). The tag is the first half of the body's AES-256
// encryption: the body is exactly one block, and a block cipher on
// fixed-length one-block inputs is a MAC; guessing one takes 2^63 calls
// on average. The handle names the host object, not a path: the store
// turns it into the object's current path, so it survives renames and
// restarts, and no in-memory table can evict it.
//
// Small handles are fast listings: a READDIRPLUS entry is ~132 bytes
// plus its handle, so 24 bytes rather than 44 fit 13% more entries in
// each reply (nfs-ganesha's VFS handles are 24 bytes too). The 44-byte
// handles of earlier versions (HMAC-SHA256) are BADHANDLE: a board that
// mounted one reboots.
const handleLen = bodyLen + tagLen

const (
	bodyLen = 16
	tagLen  = 8
)

func (x *Export) makeHandle(k fileKey, btime uint64) []byte {
	h := x.handleOf(k, btime)
	return h[:]
}

// handleOf is makeHandle into an array.
func (x *Export) handleOf(k fileKey, btime uint64) (h [handleLen]byte) {
	binary.BigEndian.PutUint32(h[0:], dev32(k.dev))
	binary.BigEndian.PutUint64(h[4:], k.ino)
	binary.BigEndian.PutUint32(h[12:], generation(btime))
	x.tag(h[bodyLen:], h[:bodyLen])
	return h
}

// handle is n's file handle.
func (x *Export) handle(n *node) []byte { return x.makeHandle(n.key, n.btime) }

// tag writes the tag of body (one AES block) into dst.
func (x *Export) tag(dst, body []byte) {
	var out [aes.BlockSize]byte
	x.hblock.Encrypt(out[:], body)
	copy(dst, out[:tagLen])
}

// generation folds a birth time to the 32 bits a handle holds.
func generation(btime uint64) uint32 { return uint32(btime) ^ uint32(btime>>32) }

// dev32 is a device number as the kernel keeps it (12 bits of major, 20
// of minor: every device Linux reports fits), and unDev32 its inverse.
func dev32(dev uint64) uint32 { return unix.Major(dev)<<20 | unix.Minor(dev)&(1<<20-1) }
func unDev32(d uint32) uint64 { return unix.Mkdev(d>>20, d&(1<<20-1)) }

// parseHandle checks a handle's form and tag: ErrBadHandle if either is
// wrong. It returns the object's key and generation.
func (x *Export) parseHandle(h []byte) (fileKey, uint32, error) {
	if len(h) != handleLen {
		return fileKey{}, 0, ErrBadHandle
	}
	var want [tagLen]byte
	x.tag(want[:], h[:bodyLen])
	if subtle.ConstantTimeCompare(want[:], h[bodyLen:]) != 1 {
		return fileKey{}, 0, ErrBadHandle
	}
	return fileKey{unDev32(binary.BigEndian.Uint32(h[0:])), binary.BigEndian.Uint64(h[4:])},
		binary.BigEndian.Uint32(h[12:]), nil
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
