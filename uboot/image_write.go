package uboot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// ErrEmpty is an empty payload file: mkimage refuses them ("Input file is
// empty, bailing out"), and in a multi-file or script image a zero size
// would end the size table early.
var ErrEmpty = errors.New("empty payload")

// copyBufSize is the streaming buffer: the writer's memory does not grow
// with the payload.
const copyBufSize = 1 << 20

// Write writes an image of one payload to w, as mkimage -d FILE does for
// the kernel, ramdisk, firmware, standalone, filesystem and kernel_noload
// types. The payload is streamed from r to EOF: the header is written as a
// placeholder, the payload is copied while its CRC is computed, then w is
// sought back to write the real header and left at the image's end. The
// returned header has Size and DataCRC filled in. An empty payload makes a
// header-only image, as mkimage -s does.
//
// Multi-file and script images start with a table of their files' sizes,
// which must be known first: write them with WriteMulti.
func Write(w io.WriteSeeker, h Header, r io.Reader) (Header, error) {
	if h.multiType() {
		return h, fmt.Errorf("uimage: %s images start with a size table: use WriteMulti", h.Type.Name())
	}
	start, err := placeholder(w)
	if err != nil {
		return h, err
	}
	n, crc, err := copyCRC(w, r, 0, -1)
	if err != nil {
		return h, err
	}
	h.Size, h.DataCRC = uint32(n), crc
	return h, finish(w, start, &h)
}

// Part is one file of a multi-file or script image: its size, which goes
// in the size table before any data, and its bytes.
type Part struct {
	Size int64
	R    io.Reader
}

// WriteMulti writes a multi-file or script image, as mkimage -T multi (or
// -T script) -d a:b:c does: the payload is a table of the parts' sizes
// (big-endian 32-bit words ending with a 0 word), then each part, every
// part but the last padded with zeros to a multiple of 4 bytes. Each part
// must give exactly Size bytes. No parts make a header-only image, as
// mkimage -s does.
func WriteMulti(w io.WriteSeeker, h Header, parts []Part) (Header, error) {
	table, total, err := sizeTable(parts)
	if err != nil {
		return h, err
	}
	start, err := placeholder(w)
	if err != nil {
		return h, err
	}
	if _, err := w.Write(table); err != nil {
		return h, fmt.Errorf("uimage: writing the size table: %w", err)
	}
	crc := crc32.ChecksumIEEE(table)
	var zeros [3]byte
	for i, p := range parts {
		var n int64
		n, crc, err = copyCRC(w, io.LimitReader(p.R, p.Size), crc, p.Size)
		if err != nil {
			return h, fmt.Errorf("part %d: %w", i, err)
		}
		if pad := -n & 3; pad != 0 && i < len(parts)-1 {
			if _, err := w.Write(zeros[:pad]); err != nil {
				return h, fmt.Errorf("uimage: writing padding: %w", err)
			}
			crc = crc32.Update(crc, crc32.IEEETable, zeros[:pad])
		}
	}
	h.Size, h.DataCRC = uint32(total), crc
	return h, finish(w, start, &h)
}

// sizeTable checks the parts and returns their size table and the payload
// length.
func sizeTable(parts []Part) ([]byte, int64, error) {
	if len(parts) == 0 {
		return nil, 0, nil
	}
	table := make([]byte, 4*(len(parts)+1))
	total := int64(len(table))
	for i, p := range parts {
		switch {
		case p.Size == 0:
			return nil, 0, fmt.Errorf("uimage: part %d: %w", i, ErrEmpty)
		case p.Size < 0 || p.Size > maxPayload:
			return nil, 0, fmt.Errorf("uimage: part %d: size %d: %w", i, p.Size, ErrTooLarge)
		}
		binary.BigEndian.PutUint32(table[4*i:], uint32(p.Size))
		if i < len(parts)-1 {
			total += (p.Size + 3) &^ 3
		} else {
			total += p.Size
		}
	}
	if total > maxPayload {
		return nil, 0, fmt.Errorf("uimage: %d bytes with the size table: %w", total, ErrTooLarge)
	}
	return table, total, nil
}

// placeholder notes where the image starts and reserves its header.
func placeholder(w io.WriteSeeker) (int64, error) {
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, fmt.Errorf("uimage: output is not seekable: %w", err)
	}
	if _, err := w.Write(make([]byte, HeaderSize)); err != nil {
		return 0, fmt.Errorf("uimage: writing the header: %w", err)
	}
	return start, nil
}

// finish writes the header at start and leaves w after the payload.
func finish(w io.WriteSeeker, start int64, h *Header) error {
	b, err := h.MarshalBinary()
	if err != nil {
		return err
	}
	if _, err := w.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("uimage: seeking back to the header: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("uimage: writing the header: %w", err)
	}
	if _, err := w.Seek(start+HeaderSize+int64(h.Size), io.SeekStart); err != nil {
		return fmt.Errorf("uimage: seeking to the image's end: %w", err)
	}
	return nil
}

