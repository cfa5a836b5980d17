package uboot

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"runtime"
	"testing"
)

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	m.off += int64(copy(m.b[m.off:], p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += m.off
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	m.off = off
	return off, nil
}

// seekDiscard is a seekable io.Discard.
type seekDiscard struct{ off int64 }

func (d *seekDiscard) Write(p []byte) (int, error) { d.off += int64(len(p)); return len(p), nil }

func (d *seekDiscard) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekCurrent {
		off += d.off
	}
	d.off = off
	return off, nil
}

// io64 gives n bytes of a pattern without holding them.
type io64 struct{ n, off int64 }

func (r *io64) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	for i := range p {
		p[i] = byte(r.off + int64(i))
	}
	r.off += int64(len(p))
	return len(p), nil
}

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func crc(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

func mustImage(t testing.TB, h Header, payload []byte) []byte {
	t.Helper()
	var m memFile
	if _, err := Write(&m, h, bytes.NewReader(payload)); err != nil {
		t.Fatal(err)
	}
	return m.b
}

func mustMulti(t testing.TB, h Header, parts ...[]byte) []byte {
	t.Helper()
	var ps []Part
	for _, p := range parts {
		ps = append(ps, Part{Size: int64(len(p)), R: bytes.NewReader(p)})
	}
	var m memFile
	if _, err := WriteMulti(&m, h, ps); err != nil {
		t.Fatal(err)
	}
	return m.b
}
