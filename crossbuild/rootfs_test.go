package crossbuild

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/devtable"
)

func TestSkeletonParses(t *testing.T) {
	files := map[string]skelFile{}
	for _, f := range skeleton("ttyAMA0", "qemu-arm") {
		files[f.Path] = f
	}
	inittab, err := parseInittab(files["etc/inittab"].Data)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]inittabEntry{}
	for _, e := range inittab {
		actions[e.Action] = e
	}
	if e := actions["sysinit"]; e.Process != "/etc/init.d/rcS" {
		t.Errorf("sysinit = %+v", e)
	}
	if e := actions["respawn"]; e.ID != "ttyAMA0" || e.Process != "-/bin/sh" {
		t.Errorf("respawn = %+v, want a login shell on ttyAMA0", e)
	}
	for _, a := range []string{"restart", "ctrlaltdel", "shutdown"} {
		if _, ok := actions[a]; !ok {
			t.Errorf("inittab has no %s line", a)
		}
	}
	fstab, err := parseFstab(files["etc/fstab"].Data)
	if err != nil {
		t.Fatal(err)
	}
	var mounts []string
	for _, e := range fstab {
		mounts = append(mounts, e.Type+":"+e.Dir)
	}
	if got, want := strings.Join(mounts, " "), "proc:/proc sysfs:/sys tmpfs:/tmp devpts:/dev/pts"; got != want {
		t.Errorf("fstab mounts %s, want %s", got, want)
	}
	rcS := files["etc/init.d/rcS"]
	for _, want := range []string{"mount -a", "mdev -s", "/proc/sys/kernel/hotplug", "hostname -F /etc/hostname", "ifconfig lo", "/dev/pts"} {
		if !strings.Contains(rcS.Data, want) {
			t.Errorf("rcS lacks %q", want)
		}
	}
	if rcS.Mode != 0o755 || !strings.HasPrefix(rcS.Data, "#!/bin/sh\n") {
		t.Errorf("rcS mode %o, start %q", rcS.Mode, rcS.Data[:10])
	}
	if files["etc/hostname"].Data != "qemu-arm\n" || !strings.HasPrefix(files["etc/passwd"].Data, "root::0:0:") {
		t.Errorf("hostname %q passwd %q", files["etc/hostname"].Data, files["etc/passwd"].Data)
	}
	if err := exec.Command("sh", "-n", "-c", rcS.Data).Run(); err != nil {
		t.Errorf("rcS is not valid sh: %v", err)
	}
}

func TestParseInittabErrors(t *testing.T) {
	for _, bad := range []string{"::sysinit\n", "ttyS0::getty:/bin/sh\n", "x::respawn:\n"} {
		if _, err := parseInittab(bad); err == nil {
			t.Errorf("parseInittab(%q) did not fail", bad)
		}
	}
	if _, err := parseFstab("proc /proc proc\n"); err == nil {
		t.Error("short fstab line accepted")
	}
}

func TestLinkTarget(t *testing.T) {
	for in, want := range map[string]string{"bin/ls": "busybox", "sbin/init": "../bin/busybox", "usr/bin/env": "../../bin/busybox", "linuxrc": "bin/busybox"} {
		if got := linkTarget(in); got != want {
			t.Errorf("linkTarget(%q) = %q, want %q", in, got, want)
		}
	}
	if got := parseLinks([]byte("/bin/ls\n/bin/busybox\n\n/usr/sbin/x\n/../../etc/y\n")); strings.Join(got, ",") != "bin/ls,usr/sbin/x,etc/y" {
		t.Errorf("parseLinks = %q", got)
	}
}

