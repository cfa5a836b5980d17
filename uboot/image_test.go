package uboot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// epoch is the SOURCE_DATE_EPOCH of the comparisons with mkimage.
const epoch = 1700000000

// tool finds a u-boot-tools program; the comparisons must run, never skip.
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed (Debian package u-boot-tools): %v", name, err)
	}
	return p
}

// mkimage runs the real mkimage with TZ=UTC and SOURCE_DATE_EPOCH.
func mkimage(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(tool(t, "mkimage"), args...)
	cmd.Env = append(os.Environ(), "TZ=UTC", fmt.Sprintf("SOURCE_DATE_EPOCH=%d", epoch))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("mkimage %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// mkimageArgs are the mkimage flags that say h.
func mkimageArgs(h Header) []string {
	return []string{"-A", h.Arch.Name(), "-O", h.OS.Name(), "-T", h.Type.Name(), "-C", h.Comp.Name(),
		"-a", fmt.Sprintf("%x", h.Load), "-e", fmt.Sprintf("%x", h.Entry), "-n", h.Name}
}

// writeFiles writes each payload to a file in dir and returns the paths.
func writeFiles(t testing.TB, dir string, payloads ...[]byte) []string {
	t.Helper()
	var paths []string
	for i, p := range payloads {
		path := filepath.Join(dir, fmt.Sprintf("data%d", i))
		if err := os.WriteFile(path, p, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

func random(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

type imageCase struct {
	name     string
	h        Header
	payloads [][]byte // none: a header-only image (mkimage -s)
}

func imageCases() []imageCase {
	kernel := Header{Name: "Linux-6.1.0", Arch: ArchARM, OS: OSLinux, Type: TypeKernel, Comp: CompNone, Load: 0x30008000, Entry: 0x30008000}
	with := func(f func(*Header)) Header { h := kernel; f(&h); return h }
	cases := []imageCase{
		{"kernel", kernel, [][]byte{random(1, 100_003)}},
		{"name 31 bytes", with(func(h *Header) { h.Name = strings.Repeat("a", 31) }), [][]byte{[]byte("x")}},
		{"name 32 bytes", with(func(h *Header) { h.Name = strings.Repeat("b", 32) }), [][]byte{[]byte("xy")}},
		{"name 33 bytes", with(func(h *Header) { h.Name = strings.Repeat("c", 32) + "Z" }), [][]byte{[]byte("xyz")}},
		{"empty name", with(func(h *Header) { h.Name = "" }), [][]byte{[]byte("abcd")}},
		{"empty payload", kernel, nil},
		{"entry differs", with(func(h *Header) { h.Load, h.Entry = 0x80008000, 0x80008040 }), [][]byte{random(2, 4096)}},
		{"top addresses", with(func(h *Header) { h.Load, h.Entry = 0xffffffff, 0xfffffffe }), [][]byte{random(3, 5)}},
		{"zero addresses", with(func(h *Header) { h.Load, h.Entry = 0, 0 }), [][]byte{random(4, 7)}},
		{"ramdisk", with(func(h *Header) { h.Type, h.Name, h.Load, h.Entry = TypeRamdisk, "initramfs", 0, 0 }), [][]byte{random(5, 65536)}},
		{"firmware u-boot", with(func(h *Header) { h.Type, h.OS, h.Name = TypeFirmware, OSUBoot, "U-Boot 2023.01" }), [][]byte{random(6, 1234)}},
		{"standalone", with(func(h *Header) { h.Type, h.OS = TypeStandalone, OSUBoot }), [][]byte{random(7, 99)}},
		{"filesystem", with(func(h *Header) { h.Type = TypeFilesystem }), [][]byte{random(8, 333)}},
		{"kernel_noload", with(func(h *Header) { h.Type = TypeKernelNoload }), [][]byte{random(9, 11)}},
		{"multi of 3", with(func(h *Header) { h.Type, h.Name = TypeMulti, "kernel+initrd+dtb" }), [][]byte{random(10, 1001), random(11, 2002), random(12, 3003)}},
		{"multi of 1", with(func(h *Header) { h.Type = TypeMulti }), [][]byte{random(13, 9)}},
		{"multi aligned", with(func(h *Header) { h.Type = TypeMulti }), [][]byte{random(14, 8), random(15, 4)}},
		{"multi empty", with(func(h *Header) { h.Type = TypeMulti }), nil},
		{"script", with(func(h *Header) { h.Type, h.Load, h.Entry, h.Name = TypeScript, 0, 0, "boot script" }), [][]byte{[]byte("setenv bootargs console=ttySAC0,115200\nbootm 0x32000000\n")}},
		{"script of 2", with(func(h *Header) { h.Type = TypeScript }), [][]byte{[]byte("echo one\n"), []byte("echo two\n")}},
	}
	for _, c := range []Comp{CompNone, CompGzip, CompBzip2, CompLZMA, CompLZO, CompLZ4, CompZstd} {
		cases = append(cases, imageCase{"comp " + c.Name(), with(func(h *Header) { h.Comp = c }), [][]byte{random(int64(c)+20, 77)}})
	}
	for _, a := range []Arch{ArchARM64, ArchRISCV, ArchX86_64, ArchX86, ArchMIPS, ArchMIPS64, ArchPPC, ArchXtensa, ArchSandbox, ArchOpenRISC} {
		cases = append(cases, imageCase{"arch " + a.Name(), with(func(h *Header) { h.Arch = a }), [][]byte{random(int64(a)+40, 21)}})
	}
	for _, o := range []OS{OSNetBSD, OSVxWorks, OSRTEMS, OSEFI, OSOpenSBI, OSQNX, OS44BSD, OSATF} {
		cases = append(cases, imageCase{"os " + o.Name(), with(func(h *Header) { h.OS = o }), [][]byte{random(int64(o)+70, 13)}})
	}
	return cases
}

// TestWriteMatchesMkimage writes every case with WriteFile and with the
// real mkimage and compares the bytes; then checks that mkimage -l
// accepts ours and that List prints what mkimage -l prints, field by field.
func TestWriteMatchesMkimage(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", fmt.Sprint(epoch))
	for _, c := range imageCases() {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files := writeFiles(t, dir, c.payloads...)
			theirs := filepath.Join(dir, "theirs.img")
			args := mkimageArgs(c.h)
			if len(files) == 0 {
				// mkimage -s still wants a -d file to stat.
				args = append(args, "-s", "-d", writeFiles(t, t.TempDir(), []byte("unused"))[0])
			} else {
				args = append(args, "-d", strings.Join(files, ":"))
			}
			if _, err := mkimage(t, append(args, theirs)...); err != nil {
				t.Fatal(err)
			}

			h := c.h
			var err error
			if h.Time, err = BuildTime(); err != nil {
				t.Fatal(err)
			}
			ours := filepath.Join(dir, "ours.img")
			got, err := WriteFile(ours, h, files...)
			if err != nil {
				t.Fatal(err)
			}
			a, b := readFile(t, ours), readFile(t, theirs)
			if !bytes.Equal(a, b) {
				t.Fatalf("bytes differ from mkimage %s:\nours   %x\ntheirs %x", strings.Join(args, " "), head(a), head(b))
			}
			if got.Size != uint32(len(a)-HeaderSize) {
				t.Errorf("returned Size %d, image holds %d", got.Size, len(a)-HeaderSize)
			}

			listing, err := mkimage(t, "-l", ours)
			if err != nil {
				t.Fatalf("mkimage -l rejects ours: %v", err)
			}
			f, err := os.Open(theirs)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := Verify(f)
			if err != nil {
				t.Fatalf("Verify(mkimage's image): %v", err)
			}
			var buf bytes.Buffer
			if err := img.List(&buf, time.UTC); err != nil {
				t.Fatal(err)
			}
			compareListings(t, buf.String(), listing)
		})
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func head(b []byte) []byte { return b[:min(len(b), HeaderSize+32)] }

// field is one "Key: value" line of a listing.
type field struct{ key, value string }

// fields splits a listing into its fields. mkimage prints a script part's
// memory address ("Offset = 0x..."), which differs run to run: skipped.
func fields(listing string) []field {
	var fs []field
	for _, line := range strings.Split(strings.TrimRight(listing, "\n"), "\n") {
		if strings.Contains(line, "Offset = ") {
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		fs = append(fs, field{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return fs
}

func compareListings(t *testing.T, ours, theirs string) {
	t.Helper()
	a, b := fields(ours), fields(theirs)
	if len(a) != len(b) {
		t.Fatalf("listing has %d fields, mkimage -l %d:\nours:\n%s\ntheirs:\n%s", len(a), len(b), ours, theirs)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("field %d: ours %q: %q, mkimage -l %q: %q", i, a[i].key, a[i].value, b[i].key, b[i].value)
		}
	}
}

// TestNamesMatchMkimage checks the name tables both ways: every name
// mkimage lists parses to the id mkimage writes, and every id's long name
// is what mkimage -l prints for it.
func TestNamesMatchMkimage(t *testing.T) {
	dir := t.TempDir()
	data := writeFiles(t, dir, []byte("payload"))[0]
	out := filepath.Join(dir, "x.img")
	for _, c := range []struct {
		flag   string
		parse  func(string) (uint8, error)
		offset int
		names  []string
	}{
		{"-A", func(s string) (uint8, error) { a, err := ParseArch(s); return uint8(a), err }, offArch, archTable.names()},
		{"-O", func(s string) (uint8, error) { o, err := ParseOS(s); return uint8(o), err }, offOS, osTable.names()},
		{"-C", func(s string) (uint8, error) { c, err := ParseComp(s); return uint8(c), err }, offComp, compTable.names()},
		{"-T", func(s string) (uint8, error) { c, err := ParseType(s); return uint8(c), err }, offType,
			[]string{"standalone", "kernel", "kernel_noload", "ramdisk", "firmware", "script", "filesystem", "multi"}},
	} {
		listed := listedNames(t, c.flag)
		if c.flag != "-T" && strings.Join(listed, " ") != strings.Join(without(c.names, "ppc"), " ") {
			t.Errorf("mkimage %s list:\n%v\nours:\n%v", c.flag, listed, c.names)
		}
		for _, n := range c.names {
			id, err := c.parse(strings.ToUpper(n))
			if err != nil {
				t.Errorf("parse %s %q: %v", c.flag, n, err)
				continue
			}
			if n == "invalid" {
				continue // mkimage refuses to write these
			}
			if _, err := mkimage(t, c.flag, n, "-d", data, out); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, out)[c.offset]; got != id {
				t.Errorf("mkimage %s %s writes %d, we parse %d", c.flag, n, got, id)
			}
		}
	}
}

// listedNames are the names mkimage prints for "FLAG list".
func listedNames(t *testing.T, flag string) []string {
	out, _ := mkimage(t, flag, "list") // exits 1 after listing, except -T
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "\t") {
			names = append(names, strings.Fields(line)[0])
		}
	}
	if len(names) == 0 {
		t.Fatalf("mkimage %s list printed no names:\n%s", flag, out)
	}
	return names
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// TestLongNamesMatchMkimage lists headers carrying every id (known or
// not) with mkimage -l and with List and compares the Image Type line.
func TestLongNamesMatchMkimage(t *testing.T) {
	dir := t.TempDir()
	base := Header{Name: "ids", Arch: ArchARM, OS: OSLinux, Type: TypeKernel, Comp: CompNone}
	var headers []Header
	for id := 0; id < 48; id++ {
		if Type(id) == TypeMulti || Type(id) == TypeScript {
			continue // covered by TestWriteMatchesMkimage; they need a table
		}
		h := base
		h.Type = Type(id)
		headers = append(headers, h)
	}
	for id := 0; id < 32; id++ {
		h := base
		h.Arch = Arch(id)
		headers = append(headers, h)
		h = base
		h.OS = OS(id)
		headers = append(headers, h)
	}
	for id := 0; id < 9; id++ {
		h := base
		h.Comp = Comp(id)
		headers = append(headers, h)
	}
	for _, h := range headers {
		path := filepath.Join(dir, "x.img")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Write(f, h, strings.NewReader("payload")); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		listing, err := mkimage(t, "-l", path)
		if err != nil {
			t.Fatal(err)
		}
		img := &Image{Header: h}
		var buf bytes.Buffer
		if err := img.List(&buf, time.UTC); err != nil {
			t.Fatal(err)
		}
		want := fields(listing)[2]
		if got := fields(buf.String())[2]; got != want {
			t.Errorf("arch %d os %d type %d comp %d: ours %q, mkimage -l %q", h.Arch, h.OS, h.Type, h.Comp, got.value, want.value)
		}
	}
}

// TestVerifyDefects checks that each defect gives its own error.
func TestVerifyDefects(t *testing.T) {
	good := mustImage(t, Header{Name: "k", Type: TypeKernel, Arch: ArchARM, OS: OSLinux}, []byte("0123456789"))
	multi := mustMulti(t, Header{Type: TypeMulti}, []byte("abc"), []byte("defgh"))
	mod := func(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	resign := func(b []byte) []byte { // fix the header CRC after editing the header
		clear(b[offHCRC : offHCRC+4])
		copy(b[offHCRC:], be32(crc(b[:HeaderSize])))
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty file", nil, ErrShort},
		{"63 bytes", good[:63], ErrShort},
		{"bad magic", mod(good, func(b []byte) []byte { b[0] = 0x28; return b }), ErrBadMagic},
		{"bad header CRC", mod(good, func(b []byte) []byte { b[offName] = 'K'; return b }), ErrBadHeaderCRC},
		{"bad data CRC", mod(good, func(b []byte) []byte { b[HeaderSize+3] ^= 1; return b }), ErrBadDataCRC},
		{"truncated data", good[:len(good)-1], ErrTruncated},
		{"header only, data said", good[:HeaderSize], ErrTruncated},
		{"multi table past data", mod(multi, func(b []byte) []byte {
			b[HeaderSize+3] = 200 // first part says 200 bytes
			copy(b[offDCRC:], be32(crc(b[HeaderSize:])))
			return resign(b)
		}), ErrBadTable},
		{"multi table without end", mod(multi, func(b []byte) []byte {
			b = b[:HeaderSize+8]
			copy(b[offSize:], be32(8))
			copy(b[offDCRC:], be32(crc(b[HeaderSize:])))
			return resign(b)
		}), ErrBadTable},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Verify(bytes.NewReader(c.b))
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify: %v, want %v", err, c.want)
			}
			// mkimage -l refuses them too.
			path := filepath.Join(t.TempDir(), "bad.img")
			if err := os.WriteFile(path, c.b, 0o644); err != nil {
				t.Fatal(err)
			}
			if c.want != ErrBadTable {
				if out, err := mkimage(t, "-T", "kernel", "-l", path); err == nil {
					t.Errorf("mkimage -l accepts it:\n%s", out)
				}
			}
		})
	}
	if _, err := Verify(bytes.NewReader(good)); err != nil {
		t.Fatalf("the good image: %v", err)
	}
}

// TestWriteStreams checks that memory does not grow with the payload.
func TestWriteStreams(t *testing.T) {
	const size = 64 << 20
	var w seekDiscard
	var before, after runtimeMem
	before.read()
	if _, err := Write(&w, Header{Type: TypeKernel}, &io64{n: size}); err != nil {
		t.Fatal(err)
	}
	after.read()
	if grew := after.total - before.total; grew > 2<<20 {
		t.Errorf("writing %d MiB allocated %d bytes: it should stream", size>>20, grew)
	}
}

func TestWriteErrors(t *testing.T) {
	var w seekDiscard
	if _, err := Write(&w, Header{Type: TypeScript}, strings.NewReader("x")); err == nil {
		t.Error("Write of a script image: no error, want 'use WriteMulti'")
	}
	if _, err := WriteMulti(&w, Header{Type: TypeMulti}, []Part{{Size: 0, R: strings.NewReader("")}}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty part: %v, want ErrEmpty", err)
	}
	if _, err := WriteMulti(&w, Header{Type: TypeMulti}, []Part{{Size: 5, R: strings.NewReader("abc")}}); err == nil {
		t.Error("part shorter than its size: no error")
	}
	if _, err := Write(&w, Header{Type: TypeKernel, Time: time.Unix(-1, 0)}, strings.NewReader("x")); err == nil {
		t.Error("time before 1970: no error")
	}
	path := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteFile(filepath.Join(t.TempDir(), "x.img"), Header{Type: TypeKernel}, path); !errors.Is(err, ErrEmpty) {
		t.Errorf("WriteFile of an empty file: %v, want ErrEmpty (as mkimage: input file is empty)", err)
	}
	if out, err := mkimage(t, "-d", path, filepath.Join(t.TempDir(), "x.img")); err == nil {
		t.Errorf("mkimage accepts an empty file (we refuse it):\n%s", out)
	}
}

func TestBuildTime(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1234")
	if got, err := BuildTime(); err != nil || got.Unix() != 1234 {
		t.Errorf("BuildTime = %v, %v; want 1234", got, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "soon")
	if _, err := BuildTime(); err == nil {
		t.Error("SOURCE_DATE_EPOCH=soon: no error")
	}
}

func TestParseNames(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
	}{
		{"ARM", nil}, {"ppc", nil}, {"armv7", ErrUnknownName},
	} {
		if _, err := ParseArch(c.name); !errors.Is(err, c.err) {
			t.Errorf("ParseArch(%q): %v, want %v", c.name, err, c.err)
		}
	}
	_, err := ParseType("imximage")
	var ne *NameError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "kernel_noload") || strings.Contains(err.Error(), "imximage,") {
		t.Errorf("ParseType(imximage): %v; want a NameError listing the legacy types", err)
	}
	if a, _ := ParseArch("ppc"); a.Name() != "powerpc" || a.String() != "PowerPC" {
		t.Errorf("ppc: Name %q String %q", a.Name(), a.String())
	}
}

// failAfter is a WriteSeeker whose writes fail past n bytes.
type failAfter struct {
	seekDiscard
	n int64
}

var errDiskFull = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.off+int64(len(p)) > f.n {
		return 0, errDiskFull
	}
	return f.seekDiscard.Write(p)
}

// errReader fails after giving n bytes.
type errReader struct{ n int64 }

var errRead = errors.New("read error")

func (r *errReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errRead
	}
	m := min(int64(len(p)), r.n)
	r.n -= m
	return int(m), nil
}

// TestWriteIOErrors: a failing disk or payload stops the streaming copy
// with the cause wrapped, whichever half fails.
func TestWriteIOErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		w    *failAfter
		r    io.Reader
		want error
	}{
		{"disk full early", &failAfter{n: 100}, &io64{n: 8 << 20}, errDiskFull},
		{"disk full late", &failAfter{n: 5 << 20}, &io64{n: 8 << 20}, errDiskFull},
		{"payload read error", &failAfter{n: 1 << 40}, &errReader{n: 3<<20 + 5}, errRead},
	} {
		_, err := Write(c.w, Header{Type: TypeKernel}, c.r)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		_, err = WriteMulti(c.w, Header{Type: TypeMulti}, []Part{{Size: 8 << 20, R: c.r}})
		if err == nil {
			t.Errorf("%s: WriteMulti: no error", c.name)
		}
	}
}
