package crossbuild

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/devtable"
	"github.com/bootrig/bootrig/uboot"
)

// bootTree is a tree the kernel can start from: busybox (a stand-in),
// sbin/init and /init links to it, as Assemble makes them.
func bootTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"bin", "sbin", "dev", "etc"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), []byte("\x7fELF stand-in"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Symlink("../bin/busybox", filepath.Join(dir, "sbin/init"))
	os.Symlink(initTarget, filepath.Join(dir, initLink))
	return dir
}

// TestCheckBootable: the two ways a kernel fails to start from an
// initramfs are refused before packing, with the kernel's own words.
func TestCheckBootable(t *testing.T) {
	table := DeviceTable("ttyAMA0")
	noConsole := []devtable.Entry{{Kind: devtable.Dir, Path: "/dev", Mode: 0o755}}
	wrongConsole := append(noConsole, devtable.Entry{Kind: devtable.Nod, Path: "/dev/console", Mode: 0o600, DevType: 'c', Major: 4, Minor: 64})
	for _, tc := range []struct {
		name  string
		edit  func(dir string)
		table []devtable.Entry
		init  string
		want  string // "" for bootable
	}{
		{"bootrig's tree", func(string) {}, table, "/sbin/init", ""},
		{"absolute links resolve inside the tree", func(d string) {
			os.Remove(filepath.Join(d, "init"))
			os.Symlink("/sbin/init", filepath.Join(d, "init"))
		}, table, "/sbin/init", ""},
		{"no /init", func(d string) { os.Remove(filepath.Join(d, "init")) }, table, "/sbin/init", "No working init found"},
		{"rdinit missing", func(string) {}, table, "/linuxrc", "No working init found"},
		{"init not executable", func(d string) { os.Chmod(filepath.Join(d, "bin/busybox"), 0o644) }, table, "/sbin/init", "not executable"},
		{"init a directory", func(d string) {
			os.Remove(filepath.Join(d, "init"))
			os.Mkdir(filepath.Join(d, "init"), 0o755)
		}, table, "/sbin/init", "not a regular file"},
		{"link loop", func(d string) {
			os.Remove(filepath.Join(d, "init"))
			os.Symlink("init", filepath.Join(d, "init"))
		}, table, "/sbin/init", "too many levels"},
		{"link escaping the tree stays in it", func(d string) {
			os.Remove(filepath.Join(d, "init"))
			os.Symlink("../../../../bin/sh", filepath.Join(d, "init"))
		}, table, "/sbin/init", "No working init found"},
		{"no /dev/console", func(string) {}, noConsole, "/sbin/init", "unable to open an initial console"},
		{"console with the wrong numbers", func(string) {}, wrongConsole, "/sbin/init", "unable to open an initial console"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := bootTree(t)
			tc.edit(dir)
			err := checkBootable(dir, tc.table, tc.init)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("checkBootable = %v, want nil", err)
			case tc.want != "" && (!errors.Is(err, ErrNotBootable) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("checkBootable = %v, want ErrNotBootable saying %q", err, tc.want)
			}
		})
	}
}

