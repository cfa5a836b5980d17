// Package cpio writes cpio archives in the "newc" (SVR4, 070701) format
// the Linux kernel unpacks as an initramfs. Start with [NewWriter].
package cpio

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Trailer is the name of the record that ends an archive.
const Trailer = "TRAILER!!!"

// Unix file type bits of Header.Mode.
const (
	TypeFIFO    = 0o010000
	TypeChar    = 0o020000
	TypeDir     = 0o040000
	TypeBlock   = 0o060000
	TypeRegular = 0o100000
	TypeSymlink = 0o120000
	TypeSocket  = 0o140000
	typeMask    = 0o170000
)

// Header is one record's metadata.
type Header struct {
	Name     string // relative, no leading slash: "dev/console"
	Mode     uint32 // type bits | permission and special bits
	UID, GID uint32
	Nlink    uint32 // 0 means 1 (2 for directories)
	Mtime    int64  // seconds since the epoch
	Size     int64  // bytes of data that follow (symlink: the target's length)
	Major    uint32 // device the file lives on; usually 0
	Minor    uint32
	RMajor   uint32 // for character and block devices
	RMinor   uint32
	Ino      uint32 // 0: the writer numbers records from 1
}

// Errors the writer returns.
var (
	ErrWriteTooLong = errors.New("cpio: write beyond the header's size")
	ErrShortWrite   = errors.New("cpio: fewer bytes written than the header's size")
	ErrName         = errors.New("cpio: bad name")
	ErrClosed       = errors.New("cpio: writer closed")
)

// Writer writes a newc archive: WriteHeader, then Size bytes with Write,
// for each record; Close writes the trailer.
type Writer struct {
	w      io.Writer
	n      int64 // bytes written so far, for padding
	left   int64 // data bytes the current record still expects
	pad    int   // padding owed after the current record's data
	ino    uint32
	closed bool
}

// NewWriter writes an archive to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// NextIno reserves an inode number for records that share it: the
// names of one hard-linked file, each with Header.Ino set to it.
func (w *Writer) NextIno() uint32 {
	w.ino++
	return w.ino
}

// WriteHeader starts a record, finishing the previous one.
func (w *Writer) WriteHeader(h *Header) error {
	if w.closed {
		return ErrClosed
	}
	if err := w.finish(); err != nil {
		return err
	}
	if h.Name == "" || strings.ContainsRune(h.Name, 0) {
		return fmt.Errorf("%w: %q", ErrName, h.Name)
	}
	if h.Size < 0 || h.Size > 0xffffffff {
		return fmt.Errorf("cpio: %s: size %d does not fit newc's 32 bits", h.Name, h.Size)
	}
	hdr := *h
	if hdr.Ino == 0 {
		w.ino++
		hdr.Ino = w.ino
	}
	if hdr.Nlink == 0 {
		hdr.Nlink = 1
		if hdr.Mode&typeMask == TypeDir {
			hdr.Nlink = 2
		}
	}
	return w.writeHeader(&hdr)
}

func (w *Writer) writeHeader(h *Header) error {
	rec := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%s\x00",
		h.Ino, h.Mode, h.UID, h.GID, h.Nlink, uint32(h.Mtime), uint32(h.Size),
		h.Major, h.Minor, h.RMajor, h.RMinor, len(h.Name)+1, 0, h.Name)
	if err := w.write([]byte(rec)); err != nil {
		return err
	}
	if err := w.write(make([]byte, padding(w.n, 4))); err != nil {
		return err
	}
	w.left = h.Size
	w.pad = int(padding(h.Size, 4))
	return nil
}

// Write writes the current record's data.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrClosed
	}
	if int64(len(p)) > w.left {
		return 0, ErrWriteTooLong
	}
	n, err := w.w.Write(p)
	w.n += int64(n)
	w.left -= int64(n)
	return n, err
}

func (w *Writer) finish() error {
	if w.left > 0 {
		return fmt.Errorf("%w: %d bytes missing", ErrShortWrite, w.left)
	}
	err := w.write(make([]byte, w.pad))
	w.pad = 0
	return err
}

func (w *Writer) write(b []byte) error {
	n, err := w.w.Write(b)
	w.n += int64(n)
	return err
}

// Close writes the trailer record and pads the archive to a 512-byte
// block, as GNU cpio does. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	if err := w.finish(); err != nil {
		return err
	}
	if err := w.writeHeader(&Header{Name: Trailer, Nlink: 1}); err != nil {
		return err
	}
	w.closed = true
	return w.write(make([]byte, padding(w.n, 512)))
}

func padding(n, to int64) int64 { return (to - n%to) % to }
