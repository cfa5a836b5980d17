package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// realTool runs a u-boot-tools program; the comparison must run, not skip.
func realTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed (Debian package u-boot-tools): %v", name, err)
	}
	out, err := exec.Command(p, args...).CombinedOutput()
	return string(out), err
}

// TestMkimageMatchesMkimage runs `bootrig mkimage` and the real mkimage
// with the same flags and compares the images and what they print.
func TestMkimageMatchesMkimage(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	t.Setenv("TZ", "UTC")
	dir := t.TempDir()
	k, a, b := filepath.Join(dir, "zImage"), filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for path, data := range map[string]string{k: strings.Repeat("kernel", 1000), a: "part a", b: "bb"} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"-A", "arm", "-O", "linux", "-T", "kernel", "-C", "none", "-a", "0x30008000", "-e", "0x30008000", "-n", "Linux-6.1", "-d", k},
		{"-d", k}, // mkimage's defaults: powerpc, linux, kernel, gzip, 0
		{"-A", "ppc", "-a", "30008000", "-n", strings.Repeat("n", 33), "-d", k},
		{"-A", "ARM64", "-T", "ramdisk", "-C", "zstd", "-a", "0x44000000", "-d", k},
		{"--architecture", "arm", "--type", "multi", "--compression", "none", "--load-address", "0", "-d", k + ":" + a + ":" + b},
		{"-A", "arm", "-T", "script", "-C", "none", "-n", "boot", "-d", a + ":" + b},
		{"-A", "arm", "-T", "firmware", "-s", "-d", k},
	} {
		ours, theirs := filepath.Join(dir, "ours.img"), filepath.Join(dir, "theirs.img")
		stdout, stderr, code := runBootrig(t, append(append([]string{"mkimage"}, args...), ours)...)
		if code != 0 {
			t.Fatalf("bootrig mkimage %q: exit %d: %s", args, code, stderr)
		}
		want, err := realTool(t, "mkimage", append(args, theirs)...)
		if err != nil {
			t.Fatalf("mkimage %q: %v: %s", args, err, want)
		}
		if !bytes.Equal(readAll(t, ours), readAll(t, theirs)) {
			t.Errorf("mkimage %q: images differ", args)
		}
		// Both list the image they wrote; mkimage prints a script part's
		// memory address where bootrig prints its file offset.
		if stdout != want && !strings.Contains(want, "Offset") {
			t.Errorf("mkimage %q prints:\n%s\nbootrig prints:\n%s", args, want, stdout)
		}
		listed, _, code := runBootrig(t, "mkimage", "-l", theirs)
		if want, _ := realTool(t, "mkimage", "-l", ours); code != 0 || (listed != want && !strings.Contains(want, "Offset")) {
			t.Errorf("-l of %q: exit %d\n%s\nmkimage -l:\n%s", args, code, listed, want)
		}
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMkimageUsage: bad names and flags are usage errors (exit 2) that
// say what is valid; a broken image is a failure (exit 1) naming the defect.
func TestMkimageUsage(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(data, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.img")
	if err := os.WriteFile(bad, bytes.Repeat([]byte{0x27}, 80), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.img")
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"-A", "armv7", "-d", data, out}, 2, "valid: alpha, arc, arm, arm64"},
		{[]string{"-O", "linus", "-d", data, out}, 2, "linux"},
		{[]string{"-T", "imximage", "-d", data, out}, 2, "kernel_noload"},
		{[]string{"-C", "xz", "-d", data, out}, 2, "zstd"},
		{[]string{"-a", "0x1000000000", "-d", data, out}, 2, "32 bits"},
		{[]string{"-d", data}, 2, "missing the image file"},
		{[]string{out}, 2, "missing -d"},
		{[]string{"-d", empty, out}, 1, "empty"},
		{[]string{"-l", bad}, 1, "bad magic"},
		{[]string{"-l", data}, 1, "short file"},
	} {
		_, stderr, code := runBootrig(t, append([]string{"mkimage"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("bootrig mkimage %q: exit %d, %q; want exit %d saying %q", c.args, code, stderr, c.code, c.says)
		}
	}
}

// TestMkenvMatchesMkenvimage: `bootrig uboot mkenv` makes mkenvimage's bytes.
func TestMkenvMatchesMkenvimage(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "env.txt")
	text := "# qemu_arm\nbootdelay=2\nbootargs=console=ttyAMA0 \\\nroot=/dev/nfs\n\nbootcmd=bootm 0x40200000\n"
	if err := os.WriteFile(in, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-s", "0x40000"},
		{"-s", "262144", "-r"},
		{"-s", "0x2000", "-p", "0", "-b"},
		{"-s", "0x2000", "-r", "-p", "0x5a"},
	} {
		ours, theirs := filepath.Join(dir, "ours"), filepath.Join(dir, "theirs")
		if _, stderr, code := runBootrig(t, append(append([]string{"uboot", "mkenv"}, args...), "-o", ours, in)...); code != 0 {
			t.Fatalf("bootrig uboot mkenv %q: exit %d: %s", args, code, stderr)
		}
		if out, err := realTool(t, "mkenvimage", append(args, "-o", theirs, in)...); err != nil {
			t.Fatalf("mkenvimage %q: %v: %s", args, err, out)
		}
		if !bytes.Equal(readAll(t, ours), readAll(t, theirs)) {
			t.Errorf("mkenv %q: images differ", args)
		}
	}
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{in}, 2, "-s SIZE is required"},
		{[]string{"-s", "big", in}, 2, "want a size"},
		{[]string{"-s", "0x100", "-p", "256", in}, 2, "want a byte"},
		{[]string{"-s", "16", "-o", filepath.Join(dir, "x"), in}, 1, "does not fit"},
	} {
		_, stderr, code := runBootrig(t, append([]string{"uboot", "mkenv"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("bootrig uboot mkenv %q: exit %d, %q; want exit %d saying %q", c.args, code, stderr, c.code, c.says)
		}
	}
}