// TestArchiveRewritesOnlyChanges: packing the same tree again leaves the
// files (and their mtimes: a builtin kernel is not relinked) as they are;
// a change of content, even with the old mtime kept, is packed.
func TestArchiveRewritesOnlyChanges(t *testing.T) {
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	tree, out := bootTree(t), t.TempDir()
	os.WriteFile(filepath.Join(tree, "etc/motd"), []byte("one\n"), 0o644)
	pack := func() Result {
		t.Helper()
		res := &Result{RootFS: tree}
		b := builder{c: Config{Board: p, Root: boards.RootInitramfs, Out: out, Progress: io.Discard}, res: res, archiveID: new(string)}
		if err := b.archive(context.Background()); err != nil {
			t.Fatal(err)
		}
		return *res
	}
	res := pack()
	old := time.Now().Add(-time.Hour)
	for _, f := range []string{res.CPIO, res.Initramfs, res.UInitrd} {
		os.Chtimes(f, old, old)
	}
	pack()
	for _, f := range []string{res.CPIO, res.Initramfs, res.UInitrd} {
		if fi, err := os.Stat(f); err != nil || !fi.ModTime().Equal(old) {
			t.Errorf("%s rewritten with nothing changed", filepath.Base(f))
		}
	}
	motd := filepath.Join(tree, "etc/motd")
	fi, _ := os.Stat(motd)
	os.WriteFile(motd, []byte("two\n"), 0o644)
	os.Chtimes(motd, fi.ModTime(), fi.ModTime())
	pack()
	for _, f := range []string{res.CPIO, res.Initramfs, res.UInitrd} {
		if fi, err := os.Stat(f); err != nil || fi.ModTime().Equal(old) {
			t.Errorf("%s not rewritten after the tree's content changed", filepath.Base(f))
		}
	}
	cpio, _ := os.ReadFile(res.CPIO)
	if !bytes.Contains(cpio, []byte("two\n")) {
		t.Errorf("the archive lacks the new content")
	}
	f, err := os.Open(res.UInitrd)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := uboot.ReadHeader(f)
	if err != nil || h.Type != uboot.TypeRamdisk || h.Comp != uboot.CompNone {
		t.Errorf("uInitrd header %+v, %v: want a ramdisk, compression none (the kernel gunzips)", h, err)
	}
	if out, err := exec.Command("mkimage", "-l", res.UInitrd).CombinedOutput(); err != nil || !strings.Contains(string(out), "RAMDisk Image") {
		t.Errorf("mkimage -l %s: %v\n%s", res.UInitrd, err, out)
	}
}

// TestKernelFragment: every mode's kernel has the initramfs unpacker; for
// the shipped profiles nfs and initramfs are the same kernel (the same
// stamp: switching between them rebuilds nothing); builtin links the cpio.
func TestKernelFragment(t *testing.T) {
	for _, name := range []string{"qemu-arm", "mini2440"} {
		p, err := boards.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		nfs := kernelFragment(p.Kernel.Fragment, boards.RootNFS, "/out/initramfs.cpio")
		ram := kernelFragment(p.Kernel.Fragment, boards.RootInitramfs, "/out/initramfs.cpio")
		if normalFragment(nfs) != normalFragment([]byte(p.Kernel.Fragment)) || normalFragment(ram) != normalFragment(nfs) {
			t.Errorf("%s: the nfs and initramfs kernels differ from the profile's: its fragment lacks %q", name, ramFragment)
		}
		builtin := string(kernelFragment(p.Kernel.Fragment, boards.RootBuiltin, "/out/initramfs.cpio"))
		for _, want := range []string{"CONFIG_BLK_DEV_INITRD=y", "CONFIG_RD_GZIP=y", `CONFIG_INITRAMFS_SOURCE="/out/initramfs.cpio"`, "CONFIG_INITRAMFS_COMPRESSION_NONE=y"} {
			if !strings.Contains(builtin, want+"\n") {
				t.Errorf("%s builtin fragment lacks %s", name, want)
			}
		}
	}
	if kernelTree(boards.RootNFS) != kernelTree(boards.RootInitramfs) || kernelTree(boards.RootBuiltin) == kernelTree(boards.RootNFS) {
		t.Errorf("kernel trees: nfs and initramfs must share one, builtin have its own")
	}
}

