package uboot

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mkenvimage runs the real mkenvimage on text with layout e.
func mkenvimage(t testing.TB, e EnvImage, text []byte) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "env.txt"), filepath.Join(dir, "env.img")
	if err := os.WriteFile(in, text, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-s", fmt.Sprintf("%#x", e.Size), "-p", fmt.Sprintf("%#x", e.Pad), "-o", out}
	if e.Redundant {
		args = append(args, "-r")
	}
	if e.BigEndian {
		args = append(args, "-b")
	}
	if msg, err := exec.Command(tool(t, "mkenvimage"), append(args, in)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mkenvimage %s: %v: %s", strings.Join(args, " "), err, msg)
	}
	return readFile(t, out), nil
}

var envTexts = []struct {
	name, text string
}{
	{"plain", "bootdelay=3\nbaudrate=115200\nbootcmd=tftp 0x32000000 uImage; bootm\n"},
	{"no final newline", "a=1\nb=2"},
	{"empty", ""},
	{"only comments", "# nothing\n\n#more\n"},
	{"comments and blanks", "\n\n# comment=1\na=1\n\n\n#x\nb=2\n#tail"},
	{"continued", "bootargs=console=ttyAMA0 \\\nroot=/dev/nfs\nx=y\n"},
	{"continued then blank", "a=1\\\n\nb=2\n"},
	{"hash inside", "a=#not a comment\n #indented=1\n"},
	{"no equals", "justaname\n"},
	{"crlf", "a=1\r\nb=2\r\n"},
	{"backslash at end of file", "a=1\\"},
}

// TestEnvFromTextMatchesMkenvimage: FromText makes mkenvimage's bytes
// for the same text, size, redundant flag, endianness and pad byte, and
// fails where it fails.
func TestEnvFromTextMatchesMkenvimage(t *testing.T) {
	layouts := []EnvImage{
		{Size: 0x40000, Pad: ErasedByte},
		{Size: 0x40000, Pad: ErasedByte, Redundant: true},
		{Size: 0x2000, Pad: 0},
		{Size: 0x2000, Pad: 0x5a, BigEndian: true, Redundant: true},
		{Size: 16, Pad: ErasedByte},
		{Size: 20, Pad: ErasedByte, Redundant: true},
	}
	for _, e := range layouts {
		for _, c := range envTexts {
			t.Run(fmt.Sprintf("%+v/%s", e, c.name), func(t *testing.T) {
				compareEnv(t, e, []byte(c.text))
			})
		}
	}
}

func compareEnv(t *testing.T, e EnvImage, text []byte) {
	t.Helper()
	want, werr := mkenvimage(t, e, text)
	got, gerr := e.FromText(text)
	switch {
	case werr != nil && gerr == nil:
		t.Fatalf("text %q: mkenvimage fails (%v), FromText does not", text, werr)
	case werr == nil && gerr != nil:
		t.Fatalf("text %q: FromText: %v; mkenvimage makes it", text, gerr)
	case gerr != nil:
		if !errors.Is(gerr, ErrEnvTooLarge) {
			t.Errorf("text %q: FromText: %v, want ErrEnvTooLarge", text, gerr)
		}
	case !bytes.Equal(got, want):
		t.Fatalf("text %q, %+v:\nours   %x\ntheirs %x", text, e, got[:min(64, len(got))], want[:min(64, len(want))])
	}
}

// TestEnvFromTextRandom compares FromText with mkenvimage on random
// texts made of the characters its parser cares about, in images small
// enough to overflow.
func TestEnvFromTextRandom(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	const alphabet = "ab=\n\n\\#  x"
	for i := 0; i < 300; i++ {
		text := make([]byte, r.Intn(40))
		for j := range text {
			text[j] = alphabet[r.Intn(len(alphabet))]
		}
		e := EnvImage{Size: 8 + r.Intn(40), Redundant: r.Intn(2) == 0, Pad: byte(r.Intn(256))}
		compareEnv(t, e, text)
		if t.Failed() {
			return
		}
	}
}

