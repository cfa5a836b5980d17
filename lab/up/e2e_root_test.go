package up_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
	"github.com/bootrig/bootrig/devtable"
	"github.com/bootrig/bootrig/lab"
)

// buildRoot brings the cache's qemu-arm build for a root mode up to date
// (outside the lab: the first build fetches sources).
func buildRoot(t *testing.T, root boards.Root) {
	t.Helper()
	if testing.Short() || lab.Inside() {
		return
	}
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	cache := cacheDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if _, err := crossbuild.Build(ctx, crossbuild.Config{Board: p, Target: crossbuild.TargetAll, Root: root,
		Cache: cache, Out: filepath.Join(cache, "qemu-arm", "out")}); err != nil {
		t.Fatal(err)
	}
}

// Lines a kernel prints when it cannot start from its root.
var rootFailures = []string{"No working init found", "unable to open an initial console", "Kernel panic", "Failed to execute"}

// TestRootModes: each root mode boots the same tree to the shell and runs
// a command there. With the root in RAM, / is the kernel's rootfs (not
// NFS), it is writable, U-Boot fetched what the mode needs, and bootrig
// started no NFS server or portmapper: nothing listens on 2049 or 111.
func TestRootModes(t *testing.T) {
	for _, tc := range []struct {
		root      boards.Root
		transfers []string
		mountRoot string // mount's line for /
	}{
		{boards.RootNFS, []string{"uImage"}, "192.168.7.1:/"},
		{boards.RootInitramfs, []string{"uImage", "uInitrd"}, "rootfs on / type rootfs"},
		{boards.RootBuiltin, []string{"uImage-initramfs"}, "rootfs on / type rootfs"},
	} {
		t.Run(string(tc.root), func(t *testing.T) {
			buildRoot(t, tc.root)
			if !inLab(t) {
				return
			}
			c := config(t)
			c.Netboot.Root, c.Netboot.Image = tc.root, tc.root.KernelFile()
			var log bytes.Buffer
			c.Log = &log
			dumpOnFailure(t, &log)
			b := start(t, c)
			var got []string
			for _, tr := range b.Summary().Transfers() {
				got = append(got, tr.File)
			}
			if strings.Join(got, " ") != strings.Join(tc.transfers, " ") {
				t.Errorf("TFTP transfers %q, want %q", got, tc.transfers)
			}
			if out, code := run(t, b, "cat /proc/cmdline; uname -m"); out != c.Board.Bootargs(c.Netboot)+"\narmv7l\n" || code != 0 {
				t.Errorf("run: exit %d, output %q; want the bootargs and armv7l", code, out)
			}
			out, _ := run(t, b, "mount")
			if !strings.Contains(out, tc.mountRoot) {
				t.Errorf("mount on the board:\n%s\nwant a line with %q", out, tc.mountRoot)
			}
			if out, code := run(t, b, "echo written > /root/new && cat /root/new"); out != "written\n" || code != 0 {
				t.Errorf("writing to the root: exit %d, %q", code, out)
			}
			for _, f := range rootFailures {
				if strings.Contains(log.String(), f) {
					t.Errorf("the console says %q", f)
				}
			}
			if !tc.root.InRAM() {
				return
			}
			if strings.Contains(out, "type nfs") {
				t.Errorf("a RAM root mounted NFS:\n%s", out)
			}
			if n := b.Watch.NFSCalls(); n != 0 {
				t.Errorf("%d NFS calls for a RAM root", n)
			}
			for _, port := range []string{"2049", "111"} {
				conn, err := net.DialTimeout("tcp", net.JoinHostPort(c.Netboot.ServerIP.String(), port), 2*time.Second)
				if err == nil {
					conn.Close()
					t.Errorf("something listens on %s:%s: a RAM root needs no NFS server or portmapper", c.Netboot.ServerIP, port)
				} else if !errors.Is(err, syscall.ECONNREFUSED) {
					t.Errorf("dial %s: %v, want connection refused", port, err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			m, err := b.Memory(ctx)
			if err != nil || m.Total == 0 || m.Used == 0 || m.Used > m.Total {
				t.Errorf("free on the board: %+v, %v", m, err)
			}
			t.Logf("RAM at the shell (--root %s): %+v", tc.root, m)
		})
	}
}

// TestInitramfsSpecialFiles packs a tree owned by a non-root user with a
// setuid file, a plain file that must be root's on the board, and a
// device table adding a fifo, a node and a file with its own owner; the
// board, booted from it as an initramfs, shows each as packed, and the
// /dev/console the kernel opened is the archive's (seen beneath the
// devtmpfs rcS mounts on /dev).
func TestInitramfsSpecialFiles(t *testing.T) {
	buildRoot(t, boards.RootInitramfs)
	if !inLab(t) {
		return
	}
	c := config(t)
	tree := c.Netboot.Export
	owner := 1000
	write := func(rel, data string, mode os.FileMode) string {
		p := filepath.Join(tree, rel)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	suid := write("root/suid", "#!/bin/sh\nid -u\n", 0o755)
	write("root/mine", "the user's file\n", 0o640)
	extra := write("root/extra.src", "from the table\n", 0o644)
	// The tree is a user's, not root's: chown it to 1000 (the lab maps
	// every id when the host user is root; for another host user the
	// chown fails and the tree is that user's already).
	if out, err := exec.Command("chown", "-hR", "1000:1000", tree).CombinedOutput(); err != nil {
		t.Logf("the tree stays its host user's: chown: %v: %s", err, out)
	}
	if err := os.Chmod(suid, 0o755|os.ModeSetuid); err != nil { // after chown, which clears it
		t.Fatal(err)
	}
	table := append(crossbuild.DeviceTable(c.Board.Linux.Console),
		devtable.Entry{Kind: devtable.Pipe, Path: "/root/fifo", Mode: 0o620, UID: 0, GID: 5},
		devtable.Entry{Kind: devtable.Nod, Path: "/root/tty0", Mode: 0o660, GID: 5, DevType: 'c', Major: 4, Minor: 0},
		devtable.Entry{Kind: devtable.File, Path: "/root/extra", Source: extra, Mode: 0o711 | os.ModeSetuid, UID: uint32(owner), GID: 100},
	)
	out := t.TempDir()
	for _, name := range []string{boards.KernelFile, crossbuild.UBootFile} { // the board's firmware is built too
		if err := copyFile(filepath.Join(c.Out, name), filepath.Join(out, name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := crossbuild.WriteArchive(tree, table, c.Board.Linux.Init, out, true, c.Board.Name); err != nil {
		t.Fatal(err)
	}
	c.Out, c.Netboot.Root = out, boards.RootInitramfs
	var log bytes.Buffer
	c.Log = &log
	dumpOnFailure(t, &log)
	b := start(t, c)
	for _, tc := range []struct{ cmd, want string }{
		{"stat -c '%a %u %g %F' /root/suid", "4755 0 0 regular file"},
		{"ls -l /root/suid | cut -c1-10", "-rwsr-xr-x"},
		{"stat -c '%a %u %g %F' /root/mine", "640 0 0 regular file"},
		{"stat -c '%a %u %g %F' /root/fifo", "620 0 5 fifo"},
		{"ls -l /root/fifo | cut -c1-10", "prw--w----"},
		{"stat -c '%a %u %g %F %t:%T' /root/tty0", "660 0 5 character special file 4:0"},
		{"stat -c '%a %u %g' /root/extra; cat /root/extra", "4711 1000 100\nfrom the table"},
		{"mkdir -p /mnt/root && mount --bind / /mnt/root && stat -c '%a %u %g %F %t:%T' /mnt/root/dev/console", "600 0 0 character special file 5:1"},
		{"sh -c 'echo x > /root/fifo & cat /root/fifo'", "x"},
	} {
		if got, code := run(t, b, tc.cmd); strings.TrimRight(got, "\n") != tc.want || code != 0 {
			t.Errorf("%s: exit %d, %q; want %q", tc.cmd, code, got, tc.want)
		}
	}
	for _, f := range rootFailures {
		if strings.Contains(log.String(), f) {
			t.Errorf("the console says %q", f)
		}
	}
}

// dumpOnFailure logs the console of a failed test's boot.
func dumpOnFailure(t *testing.T, log *bytes.Buffer) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("console log:\n%s", log.String())
		}
	})
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// TestInitramfsRepacks: with the root in RAM an edit of the tree reaches
// the board at its next boot, and bring-up repacks the archive when the
// tree's content changed, even with its size and mtime kept.
func TestInitramfsRepacks(t *testing.T) {
	buildRoot(t, boards.RootInitramfs)
	if !inLab(t) {
		return
	}
	c := config(t)
	c.Netboot.Root, c.Netboot.Image = boards.RootInitramfs, boards.KernelFile
	c.Build = true
	c.Out = t.TempDir() // an output of its own: rootfs/, uImage, the archive
	c.RootFS = filepath.Join(c.Out, "rootfs")
	note := filepath.Join(c.RootFS, "root", "note")
	boot := func(want string) {
		t.Helper()
		b := start(t, c)
		if out, _ := run(t, b, "cat /root/note 2>/dev/null || echo none"); out != want {
			t.Errorf("/root/note on the board: %q, want %q", out, want)
		}
		if err := b.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	boot("none\n")
	if err := os.WriteFile(note, []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(note)
	if err != nil {
		t.Fatal(err)
	}
	boot("one\n")
	if err := os.WriteFile(note, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(note, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	boot("two\n")
}