// fakeBusybox writes a stand-in binary and links file.
func fakeBusybox(t *testing.T, content string) (bin, links string) {
	d := t.TempDir()
	bin, links = filepath.Join(d, "busybox"), filepath.Join(d, "busybox.links")
	if err := os.WriteFile(bin, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(links, []byte("/bin/sh\n/bin/ls\n/sbin/init\n/usr/bin/env\n/linuxrc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, links
}

func TestAssembleKeepsEditsAndOverlays(t *testing.T) {
	out := t.TempDir()
	bin, links := fakeBusybox(t, "v1")
	overlay := t.TempDir()
	os.MkdirAll(filepath.Join(overlay, "etc", "init.d"), 0o755)
	os.WriteFile(filepath.Join(overlay, "etc", "motd"), []byte("hello\n"), 0o600)
	os.WriteFile(filepath.Join(overlay, "etc", "init.d", "S50app"), []byte("#!/bin/sh\n"), 0o755)
	os.Symlink("/proc/mounts", filepath.Join(overlay, "etc", "mtab"))
	fs := rootFS{Dir: filepath.Join(out, "rootfs"), DevTable: filepath.Join(out, "rootfs.devtable"), Console: "ttySAC0",
		Hostname: "mini2440", Busybox: bin, Links: links, Overlays: []string{overlay}}
	if err := fs.Assemble(); err != nil {
		t.Fatal(err)
	}
	read := func(p string) string { b, _ := os.ReadFile(filepath.Join(fs.Dir, p)); return string(b) }
	if !strings.Contains(read("etc/inittab"), "ttySAC0::respawn:-/bin/sh") || read("bin/busybox") != "v1" || read("etc/motd") != "hello\n" {
		t.Fatalf("inittab %q busybox %q motd %q", read("etc/inittab"), read("bin/busybox"), read("etc/motd"))
	}
	for link, target := range map[string]string{"bin/sh": "busybox", "sbin/init": "../bin/busybox", "usr/bin/env": "../../bin/busybox", "linuxrc": "bin/busybox", "etc/mtab": "/proc/mounts"} {
		if got, err := os.Readlink(filepath.Join(fs.Dir, link)); got != target {
			t.Errorf("%s -> %q (%v), want %q", link, got, err, target)
		}
	}
	for p, mode := range map[string]os.FileMode{"tmp": os.ModeDir | os.ModeSticky | 0o777, "root": os.ModeDir | 0o700, "etc/init.d/rcS": 0o755, "etc/motd": 0o600} {
		if fi, err := os.Stat(filepath.Join(fs.Dir, p)); err != nil || fi.Mode() != mode {
			t.Errorf("%s: mode %v (%v), want %v", p, fi.Mode(), err, mode)
		}
	}
	table, err := os.ReadFile(fs.DevTable)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := devtable.Parse(bytes.NewReader(table), fs.DevTable)
	if err != nil || !strings.Contains(string(table), "nod /dev/ttySAC0 600 0 0 c 204 64") {
		t.Errorf("device table (%v):\n%s", err, table)
	}
	if len(entries) == 0 {
		t.Error("empty device table")
	}

	// The user edits the rootfs; busybox changes; a rebuild keeps the edits.
	os.WriteFile(filepath.Join(fs.Dir, "etc/inittab"), []byte("mine\n"), 0o644)
	os.Remove(filepath.Join(fs.Dir, "bin/ls"))
	os.WriteFile(filepath.Join(fs.Dir, "bin/ls"), []byte("my ls"), 0o755)
	fs.Busybox, _ = fakeBusybox(t, "v2")
	fs.Overlays = nil
	if err := fs.Assemble(); err != nil {
		t.Fatal(err)
	}
	if read("etc/inittab") != "mine\n" || read("bin/ls") != "my ls" || read("bin/busybox") != "v2" || read("etc/motd") != "hello\n" {
		t.Errorf("after rebuild: inittab %q ls %q busybox %q motd %q", read("etc/inittab"), read("bin/ls"), read("bin/busybox"), read("etc/motd"))
	}

	fs.Clean = true
	if err := fs.Assemble(); err != nil {
		t.Fatal(err)
	}
	if read("etc/inittab") == "mine\n" || read("etc/motd") != "" {
		t.Errorf("--clean-rootfs kept inittab %q motd %q", read("etc/inittab"), read("etc/motd"))
	}
}

// TestAssembleStaysInside: a symlink in the rootfs pointing out of it
// must not let a rebuild write on the host.
func TestAssembleStaysInside(t *testing.T) {
	out := t.TempDir()
	host := t.TempDir()
	bin, links := fakeBusybox(t, "v1")
	fs := rootFS{Dir: filepath.Join(out, "rootfs"), Console: "ttyAMA0", Hostname: "h", Busybox: bin, Links: links}
	os.MkdirAll(fs.Dir, 0o755)
	if err := os.Symlink(host, filepath.Join(fs.Dir, "etc")); err != nil {
		t.Fatal(err)
	}
	if err := fs.Assemble(); err == nil {
		t.Error("Assemble wrote through a symlink leaving the rootfs")
	}
	if ents, _ := os.ReadDir(host); len(ents) != 0 {
		t.Errorf("host directory got %d entries", len(ents))
	}
}

// FuzzParseLinks: whatever busybox.links holds, the applet paths stay
// relative and inside the root.
func FuzzParseLinks(f *testing.F) {
	f.Add([]byte("/bin/ls\n/usr/bin/env\n"))
	f.Add([]byte("/../x\n//y\n/bin/../../z\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, l := range parseLinks(b) {
			if l == "" || strings.HasPrefix(l, "/") || strings.Contains(l, "..") || filepath.Clean(l) != l {
				t.Fatalf("parseLinks gave %q", l)
			}
		}
	})
}

func FuzzParseInittab(f *testing.F) {
	for _, s := range skeleton("ttyS0", "h") {
		f.Add(s.Data)
	}
	f.Fuzz(func(t *testing.T, s string) {
		es, err := parseInittab(s)
		if err != nil {
			return
		}
		for _, e := range es {
			if !inittabActions[e.Action] || e.Process == "" {
				t.Fatalf("accepted %+v", e)
			}
		}
	})
}

// TestAssembleUpgradesUneditedSkeleton: an rcS exactly as an earlier
// bootrig wrote it (mdev -s in an initramfs: seconds per boot) is
// replaced; an edited one is kept; every tree gets /init.
func TestAssembleUpgradesUneditedSkeleton(t *testing.T) {
	const header = "# Written by 'bootrig build' when missing; a rebuild keeps your edits\n# ('bootrig build --clean-rootfs' starts over).\n"
	old := "#!/bin/sh\n" + header + "mkdir -p /dev/pts /dev/shm\nmount -a\n" +
		"# mdev handles hotplug when the kernel has CONFIG_UEVENT_HELPER.\n" +
		"[ -w /proc/sys/kernel/hotplug ] && echo /sbin/mdev > /proc/sys/kernel/hotplug\n" +
		"# The kernel fills a devtmpfs /dev itself (CONFIG_DEVTMPFS_MOUNT); a full\n" +
		"# mdev -s there costs seconds on a slow board and adds nothing.\n" +
		"grep -q '^devtmpfs /dev ' /proc/mounts || mdev -s\nhostname -F /etc/hostname\nifconfig lo 127.0.0.1 up\n"
	for _, tc := range []struct {
		name, rcS string
		upgraded  bool
	}{
		{"unedited", old, true},
		{"edited", old + "echo mine\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rootfs")
			os.MkdirAll(filepath.Join(dir, "etc/init.d"), 0o755)
			rcS := filepath.Join(dir, "etc/init.d/rcS")
			os.WriteFile(rcS, []byte(tc.rcS), 0o755)
			if err := (rootFS{Dir: dir, Console: "ttyAMA0", Hostname: "qemu-arm"}).Assemble(); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(rcS)
			if upgraded := strings.Contains(string(got), "mount -t devtmpfs"); upgraded != tc.upgraded || !upgraded && string(got) != tc.rcS {
				t.Errorf("rcS after the build (upgrade wanted: %v):\n%s", tc.upgraded, got)
			}
			if target, err := os.Readlink(filepath.Join(dir, "init")); target != "sbin/init" {
				t.Errorf("/init -> %q, %v; want sbin/init", target, err)
			}
		})
	}
}