func TestSteps(t *testing.T) {
	names := func(b builder) string {
		var out []string
		for _, s := range b.steps() {
			// The method values' names: "...builder.kernel-fm".
			n := strings.TrimSuffix(funcName(s), "-fm")
			out = append(out, n[strings.LastIndex(n, ".")+1:])
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		target Target
		root   boards.Root
		want   string
	}{
		{TargetAll, boards.RootNFS, "uboot kernel busybox rootfs verify"},
		{TargetAll, boards.RootInitramfs, "uboot kernel busybox rootfs verify archive"},
		{TargetAll, boards.RootBuiltin, "uboot busybox rootfs verify archive kernel"},
		{TargetUBoot, boards.RootNFS, "uboot"},
		{TargetKernel, boards.RootInitramfs, "kernel"},
		{TargetKernel, boards.RootBuiltin, "busybox rootfs verify archive kernel"},
		{TargetRootFS, boards.RootInitramfs, "busybox rootfs verify archive"},
		{TargetBusybox, boards.RootInitramfs, "busybox"},
	} {
		b := builder{c: Config{Target: tc.target, Root: tc.root}}
		if got := names(b); got != tc.want {
			t.Errorf("target %d --root %s: steps %q, want %q", tc.target, tc.root, got, tc.want)
		}
	}
}

// TestCheckSizes: an image larger than its region or its budget is an
// error naming the part, the field and both sizes.
func TestCheckSizes(t *testing.T) {
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	q := *p
	q.Limits = boards.Limits{Kernel: 2 << 20, Initramfs: 4 << 20}
	for _, tc := range []struct {
		sizes Sizes
		want  string
	}{
		{Sizes{UImage: 1 << 20, Initramfs: 1 << 20, UInitrd: 1 << 20}, ""},
		{Sizes{UImage: 3 << 20}, "the kernel uImage is 3.0M (3145728 bytes), over the qemu-arm profile's limits.kernel of 2M (2097152 bytes)"},
		{Sizes{Initramfs: 5 << 20}, "initramfs (gzip'd cpio) is 5.0M (5242880 bytes), over the qemu-arm profile's limits.initramfs of 4M"},
		{Sizes{UInitrd: 33 << 20}, "the initramfs uInitrd is 33.0M (34603008 bytes), over the qemu-arm profile's memory.regions.ramdisk of 32M (33554432 bytes)"},
	} {
		err := checkSizes(&q, tc.sizes)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v, want nil", tc.sizes, err)
		case tc.want != "" && (!errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want ErrTooBig saying %q", tc.sizes, err, tc.want)
		}
	}
}

func funcName(f any) string { return runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name() }

// TestFindDevTable: a named file wins, else DIR.devtable beside the
// rootfs (however the rootfs is spelled), else the console's default.
func TestFindDevTable(t *testing.T) {
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	os.MkdirAll(rootfs, 0o755)
	other := filepath.Join(dir, "other.txt")
	os.WriteFile(other, []byte("nod /dev/ttyS0 600 0 0 c 4 64\n"), 0o644)

	got, from, err := FindDevTable("", rootfs, "ttyAMA0")
	if err != nil || from != "" || !reflect.DeepEqual(got, devtable.Default("ttyAMA0")) {
		t.Errorf("no table beside the rootfs: %d entries from %q, %v; want the default", len(got), from, err)
	}
	os.WriteFile(rootfs+".devtable", []byte("dir /dev 755 0 0\nnod /dev/console 600 0 0 c 5 1\n"), 0o644)
	if got, from, err := FindDevTable("", rootfs+"/", "ttyAMA0"); err != nil || from != rootfs+".devtable" || len(got) != 2 || got[1].Path != "/dev/console" {
		t.Errorf("table beside the rootfs: %v from %q, %v", got, from, err)
	}
	if got, from, err := FindDevTable(other, rootfs, "ttyAMA0"); err != nil || from != other || len(got) != 1 || got[0].Major != 4 {
		t.Errorf("a named table: %v from %q, %v", got, from, err)
	}
	if _, _, err := FindDevTable(filepath.Join(dir, "missing"), rootfs, "ttyAMA0"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a named table that is missing: %v, want an error naming it", err)
	}
	os.WriteFile(rootfs+".devtable", []byte("nod /dev/x 600 0 0 q 1 1\n"), 0o644)
	if _, _, err := FindDevTable("", rootfs, "ttyAMA0"); err == nil || !strings.Contains(err.Error(), "rootfs.devtable") {
		t.Errorf("a bad table beside the rootfs: %v, want an error naming it", err)
	}
}
