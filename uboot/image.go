package uboot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// The legacy image header, from U-Boot's include/image.h (struct
// legacy_img_hdr): 64 bytes, big-endian, followed by the payload.
const (
	HeaderSize = 64
	Magic      = 0x27051956 // IH_MAGIC
	NameLen    = 32         // IH_NMLEN
)

// Header field offsets.
const (
	offMagic   = 0
	offHCRC    = 4
	offTime    = 8
	offSize    = 12
	offLoad    = 16
	offEntry   = 20
	offDCRC    = 24
	offOS      = 28
	offArch    = 29
	offType    = 30
	offComp    = 31
	offName    = 32
	maxPayload = 1<<32 - 1
)

// Defects of an image, told apart with errors.Is.
var (
	ErrShort        = errors.New("short file: smaller than the 64-byte header")
	ErrBadMagic     = errors.New("bad magic: not a U-Boot legacy image")
	ErrBadHeaderCRC = errors.New("bad header CRC")
	ErrBadDataCRC   = errors.New("bad data CRC")
	ErrTruncated    = errors.New("data shorter than the header says")
	ErrBadTable     = errors.New("bad size table of a multi-file or script image")
	ErrTooLarge     = errors.New("payload larger than 4 GiB - 1, the most a header can say")
)

// Header is a legacy image header. Size and DataCRC describe the payload;
// the writers compute them, and the header CRC, themselves.
type Header struct {
	Name    string    // at most 32 bytes are kept, as mkimage does
	Time    time.Time // creation time; seconds since 1970 in 32 bits
	Size    uint32    // payload length in bytes
	Load    uint32    // load address
	Entry   uint32    // entry point
	DataCRC uint32    // CRC32 (IEEE) of the payload
	OS      OS
	Arch    Arch
	Type    Type
	Comp    Comp
}

// MarshalBinary encodes the header with its header CRC. A Time before
// 1970 or after 2106 does not fit the 32-bit field and is an error; the
// zero Time is written as 0.
func (h *Header) MarshalBinary() ([]byte, error) {
	var t uint32
	if !h.Time.IsZero() {
		s := h.Time.Unix()
		if s < 0 || s > 1<<32-1 {
			return nil, fmt.Errorf("uimage header: time %s does not fit in 32 bits of seconds since 1970", h.Time.UTC())
		}
		t = uint32(s)
	}
	b := make([]byte, HeaderSize)
	be := binary.BigEndian
	be.PutUint32(b[offMagic:], Magic)
	be.PutUint32(b[offTime:], t)
	be.PutUint32(b[offSize:], h.Size)
	be.PutUint32(b[offLoad:], h.Load)
	be.PutUint32(b[offEntry:], h.Entry)
	be.PutUint32(b[offDCRC:], h.DataCRC)
	b[offOS], b[offArch], b[offType], b[offComp] = uint8(h.OS), uint8(h.Arch), uint8(h.Type), uint8(h.Comp)
	copy(b[offName:offName+NameLen], h.Name) // cut at 32 bytes, no NUL needed: mkimage's image_set_name
	be.PutUint32(b[offHCRC:], crc32.ChecksumIEEE(b))
	return b, nil
}

// UnmarshalBinary decodes a header, checking its length, magic and
// header CRC. Bytes after the first 64 are ignored.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) < HeaderSize {
		return fmt.Errorf("uimage: %d bytes: %w", len(b), ErrShort)
	}
	be := binary.BigEndian
	if m := be.Uint32(b[offMagic:]); m != Magic {
		return fmt.Errorf("uimage: magic %#08x, want %#08x: %w", m, Magic, ErrBadMagic)
	}
	var c [HeaderSize]byte
	copy(c[:], b)
	want := be.Uint32(c[offHCRC:])
	clear(c[offHCRC : offHCRC+4])
	if got := crc32.ChecksumIEEE(c[:]); got != want {
		return fmt.Errorf("uimage: header CRC is %#08x, the header's bytes give %#08x: %w", want, got, ErrBadHeaderCRC)
	}
	name := c[offName : offName+NameLen]
	for i, x := range name {
		if x == 0 {
			name = name[:i]
			break
		}
	}
	*h = Header{
		Name:    string(name),
		Time:    time.Unix(int64(be.Uint32(c[offTime:])), 0),
		Size:    be.Uint32(c[offSize:]),
		Load:    be.Uint32(c[offLoad:]),
		Entry:   be.Uint32(c[offEntry:]),
		DataCRC: be.Uint32(c[offDCRC:]),
		OS:      OS(c[offOS]),
		Arch:    Arch(c[offArch]),
		Type:    Type(c[offType]),
		Comp:    Comp(c[offComp]),
	}
	return nil
}

// multiType reports whether the payload starts with a size table.
func (h *Header) multiType() bool { return h.Type == TypeMulti || h.Type == TypeScript }
