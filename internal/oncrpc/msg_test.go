package oncrpc

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

// call is a call message with the given credential flavor and body.
func call(xid, rpcvers uint32, flavor uint32, cred []byte, args ...uint32) []byte {
	e := &Encoder{}
	for _, v := range []uint32{xid, Call, rpcvers, ProgNFS, 3, 1, flavor} {
		e.Uint32(v)
	}
	e.Opaque(cred)
	e.Uint32(AuthNone)
	e.Uint32(0)
	for _, a := range args {
		e.Uint32(a)
	}
	return e.B
}

func authUnix(uid, gid uint32, gids ...uint32) []byte {
	e := &Encoder{}
	e.Uint32(0)
	e.String("board")
	e.Uint32(uid)
	e.Uint32(gid)
	e.Uint32(uint32(len(gids)))
	for _, g := range gids {
		e.Uint32(g)
	}
	return e.B
}

func words(b []byte) []uint32 {
	var w []uint32
	for i := 0; i+4 <= len(b); i += 4 {
		w = append(w, binary.BigEndian.Uint32(b[i:]))
	}
	return w
}

func TestParseCall(t *testing.T) {
	c, err := ParseCall(call(7, 2, AuthUnix, authUnix(1000, 100, 10, 20), 42))
	if err != nil {
		t.Fatal(err)
	}
	if c.Header != (Header{7, ProgNFS, 3, 1}) || c.Cred.UID != 1000 || c.Cred.GID != 100 || !slices.Equal(c.Cred.GIDs, []uint32{10, 20}) || c.Args.Uint32() != 42 {
		t.Errorf("parsed %+v", c)
	}
	if c, err := ParseCall(call(8, 2, AuthNone, nil)); err != nil || c.Cred.Flavor != AuthNone || c.Cred.UID != Nobody || c.Cred.GID != Nobody {
		t.Errorf("AUTH_NONE: %+v, %v", c, err)
	}
	if c, err := ParseCall(call(9, 2, 6, []byte("gss"))); err != nil || c.Cred.Flavor != 6 {
		t.Errorf("another flavor is the handler's to refuse: %+v, %v", c, err)
	}
	seventeen := authUnix(0, 0, make([]uint32, 17)...)
	for _, tc := range []struct {
		name string
		msg  []byte
		want []uint32 // reply words; nil: ErrNotCall
	}{
		{"RPC version 3", call(1, 3, AuthNone, nil), []uint32{1, Reply, MsgDenied, RPCMismatch, 2, 2}},
		{"17 groups", call(2, 2, AuthUnix, seventeen), []uint32{2, Reply, MsgDenied, AuthError, AuthBadCred}},
		{"truncated credential", call(3, 2, AuthUnix, authUnix(0, 0))[:34], []uint32{3, Reply, MsgDenied, AuthError, AuthBadCred}},
		{"a reply", words2(4, Reply, 0), nil},
		{"three bytes", []byte{1, 2, 3}, nil},
	} {
		_, err := ParseCall(tc.msg)
		var rj *Rejection
		switch {
		case tc.want == nil && err != ErrNotCall:
			t.Errorf("%s: %v, want ErrNotCall", tc.name, err)
		case tc.want != nil && (!errors.As(err, &rj) || !slices.Equal(words(rj.Reply), tc.want)):
			t.Errorf("%s: %v, want a rejection %v", tc.name, err, tc.want)
		}
	}
}

func words2(v ...uint32) []byte {
	e := &Encoder{}
	for _, x := range v {
		e.Uint32(x)
	}
	return e.B
}

// FuzzParseCall: no input panics; a call is parsed, rejected with a
// reply to its xid, or is not a call.
func FuzzParseCall(f *testing.F) {
	f.Add(call(1, 2, AuthUnix, authUnix(0, 0, 1)))
	f.Add(call(2, 2, AuthNone, nil, 1, 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseCall(b)
		var rj *Rejection
		if errors.As(err, &rj) && binary.BigEndian.Uint32(rj.Reply) != binary.BigEndian.Uint32(b) {
			t.Fatalf("rejection to xid %d of call %x", binary.BigEndian.Uint32(rj.Reply), b[:4])
		}
	})
}

func TestXDR(t *testing.T) {
	e := &Encoder{}
	e.Uint32(1)
	e.Uint64(1 << 40)
	e.Bool(true)
	e.Opaque([]byte("abcde"))
	e.String("xy")
	e.Fixed([]byte{9})
	if len(e.B)%4 != 0 || len(e.B) != 4+8+4+(4+8)+(4+4)+4 {
		t.Fatalf("encoded %d bytes: % x", len(e.B), e.B)
	}
	d := NewDecoder(e.B)
	if d.Uint32() != 1 || d.Uint64() != 1<<40 || !d.Bool() || string(d.Opaque(5)) != "abcde" || d.String(2) != "xy" || d.Fixed(1)[0] != 9 || d.Err() != nil || len(d.Rest()) != 0 {
		t.Errorf("round trip failed: %v", d.Err())
	}
	d = NewDecoder(e.B[:10])
	d.Uint32()
	d.Uint64()
	if d.Err() != ErrGarbage || d.Uint32() != 0 {
		t.Errorf("short input: %v", d.Err())
	}
	d = NewDecoder(binary.BigEndian.AppendUint32(nil, 6))
	if d.Opaque(5); d.Err() != ErrGarbage {
		t.Errorf("opaque over its limit: %v", d.Err())
	}
}

func TestPeekHeader(t *testing.T) {
	whole := call(7, 2, AuthNone, nil)
	reply := Accepted(7, Success)
	for _, tc := range []struct {
		name string
		msg  []byte
		want Header
		ok   bool
	}{
		{"call", whole, Header{XID: 7, Prog: ProgNFS, Vers: 3, Proc: 1}, true},
		{"header only", whole[:24], Header{XID: 7, Prog: ProgNFS, Vers: 3, Proc: 1}, true},
		{"truncated", whole[:20], Header{}, false},
		{"reply", reply, Header{}, false},
	} {
		h, ok := peekHeader(tc.msg)
		if ok != tc.ok || ok && h != tc.want {
			t.Errorf("%s: peekHeader = %+v, %v; want %+v, %v", tc.name, h, ok, tc.want, tc.ok)
		}
	}
}
