package armarch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// attrSection builds a .ARM.attributes section by hand, as ARM IHI 0045
// lays it out: 'A', then one "aeabi" subsection holding scopes.
func attrSection(scopes ...[]byte) []byte {
	var body bytes.Buffer
	body.WriteString("aeabi\x00")
	for _, s := range scopes {
		body.Write(s)
	}
	out := []byte{'A'}
	out = binary.LittleEndian.AppendUint32(out, uint32(4+body.Len()))
	return append(out, body.Bytes()...)
}

// scope is a Tag_File (1), Tag_Section (2) or Tag_Symbol (3) list.
func scope(tag byte, numbers []byte, attrs []byte) []byte {
	size := 1 + 4 + len(numbers) + len(attrs)
	out := binary.LittleEndian.AppendUint32([]byte{tag}, uint32(size))
	return append(append(out, numbers...), attrs...)
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want Attributes
		err  error
	}{
		{"v4T file", attrSection(scope(1, nil, []byte("\x054T\x00\x06\x02\x08\x01\x09\x01"))),
			Attributes{CPUArch: V4T, HasCPUArch: true, CPUName: "4T"}, nil},
		{"v5TE with a section scope at v7", attrSection(
			scope(1, nil, []byte("\x06\x04")),
			scope(2, []byte{3, 4, 0}, []byte("\x06\x0a"))),
			Attributes{CPUArch: V7, HasCPUArch: true}, nil},
		{"hard float", attrSection(scope(1, nil, []byte("\x06\x0a\x0a\x05\x1c\x01"))),
			Attributes{CPUArch: V7, HasCPUArch: true, FPArch: 5, VFPArgs: 1}, nil},
		{"strings of every kind", attrSection(scope(1, nil, []byte("\x43\x322.09\x00\x20\x01gnu\x00\x41\x06\x0b\x00\x3fval\x00\x06\x03\x80\x01\x00"))),
			Attributes{CPUArch: V5T, HasCPUArch: true}, nil},
		{"other vendors skipped", append(attrSection(scope(1, nil, []byte("\x06\x02"))),
			[]byte("\x0b\x00\x00\x00gnu\x00\x01\x02\x03")...),
			Attributes{CPUArch: V4T, HasCPUArch: true}, nil},
		{"not version A", []byte("B"), Attributes{}, ErrFormat},
		{"empty", nil, Attributes{}, ErrFormat},
		{"subsection too long", []byte("A\xff\x00\x00\x00aeabi\x00"), Attributes{}, ErrFormat},
		{"unterminated vendor", []byte("A\x09\x00\x00\x00aeabi"), Attributes{}, ErrFormat},
		{"truncated value", attrSection(scope(1, nil, []byte("\x06"))), Attributes{}, ErrFormat},
		{"unterminated string", attrSection(scope(1, nil, []byte("\x05ARM"))), Attributes{}, ErrFormat},
		{"unknown scope", attrSection(scope(9, nil, nil)), Attributes{}, ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.data)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Parse = %+v, %v; want error %v", got, err, tc.err)
			}
			if err == nil && got != tc.want {
				t.Errorf("Parse = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRunsOn(t *testing.T) {
	for _, tc := range []struct {
		code, cpu Arch
		want      bool
	}{
		{V4T, V4T, true}, {V4, V4T, true}, {V5T, V4T, false}, {V5TE, V4T, false},
		{V5TE, V7, true}, {V7, V5TEJ, false}, {V6M, V7, false}, {V8A, V7, false},
	} {
		if got := tc.code.RunsOn(tc.cpu); got != tc.want {
			t.Errorf("%s.RunsOn(%s) = %v, want %v", tc.code, tc.cpu, got, tc.want)
		}
	}
}

// TestReadELFAgainstGCC compiles an object per level with Debian's
// cross gcc and checks that Tag_CPU_arch reads back as that level, and
// as readelf -A (the reference) prints it.
func TestReadELFAgainstGCC(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "f.c")
	if err := os.WriteFile(src, []byte("long long f(long long a, long long b) { return a / b; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flags []string
		want  Arch
		vfp   bool
	}{
		{[]string{"-march=armv4t", "-marm"}, V4T, false},
		{nil, V5TE, false}, // Debian armel's default
		{[]string{"-march=armv7-a", "-mfpu=vfpv3-d16", "-mfloat-abi=softfp"}, V7, true},
	} {
		obj := filepath.Join(dir, tc.want.String()+".o")
		args := append(append([]string{"-c", "-O2", "-o", obj}, tc.flags...), src)
		if out, err := exec.Command("arm-linux-gnueabi-gcc", args...).CombinedOutput(); err != nil {
			t.Fatalf("arm-linux-gnueabi-gcc %v: %v\n%s", args, err, out)
		}
		f, err := os.Open(obj)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ReadELF(f)
		f.Close()
		if err != nil || a.CPUArch != tc.want || !a.HasCPUArch || a.NeedsVFP() != tc.vfp {
			t.Errorf("%v: ReadELF = %+v, %v; want %s, VFP %v", tc.flags, a, err, tc.want, tc.vfp)
		}
		ref, err := exec.Command("arm-linux-gnueabi-readelf", "-A", obj).Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ref), "Tag_CPU_arch: "+tc.want.String()+"\n") {
			t.Errorf("readelf -A %s says\n%s\nwant Tag_CPU_arch: %s", obj, ref, tc.want)
		}
	}
}

func TestReadELFRefusesOthers(t *testing.T) {
	self, err := os.Open("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	if _, err := ReadELF(self); !errors.Is(err, ErrNotARM) {
		t.Errorf("ReadELF(/bin/true) = %v, want ErrNotARM", err)
	}
	if _, err := ReadELF(bytes.NewReader([]byte("#!/bin/sh\n"))); !errors.Is(err, ErrNotARM) {
		t.Errorf("ReadELF(script) = %v, want ErrNotARM", err)
	}
}

// TestReadArchiveAgainstAr makes a library with GNU ar (long member
// names included) and checks the members and their contents.
func TestReadArchiveAgainstAr(t *testing.T) {
	dir := t.TempDir()
	names := []string{"a.o", "a_name_longer_than_sixteen.o", "odd", "another_long_member_name.o"}
	for i, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), bytes.Repeat([]byte{byte('a' + i)}, 3+i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lib := filepath.Join(dir, "lib.a")
	cmd := exec.Command("arm-linux-gnueabi-ar", append([]string{"rcs", lib}, names...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ar: %v\n%s", err, out)
	}
	data, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := ReadArchive(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(names) {
		t.Fatalf("%d members, want %d: %+v", len(ms), len(names), ms)
	}
	for i, m := range ms {
		want, _ := os.ReadFile(filepath.Join(dir, names[i]))
		if m.Name != names[i] || !bytes.Equal(m.Data, want) {
			t.Errorf("member %d = %q %q, want %q %q", i, m.Name, m.Data, names[i], want)
		}
	}
	for _, bad := range [][]byte{[]byte("!<thin>\n"), []byte(arMagic + "short"), append([]byte(arMagic), bytes.Repeat([]byte(" "), 60)...)} {
		if _, err := ReadArchive(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("ReadArchive(%q) = %v, want ErrFormat", bad, err)
		}
	}
}
