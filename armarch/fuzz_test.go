package armarch

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParse: any bytes give attributes or an ErrFormat, never a panic
// or a hang.
func FuzzParse(f *testing.F) {
	f.Add(attrSection(scope(1, nil, []byte("\x054T\x00\x06\x02"))))
	f.Add(attrSection(scope(2, []byte{1, 0}, []byte("\x20\x01gnu\x00\x06\x0a"))))
	f.Add([]byte("A\x05\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Parse(b)
		if err != nil && !errors.Is(err, ErrFormat) {
			t.Errorf("Parse error %v is not an ErrFormat", err)
		}
		if err == nil && a.HasCPUArch && !bytes.Contains(b, []byte{tagCPUArch}) {
			t.Errorf("CPU arch found in bytes without its tag: %+v", a)
		}
	})
}

// FuzzReadArchive: members always lie inside the input.
func FuzzReadArchive(f *testing.F) {
	f.Add([]byte(arMagic + "a.o/            0           0     0     644     3         `\nabc\n"))
	f.Add([]byte(arMagic + "//                                              6         `\nx.o/\n\n/0              0           0     0     644     1         `\nz\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ReadArchive(b)
		if err != nil {
			return
		}
		total := 0
		for _, m := range ms {
			total += len(m.Data)
		}
		if total > len(b) {
			t.Errorf("members hold %d bytes of a %d-byte archive", total, len(b))
		}
	})
}
