package oncrpc

import (
	"encoding/binary"
	"errors"
)

// ErrGarbage is the error of a Decoder that ran past its input or met
// a length over its limit; a Handler answers it with GARBAGE_ARGS.
var ErrGarbage = errors.New("oncrpc: malformed XDR arguments")

// Decoder reads XDR from one message held in memory. Every read is
// bounds-checked; the first failure sticks in Err and later reads
// return zero values, so a procedure decodes its whole argument and
// checks Err once.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder reads b; the values it returns alias b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Err is the first failure, ErrGarbage, or nil.
func (d *Decoder) Err() error { return d.err }

// Rest is what has not been read.
func (d *Decoder) Rest() []byte { return d.b }

// Fail marks the input malformed, for a value the decoder read but the
// procedure cannot take (an enum out of range).
func (d *Decoder) Fail() { d.fail() }

func (d *Decoder) fail() {
	if d.err == nil {
		d.err = ErrGarbage
	}
	d.b = nil
}

// Uint32 reads an unsigned int.
func (d *Decoder) Uint32() uint32 {
	if len(d.b) < 4 {
		d.fail()
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

// Uint64 reads an unsigned hyper.
func (d *Decoder) Uint64() uint64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

// Bool reads a bool.
func (d *Decoder) Bool() bool { return d.Uint32() != 0 }

// Fixed reads n bytes of fixed-length opaque data (padded to 4).
func (d *Decoder) Fixed(n int) []byte {
	padded := (n + 3) &^ 3
	if n < 0 || len(d.b) < padded {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[padded:]
	return v
}

// Opaque reads variable-length opaque data of at most max bytes.
func (d *Decoder) Opaque(max int) []byte {
	n := d.Uint32()
	if d.err != nil {
		return nil
	}
	if n > uint32(max) {
		d.fail()
		return nil
	}
	return d.Fixed(int(n))
}

// String reads a string of at most max bytes.
func (d *Decoder) String(max int) string { return string(d.Opaque(max)) }

// Encoder appends XDR to B.
type Encoder struct{ B []byte }

// Uint32 appends an unsigned int.
func (e *Encoder) Uint32(v uint32) { e.B = binary.BigEndian.AppendUint32(e.B, v) }

// Uint64 appends an unsigned hyper.
func (e *Encoder) Uint64(v uint64) { e.B = binary.BigEndian.AppendUint64(e.B, v) }

// Bool appends a bool.
func (e *Encoder) Bool(v bool) {
	if v {
		e.Uint32(1)
	} else {
		e.Uint32(0)
	}
}

// Fixed appends fixed-length opaque data, padded to 4.
func (e *Encoder) Fixed(p []byte) {
	e.B = append(e.B, p...)
	e.pad(len(p))
}

func (e *Encoder) pad(n int) {
	for ; n%4 != 0; n++ {
		e.B = append(e.B, 0)
	}
}

// Opaque appends variable-length opaque data.
func (e *Encoder) Opaque(p []byte) {
	e.Uint32(uint32(len(p)))
	e.Fixed(p)
}

// String appends a string.
func (e *Encoder) String(s string) {
	e.Uint32(uint32(len(s)))
	e.B = append(e.B, s...)
	e.pad(len(s))
}

// Reserve makes room for n more bytes, moving a large message into a
// pooled buffer (the Server returns it to the pool once sent).
func (e *Encoder) Reserve(n int) {
	if cap(e.B)-len(e.B) >= n {
		return
	}
	var nb []byte
	if len(e.B)+n <= bigBuf {
		nb = getBuf()
	} else {
		nb = make([]byte, 0, len(e.B)+n)
	}
	e.B = append(nb, e.B...)
}
