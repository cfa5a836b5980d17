package crossbuild

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/devtable"
)

func testTree(t *testing.T) string {
	dir := t.TempDir()
	for p, data := range map[string]string{"bin/busybox": "\x7fELF fake\x00\x01", "etc/inittab": "::sysinit:/etc/init.d/rcS\n", "etc/empty": "", "init": "#!/bin/sh\nexec /bin/sh\n"} {
		os.MkdirAll(filepath.Join(dir, path.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, "init"), 0o755)
	os.Symlink("busybox", filepath.Join(dir, "bin", "sh"))
	os.Mkdir(filepath.Join(dir, "dev"), 0o755) // the table's /dev replaces it
	return dir
}

func gunzip(t *testing.T, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInitramfsGNUCpio(t *testing.T) {
	dir := testTree(t)
	table := append(DeviceTable("ttyAMA0"), devtable.Entry{Kind: devtable.Nod, Path: "/dev/mtd/0", Mode: 0o600, DevType: 'b', Major: 31, Minor: 0})
	var gz bytes.Buffer
	if err := writeInitramfs(&gz, dir, table); err != nil {
		t.Fatal(err)
	}
	archive := gunzip(t, gz.Bytes())

	cmd := exec.Command("cpio", "-itvn", "--quiet")
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	cmd.Stdin = bytes.NewReader(archive)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -itvn: %v\n%s", err, out)
	}
	listing := string(out)
	seen := map[string]int{}
	for i, l := range strings.Split(strings.TrimSpace(listing), "\n") {
		f := strings.Fields(l)
		name := f[len(f)-1]
		if f[len(f)-2] == "->" {
			name = f[len(f)-3]
		}
		if parent := path.Dir(name); parent != "." {
			if _, ok := seen[parent]; !ok {
				t.Errorf("%s listed before its directory %s", name, parent)
			}
		}
		seen[name] = i
	}
	for _, want := range []string{
		"crw------- 1 0 0 5, 1 Jan 1 1970 dev/console",
		"crw------- 1 0 0 204, 64 Jan 1 1970 dev/ttyAMA0",
		"crw-rw-rw- 1 0 0 1, 3 Jan 1 1970 dev/null",
		"brw------- 1 0 0 31, 0 Jan 1 1970 dev/mtd/0",
		"drwxr-xr-x 2 0 0 0 Jan 1 1970 dev/mtd",
		"drwxrwxrwt 2 0 0 0 Jan 1 1970 tmp",
		"bin/sh -> busybox",
	} {
		if !strings.Contains(normalize(listing), want) {
			t.Errorf("listing lacks %q:\n%s", want, listing)
		}
	}

	x := t.TempDir()
	cmd = exec.Command("cpio", "-idm", "--quiet", "--no-absolute-filenames")
	cmd.Dir = x
	cmd.Stdin = bytes.NewReader(archive)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -id: %v\n%s", err, out)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(x, rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: extracted %q (%v), want %q", rel, got, err, want)
		}
		wfi, _ := os.Stat(p)
		if gfi, err := os.Stat(filepath.Join(x, rel)); err != nil || gfi.Mode() != wfi.Mode() {
			t.Errorf("%s: mode %v, want %v", rel, gfi.Mode(), wfi.Mode())
		}
		return nil
	})
}

func normalize(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}

func TestInitramfsUImage(t *testing.T) {
	dir := testTree(t)
	out := filepath.Join(t.TempDir(), "initramfs.uImage")
	if err := (Initramfs{Dir: dir, Table: DeviceTable("ttyAMA0"), UImage: true}).WriteFile(out); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command("mkimage", "-l", out).CombinedOutput()
	if err != nil {
		t.Fatalf("mkimage -l: %v\n%s", err, b)
	}
	for _, want := range []string{"Image Name:   initramfs", "ARM Linux RAMDisk Image (uncompressed)"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("mkimage -l lacks %q:\n%s", want, b)
		}
	}
	img, _ := os.ReadFile(out)
	if len(img) < 64 || !bytes.HasPrefix(img[64:], []byte{0x1f, 0x8b}) {
		t.Error("uImage payload is not the gzip'd archive")
	}
	if _, err := os.Stat(out + ".tmp"); !os.IsNotExist(err) {
		t.Error("temporary file left behind")
	}
}

func TestInitramfsReproducible(t *testing.T) {
	dir := testTree(t)
	var a, b bytes.Buffer
	writeInitramfs(&a, dir, DeviceTable("ttyAMA0"))
	writeInitramfs(&b, dir, DeviceTable("ttyAMA0"))
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two archives of the same tree differ")
	}
}
