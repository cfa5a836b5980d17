package cpio

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type member struct {
	hdr  Header
	data string
}

var members = []member{
	{Header{Name: "etc", Mode: TypeDir | 0o755, Mtime: 1700000000}, ""},
	{Header{Name: "etc/hostname", Mode: TypeRegular | 0o644, Mtime: 1700000000, Size: 9}, "qemu-arm\n"},
	{Header{Name: "etc/empty", Mode: TypeRegular | 0o600, UID: 1000, GID: 100, Mtime: 1700000000}, ""},
	{Header{Name: "etc/odd", Mode: TypeRegular | 0o4755, Mtime: 1700000000, Size: 3}, "abc"},
	{Header{Name: "bin", Mode: TypeDir | 0o755, Mtime: 1700000000}, ""},
	{Header{Name: "bin/sh", Mode: TypeSymlink | 0o777, Mtime: 1700000000, Size: 7}, "busybox"},
	{Header{Name: "dev", Mode: TypeDir | 0o755}, ""},
	{Header{Name: "dev/console", Mode: TypeChar | 0o600, RMajor: 5, RMinor: 1}, ""},
	{Header{Name: "dev/sda", Mode: TypeBlock | 0o660, GID: 6, RMajor: 8, RMinor: 0}, ""},
	{Header{Name: "dev/initctl", Mode: TypeFIFO | 0o600}, ""},
	{Header{Name: "tmp", Mode: TypeDir | 0o1777}, ""},
}

func archive(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	w := NewWriter(&b)
	for _, m := range members {
		if err := w.WriteHeader(&m.hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(m.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGNUCpioLists checks the archive with GNU cpio's own listing.
func TestGNUCpioLists(t *testing.T) {
	a := archive(t)
	if len(a)%512 != 0 {
		t.Errorf("archive is %d bytes, not a multiple of 512", len(a))
	}
	cmd := exec.Command("cpio", "-itvn", "--quiet")
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	cmd.Stdin = bytes.NewReader(a)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -itvn: %v\n%s", err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		got = append(got, strings.Join(strings.Fields(l), " "))
	}
	want := []string{
		"drwxr-xr-x 2 0 0 0 Nov 14 2023 etc",
		"-rw-r--r-- 1 0 0 9 Nov 14 2023 etc/hostname",
		"-rw------- 1 1000 100 0 Nov 14 2023 etc/empty",
		"-rwsr-xr-x 1 0 0 3 Nov 14 2023 etc/odd",
		"drwxr-xr-x 2 0 0 0 Nov 14 2023 bin",
		"lrwxrwxrwx 1 0 0 7 Nov 14 2023 bin/sh -> busybox",
		"drwxr-xr-x 2 0 0 0 Jan 1 1970 dev",
		"crw------- 1 0 0 5, 1 Jan 1 1970 dev/console",
		"brw-rw---- 1 0 6 8, 0 Jan 1 1970 dev/sda",
		"prw------- 1 0 0 0 Jan 1 1970 dev/initctl",
		"drwxrwxrwt 2 0 0 0 Jan 1 1970 tmp",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cpio -itvn listed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestGNUCpioExtracts extracts the archive with GNU cpio and compares
// every member with what was written.
func TestGNUCpioExtracts(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("cpio", "-idm", "--quiet", "--no-absolute-filenames")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(archive(t))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -id: %v\n%s", err, out)
	}
	for _, m := range members {
		p := filepath.Join(dir, m.hdr.Name)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Error(err)
			continue
		}
		switch m.hdr.Mode & typeMask {
		case TypeRegular:
			got, err := os.ReadFile(p)
			if err != nil || string(got) != m.data {
				t.Errorf("%s: %q, %v; want %q", m.hdr.Name, got, err, m.data)
			}
			if fi.ModTime().Unix() != m.hdr.Mtime {
				t.Errorf("%s: mtime %d, want %d", m.hdr.Name, fi.ModTime().Unix(), m.hdr.Mtime)
			}
		case TypeSymlink:
			if got, err := os.Readlink(p); got != m.data {
				t.Errorf("%s: -> %q, %v; want %q", m.hdr.Name, got, err, m.data)
			}
		}
		if got := uint32(fi.Mode().Perm()); got != m.hdr.Mode&0o777 {
			t.Errorf("%s: perm %o, want %o", m.hdr.Name, got, m.hdr.Mode&0o777)
		}
	}
}

func TestWriterErrors(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.WriteHeader(&Header{Name: "f", Mode: TypeRegular, Size: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("abc")); !errors.Is(err, ErrWriteTooLong) {
		t.Errorf("overlong write: %v", err)
	}
	w.Write([]byte("a"))
	if err := w.WriteHeader(&Header{Name: "g"}); !errors.Is(err, ErrShortWrite) {
		t.Errorf("header after a short record: %v", err)
	}
	if err := NewWriter(&b).WriteHeader(&Header{Name: ""}); !errors.Is(err, ErrName) {
		t.Errorf("empty name: %v", err)
	}
}

// TestLayout pins the bytes of a one-file archive: header fields, the
// name padded so data starts on 4 bytes, the trailer, 512-byte blocks.
func TestLayout(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.WriteHeader(&Header{Name: "a", Mode: TypeRegular | 0o644, Mtime: 0x10, Size: 1})
	w.Write([]byte("x"))
	w.Close()
	want := "070701" + "00000001" + "000081a4" + "00000000" + "00000000" + "00000001" + "00000010" + "00000001" +
		"00000000" + "00000000" + "00000000" + "00000000" + "00000002" + "00000000" + "a\x00" + "x\x00\x00\x00" +
		"070701" + "00000000" + "00000000" + "00000000" + "00000000" + "00000001" + "00000000" + "00000000" +
		"00000000" + "00000000" + "00000000" + "00000000" + "0000000b" + "00000000" + "TRAILER!!!\x00" + "\x00\x00\x00"
	got := b.String()
	if !strings.HasPrefix(got, want) || len(got) != 512 || strings.Trim(got[len(want):], "\x00") != "" {
		t.Errorf("archive:\n%q\nwant prefix\n%q", got[:min(len(got), len(want)+8)], want)
	}
}