// TestEnvMarshalMatchesMkenvimage: Marshal makes the bytes mkenvimage
// makes from the same variables written one per line.
func TestEnvMarshalMatchesMkenvimage(t *testing.T) {
	vars := SortedEnv(map[string]string{
		"bootargs":  "console=ttyAMA0,115200 root=/dev/nfs rw nfsroot=10.0.2.2:/srv/root,v3,tcp ip=10.0.2.15:10.0.2.2:10.0.2.2:255.255.255.0::eth0:off " + strings.Repeat("y", 150),
		"bootcmd":   "tftp ${kernel_addr_r} uImage; bootm ${kernel_addr_r}",
		"bootdelay": "2",
		"multiline": "echo one\necho two",
		"empty":     "",
		"ipaddr":    "10.0.2.15",
	})
	var text strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&text, "%s=%s\n", v.Name, strings.ReplaceAll(v.Value, "\n", "\\\n"))
	}
	for _, e := range []EnvImage{
		{Size: 0x40000, Pad: ErasedByte},
		{Size: 0x40000, Pad: ErasedByte, Redundant: true},
		{Size: 0x1000, Pad: 0, BigEndian: true},
	} {
		got, err := e.Marshal(vars)
		if err != nil {
			t.Fatal(err)
		}
		want, err := mkenvimage(t, e, []byte(text.String()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%+v: Marshal differs from mkenvimage:\nours   %x\ntheirs %x", e, got[:128], want[:128])
		}
		back, err := e.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, vars) {
			t.Errorf("Parse(Marshal(vars)) = %q\nwant %q", back, vars)
		}
	}
	// Exactly full, then one byte too many, as mkenvimage judges it.
	for _, size := range []int{4 + len("a=1\x00b=22\x00\x00"), 4 + len("a=1\x00b=22\x00\x00") - 1} {
		e := EnvImage{Size: size, Pad: ErasedByte}
		got, gerr := e.Marshal([]EnvVar{{"a", "1"}, {"b", "22"}})
		want, werr := mkenvimage(t, e, []byte("a=1\nb=22\n"))
		if (gerr == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Errorf("size %d: Marshal %x, %v; mkenvimage %x, %v", size, got, gerr, want, werr)
		}
	}
}

func TestEnvErrors(t *testing.T) {
	e := EnvImage{Size: 64, Pad: ErasedByte}
	good, err := e.Marshal([]EnvVar{{"a", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func([]byte)) []byte { b := bytes.Clone(good); f(b); return b }
	reseal := func(b []byte) { e.seal(b) }
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"short", good[:32], ErrEnvShort},
		{"bad CRC", mod(func(b []byte) { b[4] = 'b' }), ErrEnvBadCRC},
		{"no end", mod(func(b []byte) {
			for i := 4; i < len(b); i++ {
				b[i] = 'x'
			}
			reseal(b)
		}), ErrEnvNoEnd},
		{"no equals", mod(func(b []byte) { b[5] = 'x'; reseal(b) }), ErrEnvBadVar},
	} {
		if _, err := e.Parse(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: Parse: %v, want %v", c.name, err, c.want)
		}
	}
	for _, vars := range [][]EnvVar{
		{{"", "x"}}, {{"a=b", "x"}}, {{"a", "x\x00"}}, {{"a", "1"}, {"a", "2"}},
	} {
		if _, err := e.Marshal(vars); !errors.Is(err, ErrEnvBadVar) {
			t.Errorf("Marshal(%q): %v, want ErrEnvBadVar", vars, err)
		}
	}
	if _, err := e.Marshal([]EnvVar{{"a", strings.Repeat("x", 64)}}); !errors.Is(err, ErrEnvTooLarge) {
		t.Errorf("too large: %v", err)
	}
	if _, err := (EnvImage{Size: 5}).Marshal(nil); !errors.Is(err, ErrEnvTooLarge) {
		t.Errorf("size 5: %v", err)
	}
}

// TestEnvImageLoadsInQEMU flashes an image Marshal made into the second
// pflash bank of QEMU's virt board and powers Debian's qemu_arm U-Boot on:
// it must load it ("Loading Environment from Flash... OK") and run the
// bootcmd from it, which prints a variable only the image holds.
func TestEnvImageLoadsInQEMU(t *testing.T) {
	const ubootBin = "/usr/lib/u-boot/qemu_arm/u-boot.bin" // Debian package u-boot-qemu
	if _, err := os.Stat(ubootBin); err != nil {
		t.Fatalf("%v (install u-boot-qemu)", err)
	}
	qemu := tool(t, "qemu-system-arm")
	img, err := EnvImage{Size: 0x40000, Pad: ErasedByte}.Marshal(SortedEnv(map[string]string{
		"bootdelay": "0",
		"bootcmd":   "printenv marker",
		"marker":    "from-bootrig-mkenv",
		"stdin":     "serial", "stdout": "serial", "stderr": "serial",
	}))
	if err != nil {
		t.Fatal(err)
	}
	flash := filepath.Join(t.TempDir(), "env.img")
	if err := os.WriteFile(flash, img, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(flash, 64<<20); err != nil { // QEMU wants the whole 64 MiB bank
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, "-M", "virt", "-bios", ubootBin, "-display", "none", "-nic", "none",
		"-serial", "stdio", "-monitor", "none", "-drive", "if=pflash,format=raw,unit=1,file="+flash)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cancel()
	var seen strings.Builder
	loaded := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		seen.WriteString(line + "\n")
		if strings.Contains(line, "Loading Environment from Flash... OK") {
			loaded = true
		}
		if strings.Contains(line, "using default environment") {
			t.Fatalf("U-Boot refused the image:\n%s", seen.String())
		}
		if line == "marker=from-bootrig-mkenv" {
			if !loaded {
				t.Errorf("marker printed without 'Loading Environment from Flash... OK':\n%s", seen.String())
			}
			return
		}
	}
	t.Fatalf("U-Boot did not print the marker from the flashed environment (%v):\n%s", ctx.Err(), seen.String())
}
