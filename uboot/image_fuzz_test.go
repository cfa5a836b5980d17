package uboot

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seeds are the golden files matching pattern in testdata.
func seeds(f *testing.F, pattern string) [][]byte {
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seeds testdata/%s: %v", pattern, err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzVerify: any input gives an image or an error, never a panic; an
// image lists, and its header encodes back to a header that reads the same.
func FuzzVerify(f *testing.F) {
	for _, s := range seeds(f, "*.img") {
		if !bytes.HasPrefix(s, []byte("\x27\x05\x19\x56")) {
			continue // the env images
		}
		f.Add(s)
		f.Add(s[:len(s)-1])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Verify(bytes.NewReader(b))
		if err != nil {
			if img != nil {
				t.Fatalf("an image and an error: %v", err)
			}
			return
		}
		if err := img.List(io.Discard, time.UTC); err != nil {
			t.Fatal(err)
		}
		enc, err := img.Header.MarshalBinary()
		if err != nil {
			t.Fatalf("a header read back does not encode: %v", err)
		}
		var again Header
		if err := again.UnmarshalBinary(enc); err != nil || again != img.Header {
			t.Fatalf("re-read header %+v, %v; want %+v", again, err, img.Header)
		}
		if img.multiType() && img.Size > 0 && len(img.Parts) == 0 && !bytes.Equal(b[HeaderSize:HeaderSize+4], []byte{0, 0, 0, 0}) {
			t.Fatalf("multi image without parts")
		}
	})
}

// FuzzEnvParse: any bytes give variables or an error; variables without
// duplicates marshal back to an image that parses to the same.
func FuzzEnvParse(f *testing.F) {
	for _, s := range seeds(f, "env*.img") {
		f.Add(s, false, false)
		f.Add(s, true, false)
	}
	f.Fuzz(func(t *testing.T, b []byte, redundant, bigEndian bool) {
		e := EnvImage{Redundant: redundant, BigEndian: bigEndian, Pad: ErasedByte}
		vars, err := e.Parse(b)
		if err != nil {
			return
		}
		e.Size = len(b)
		img, err := e.Marshal(vars)
		if err != nil {
			return // duplicates, or U-Boot's data had no room for the final NUL
		}
		back, err := e.Parse(img)
		if err != nil || len(back) != len(vars) {
			t.Fatalf("Parse(Marshal(%q)) = %q, %v", vars, back, err)
		}
	})
}

// FuzzEnvFromText: any text and size give an image or an error; an image
// has the size asked for and a good CRC.
func FuzzEnvFromText(f *testing.F) {
	f.Add(seeds(f, "env.txt")[0], 256, false)
	f.Add([]byte("a=1\\\n\n#c\nb"), 16, true)
	f.Add([]byte(strings.Repeat("x=y\n", 10)), 40, false)
	f.Fuzz(func(t *testing.T, text []byte, size int, redundant bool) {
		if size < 0 || size > 1<<16 {
			return
		}
		e := EnvImage{Size: size, Redundant: redundant, Pad: ErasedByte}
		img, err := e.FromText(text)
		if err != nil {
			return
		}
		if len(img) != size {
			t.Fatalf("image is %d bytes, asked for %d", len(img), size)
		}
		if _, err := e.Parse(img); err != nil && !errors.Is(err, ErrEnvBadVar) { // lines without = pass through
			t.Fatalf("Parse(FromText(%q)): %v", text, err)
		}
	})
}

// TestGolden rebuilds the golden images in testdata in Go.
func TestGolden(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	tm, err := BuildTime()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		golden string
		h      Header
		files  []string
	}{
		{"kernel.img", Header{Name: "Linux", Arch: ArchARM, OS: OSLinux, Type: TypeKernel, Load: 0x30008000, Entry: 0x30008000}, []string{"kernel.bin"}},
		{"multi.img", Header{Name: "multi", Arch: ArchARM, OS: OSLinux, Type: TypeMulti, Comp: CompGzip}, []string{"kernel.bin", "part1.bin", "part2.bin"}},
		{"script.img", Header{Name: "boot", Arch: ArchARM, OS: OSLinux, Type: TypeScript}, []string{"boot.cmd"}},
		{"empty.img", Header{Arch: ArchARM64, OS: OSLinux, Type: TypeRamdisk}, nil},
	} {
		c.h.Time = tm
		var files []string
		for _, f := range c.files {
			files = append(files, filepath.Join("testdata", f))
		}
		out := filepath.Join(dir, c.golden)
		if _, err := WriteFile(out, c.h, files...); err != nil {
			t.Fatal(err)
		}
		if got, want := readFile(t, out), readFile(t, filepath.Join("testdata", c.golden)); !bytes.Equal(got, want) {
			t.Errorf("%s:\nours   %x\ngolden %x", c.golden, got, want)
		}
	}
	text := readFile(t, filepath.Join("testdata", "env.txt"))
	for golden, e := range map[string]EnvImage{
		"env.img":           {Size: 0x100, Pad: ErasedByte},
		"env-redundant.img": {Size: 0x100, Pad: ErasedByte, Redundant: true},
	} {
		got, err := e.FromText(text)
		if err != nil {
			t.Fatal(err)
		}
		if want := readFile(t, filepath.Join("testdata", golden)); !bytes.Equal(got, want) {
			t.Errorf("%s:\nours   %x\ngolden %x", golden, got, want)
		}
		vars, err := e.Parse(got)
		if err != nil || len(vars) != 3 || vars[2] != (EnvVar{"multi", "a\nb"}) {
			t.Errorf("%s: Parse = %q, %v", golden, vars, err)
		}
	}
}
