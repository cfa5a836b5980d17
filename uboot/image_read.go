package uboot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// maxParts bounds the size table a reader keeps, so that a corrupt table
// cannot make memory grow with the image.
const maxParts = 1 << 16

// Image is a verified legacy image: its header and, for multi-file and
// script images, the sizes of the files in its size table.
type Image struct {
	Header
	Parts []uint32
}

// ReadHeader reads and checks a header: a short read is ErrShort, then
// ErrBadMagic or ErrBadHeaderCRC.
func ReadHeader(r io.Reader) (Header, error) {
	var h Header
	b := make([]byte, HeaderSize)
	n, err := io.ReadFull(r, b)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return h, fmt.Errorf("uimage: %d bytes: %w", n, ErrShort)
	}
	if err != nil {
		return h, fmt.Errorf("uimage: reading the header: %w", err)
	}
	if err := h.UnmarshalBinary(b); err != nil {
		return Header{}, err
	}
	return h, nil
}

// Verify reads an image from r and checks it whole: the header as
// ReadHeader does, then the payload, streamed, against its CRC
// (ErrTruncated if it ends early, ErrBadDataCRC), then for multi-file and
// script images the size table against the payload (ErrBadTable). Bytes
// after the payload are not read: U-Boot too goes by the header's size.
func Verify(r io.Reader) (*Image, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	img := &Image{Header: h}
	var tw tableWriter
	var w io.Writer = io.Discard
	if h.multiType() {
		w = &tw
	}
	n, crc, err := copyCRCBuf(w, io.LimitReader(r, int64(h.Size)), 0, -1, int(min(h.Size, copyBufSize)))
	if err != nil {
		return nil, err
	}
	if n < int64(h.Size) {
		return nil, fmt.Errorf("uimage: %d bytes of data, the header says %d: %w", n, h.Size, ErrTruncated)
	}
	if crc != h.DataCRC {
		return nil, fmt.Errorf("uimage: data CRC is %#08x, the header says %#08x: %w", crc, h.DataCRC, ErrBadDataCRC)
	}
	if h.multiType() && h.Size > 0 {
		if img.Parts, err = tw.parts(h.Size); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// tableWriter collects a size table from the start of a payload.
type tableWriter struct {
	word  [4]byte
	n     int // bytes in word
	sizes []uint32
	done  bool // the 0 word was seen
	err   error
}

func (t *tableWriter) Write(b []byte) (int, error) {
	for i := 0; i < len(b) && !t.done && t.err == nil; {
		c := copy(t.word[t.n:], b[i:])
		i += c
		if t.n += c; t.n < 4 {
			break
		}
		t.n = 0
		switch s := binary.BigEndian.Uint32(t.word[:]); {
		case s == 0:
			t.done = true
		case len(t.sizes) == maxParts:
			t.err = fmt.Errorf("uimage: size table longer than %d entries: %w", maxParts, ErrBadTable)
		default:
			t.sizes = append(t.sizes, s)
		}
	}
	return len(b), nil
}

// parts checks the collected table against a payload of size bytes.
func (t *tableWriter) parts(size uint32) ([]uint32, error) {
	if t.err != nil {
		return nil, t.err
	}
	if !t.done {
		return nil, fmt.Errorf("uimage: size table has no 0 word to end it: %w", ErrBadTable)
	}
	end := int64(4)
	if n := len(t.sizes); n > 0 {
		end = partOffset(t.sizes, n-1) + int64(t.sizes[n-1])
	}
	if end > int64(size) {
		return nil, fmt.Errorf("uimage: size table adds up to %d bytes, the data holds %d: %w", end, size, ErrBadTable)
	}
	return t.sizes, nil
}

// partOffset is where part i starts in the payload: after the table and
// the earlier parts, each padded to 4 bytes.
func partOffset(sizes []uint32, i int) int64 {
	off := int64(4 * (len(sizes) + 1))
	for _, s := range sizes[:max(i, 0)] {
		off += (int64(s) + 3) &^ 3
	}
	return off
}

// List prints the image as `mkimage -l` does: name, creation time (in loc;
// nil means time.Local, as mkimage uses TZ), type, data size, load
// address, entry point and, for multi-file and script images, the
// contents. Where mkimage prints a script part's memory address, List
// prints its offset in the image file.
func (img *Image) List(w io.Writer, loc *time.Location) error {
	if loc == nil {
		loc = time.Local
	}
	h := &img.Header
	lw := &listWriter{w: w}
	lw.printf("Image Name:   %s\n", h.Name)
	lw.printf("Created:      %s\n", h.Time.In(loc).Format("Mon Jan _2 15:04:05 2006"))
	lw.printf("Image Type:   %s %s %s (%s)\n", h.Arch, h.OS, h.Type, h.Comp)
	lw.printf("Data Size:    %s\n", sizeString(h.Size))
	lw.printf("Load Address: %08x\n", h.Load)
	lw.printf("Entry Point:  %08x\n", h.Entry)
	if h.multiType() {
		lw.printf("Contents:\n")
		for i, s := range img.Parts {
			lw.printf("   Image %d: %s\n", i, sizeString(s))
			if h.Type == TypeScript && i > 0 {
				lw.printf("    Offset = 0x%08x\n", HeaderSize+partOffset(img.Parts, i))
			}
		}
	}
	return lw.err
}

// sizeString is genimg_print_size of U-Boot's host tools.
func sizeString(s uint32) string {
	return fmt.Sprintf("%d Bytes = %.2f KiB = %.2f MiB", int32(s), float64(s)/1.024e3, float64(s)/1.048576e6)
}

// listWriter keeps the first write error.
type listWriter struct {
	w   io.Writer
	err error
}

func (l *listWriter) printf(format string, args ...any) {
	if l.err == nil {
		_, l.err = fmt.Fprintf(l.w, format, args...)
	}
}