// copyCRC copies r to w until EOF, updating crc. With want >= 0, fewer
// than want bytes is an error. Reading and hashing one buffer overlaps
// with writing the one before, so a wrap runs at the pace of the slower
// of CRC32 and the disk rather than their sum. Two buffers of half
// copyBufSize: memory does not grow with the payload.
func copyCRC(w io.Writer, r io.Reader, crc uint32, want int64) (int64, uint32, error) {
	free := make(chan []byte, 2)
	free <- make([]byte, copyBufSize/2)
	free <- make([]byte, copyBufSize/2)
	full := make(chan []byte, 1)
	werr := make(chan error, 1)
	var failed atomic.Bool
	go func() {
		var err error
		for b := range full {
			if err == nil {
				if _, err = w.Write(b); err != nil {
					failed.Store(true)
				}
			}
			free <- b[:cap(b)]
		}
		werr <- err
	}()
	n, crc, rerr := readCRC(r, crc, free, full, &failed)
	close(full)
	if err := <-werr; err != nil {
		return n, crc, fmt.Errorf("uimage: writing the payload: %w", err)
	}
	if rerr != nil {
		return n, crc, rerr
	}
	if want >= 0 && n != want {
		return n, crc, fmt.Errorf("uimage: payload gave %d bytes, its size says %d: %w", n, want, io.ErrUnexpectedEOF)
	}
	return n, crc, nil
}

// readCRC is copyCRC's reading half: it fills free buffers from r, hashes
// them and hands them to the writer on full, until EOF or the writer fails.
func readCRC(r io.Reader, crc uint32, free chan []byte, full chan<- []byte, failed *atomic.Bool) (int64, uint32, error) {
	var n int64
	for !failed.Load() {
		buf := <-free
		m, err := r.Read(buf)
		if m > 0 {
			if n += int64(m); n > maxPayload {
				return n, crc, fmt.Errorf("uimage: %w", ErrTooLarge)
			}
			crc = crc32.Update(crc, crc32.IEEETable, buf[:m])
			full <- buf[:m]
		} else {
			free <- buf
		}
		if err == io.EOF {
			return n, crc, nil
		}
		if err != nil {
			return n, crc, fmt.Errorf("uimage: reading the payload: %w", err)
		}
	}
	return n, crc, nil
}

// copyCRCBuf is a serial copyCRC with one buffer of bufSize bytes, for
// the reader, whose writer (a table collector or io.Discard) costs nothing.
func copyCRCBuf(w io.Writer, r io.Reader, crc uint32, want int64, bufSize int) (int64, uint32, error) {
	buf := make([]byte, max(bufSize, 1))
	var n int64
	for {
		m, rerr := r.Read(buf)
		if m > 0 {
			if n += int64(m); n > maxPayload {
				return n, crc, fmt.Errorf("uimage: %w", ErrTooLarge)
			}
			crc = crc32.Update(crc, crc32.IEEETable, buf[:m])
			if _, err := w.Write(buf[:m]); err != nil {
				return n, crc, fmt.Errorf("uimage: writing the payload: %w", err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, crc, fmt.Errorf("uimage: reading the payload: %w", rerr)
		}
	}
	if want >= 0 && n != want {
		return n, crc, fmt.Errorf("uimage: payload gave %d bytes, its size says %d: %w", n, want, io.ErrUnexpectedEOF)
	}
	return n, crc, nil
}

// WriteFile writes the image at path from the data files, as
// `mkimage -d a[:b...] path` does: one file for the single-payload types,
// any number for multi and script. No files make a header-only image
// (mkimage -s). An empty file is an error wrapping ErrEmpty. The image is
// written beside path and renamed over it, so a reader (a TFTP server)
// never sees half an image.
func WriteFile(path string, h Header, datafiles ...string) (Header, error) {
	if !h.multiType() && len(datafiles) > 1 {
		return h, fmt.Errorf("uimage: %d data files for a %s image: only multi and script images hold several", len(datafiles), h.Type.Name())
	}
	var parts []Part
	for _, name := range datafiles {
		f, err := os.Open(name)
		if err != nil {
			return h, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return h, err
		}
		if fi.Size() == 0 {
			return h, fmt.Errorf("%s: input file is empty: %w", name, ErrEmpty)
		}
		parts = append(parts, Part{Size: fi.Size(), R: f})
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return h, err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	switch {
	case h.multiType():
		h, err = WriteMulti(tmp, h, parts)
	case len(parts) == 1:
		h, err = Write(tmp, h, parts[0].R)
	default:
		h, err = Write(tmp, h, eof{})
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return h, fmt.Errorf("%s: %w", path, err)
	}
	return h, os.Rename(tmp.Name(), path)
}

// eof is an empty payload.
type eof struct{}

func (eof) Read([]byte) (int, error) { return 0, io.EOF }

// BuildTime is the time to stamp images with: SOURCE_DATE_EPOCH when set
// (reproducible builds, https://reproducible-builds.org/specs/source-date-epoch/),
// otherwise now.
func BuildTime() (time.Time, error) {
	s, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok {
		return time.Now(), nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 || sec > 1<<32-1 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want whole seconds since 1970, at most %d", s, int64(1<<32-1))
	}
	return time.Unix(sec, 0), nil
}
