package nfsroot

import (
	"encoding/binary"
	"errors"
)

// errGarbage is returned by the decoder for a truncated or malformed
// argument; the dispatcher answers it with GARBAGE_ARGS.
var errGarbage = errors.New("nfsroot: malformed XDR arguments")

// decoder reads XDR from one RPC record held in memory. Every read is
// bounds-checked against the record; the first failure sticks in err and
// later reads return zero values, so a procedure decodes its whole
// argument and checks err once.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errGarbage
	}
	d.b = nil
}

func (d *decoder) uint32() uint32 {
	if len(d.b) < 4 {
		d.fail()
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) bool() bool { return d.uint32() != 0 }

// fixed reads n bytes of fixed-length opaque data (padded to 4).
func (d *decoder) fixed(n int) []byte {
	padded := (n + 3) &^ 3
	if n < 0 || len(d.b) < padded {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[padded:]
	return v
}

// opaque reads variable-length opaque data of at most max bytes. The
// returned slice aliases the record.
func (d *decoder) opaque(max int) []byte {
	n := d.uint32()
	if d.err != nil {
		return nil
	}
	if n > uint32(max) {
		d.fail()
		return nil
	}
	return d.fixed(int(n))
}

func (d *decoder) string(max int) string { return string(d.opaque(max)) }

// encoder appends XDR to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) uint32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) uint64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }

func (e *encoder) bool(v bool) {
	if v {
		e.uint32(1)
	} else {
		e.uint32(0)
	}
}

func (e *encoder) fixed(p []byte) {
	e.b = append(e.b, p...)
	for i := len(p); i%4 != 0; i++ {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) opaque(p []byte) {
	e.uint32(uint32(len(p)))
	e.fixed(p)
}

func (e *encoder) string(s string) {
	e.uint32(uint32(len(s)))
	e.b = append(e.b, s...)
	for i := len(s); i%4 != 0; i++ {
		e.b = append(e.b, 0)
	}
}
