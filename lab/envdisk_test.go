package lab

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/uboot"
)

func TestEnvDiskArgs(t *testing.T) {
	if got, want := mkfsArgs("/s/d.img"), []string{"-C", "-F", "16", "-n", "BOOTRIG", "/s/d.img", "32768"}; !slices.Equal(got, want) {
		t.Errorf("mkfsArgs = %q, want %q", got, want)
	}
	if got, want := mcopyArgs("/s/d.img", "/s/env"), []string{"-o", "-i", "/s/d.img", "/s/env", "::uboot.env"}; !slices.Equal(got, want) {
		t.Errorf("mcopyArgs = %q, want %q", got, want)
	}
}

// TestWriteEnvDisk: the disk is a FAT file system fsck.fat finds clean,
// made when missing and kept after; uboot.env in it, read back with
// mtools, is the image written, and writing again replaces it.
func TestWriteEnvDisk(t *testing.T) {
	ctx := context.Background()
	disk := filepath.Join(t.TempDir(), EnvDiskFile)
	if err := EnsureEnvDisk(ctx, disk); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sbin("fsck.fat"), "-n", disk).CombinedOutput(); err != nil {
		t.Fatalf("fsck.fat -n of a new disk: %v\n%s", err, out)
	}
	if out := mdir(t, disk); strings.Contains(out, "uboot") {
		t.Errorf("a new disk holds an environment already:\n%s", out)
	}
	for _, bootargs := range []string{"console=ttyAMA0", "console=ttyAMA0 root=/dev/nfs"} {
		img, err := uboot.EnvImage{Size: 0x2000}.Marshal([]uboot.EnvVar{{Name: "bootargs", Value: bootargs}})
		if err != nil {
			t.Fatal(err)
		}
		q := QEMU{EnvDisk: disk, Flash: filepath.Join(t.TempDir(), "not-this")}
		if err := q.WriteEnv(ctx, img); err != nil {
			t.Fatal(err)
		}
		got, err := exec.Command("mcopy", "-n", "-i", disk, "::"+boards.EnvFATFile, "-").Output()
		if err != nil {
			t.Fatalf("mcopy of uboot.env out of the disk: %v", err)
		}
		if !bytes.Equal(got, img) {
			t.Errorf("uboot.env on the disk: %d bytes, not the %d-byte image written", len(got), len(img))
		}
		if _, err := os.Stat(q.Flash); err == nil {
			t.Errorf("WriteEnv of a board with a disk wrote a flash bank too")
		}
	}
	if out, err := exec.Command(sbin("fsck.fat"), "-n", disk).CombinedOutput(); err != nil {
		t.Fatalf("fsck.fat -n after writing: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(filepath.Dir(disk)); len(entries) != 1 {
		t.Errorf("state dir holds %d files after writing, want the disk alone: %v", len(entries), entries)
	}
}

func mdir(t *testing.T, disk string) string {
	t.Helper()
	out, err := exec.Command("mdir", "-i", disk, "::").CombinedOutput()
	if err != nil {
		t.Fatalf("mdir: %v\n%s", err, out)
	}
	return string(out)
}
