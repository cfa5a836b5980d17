package oncrpc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func frame(msg []byte, frag int) []byte {
	var out []byte
	for i := 0; i < len(msg) || i == 0; i += frag {
		part := msg[i:min(i+frag, len(msg))]
		h := uint32(len(part))
		if i+frag >= len(msg) {
			h |= lastFragment
		}
		out = binary.BigEndian.AppendUint32(out, h)
		out = append(out, part...)
	}
	return out
}

func TestReadRecord(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 70<<10/16)
	tests := []struct {
		name    string
		stream  []byte
		limit   int
		want    []byte
		wantErr error
	}{
		{"one fragment", frame([]byte("call"), 4), 100, []byte("call"), nil},
		{"fragments", frame([]byte("a longer call"), 3), 100, []byte("a longer call"), nil},
		{"large, pooled", frame(big, 1000), len(big), big, nil},
		{"at the limit", frame([]byte("12345678"), 8), 8, []byte("12345678"), nil},
		{"over the limit", frame([]byte("123456789"), 8), 8, nil, ErrRecordTooLarge},
		{"huge mark, nothing read", binary.BigEndian.AppendUint32(nil, 0xffffffff), 1 << 20, nil, ErrRecordTooLarge},
		{"truncated", frame([]byte("call"), 4)[:6], 100, nil, io.ErrUnexpectedEOF},
		{"truncated between fragments", frame([]byte("callcall"), 4)[:8], 100, nil, io.ErrUnexpectedEOF},
		{"empty", nil, 100, nil, io.EOF},
	}
	for _, tc := range tests {
		got, err := ReadRecord(bufio.NewReader(bytes.NewReader(tc.stream)), tc.limit)
		if !errors.Is(err, tc.wantErr) || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %d bytes, %v; want %d bytes, %v", tc.name, len(got), err, len(tc.want), tc.wantErr)
		}
	}
}

// FuzzReadRecord feeds arbitrary streams to the record reader.
func FuzzReadRecord(f *testing.F) {
	f.Add([]byte{0x80, 0, 0, 4, 1, 2, 3, 4})
	f.Add([]byte{0, 0, 0, 2, 1, 2, 0x80, 0, 0, 1, 3})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReader(bytes.NewReader(b))
		for {
			rec, err := ReadRecord(br, 4096)
			if err != nil {
				return
			}
			if len(rec) > 4096 {
				t.Fatalf("record of %d bytes", len(rec))
			}
		}
	})
}
