package lab

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestArgs(t *testing.T) {
	base := QEMU{Binary: "qemu-system-arm", Machine: "virt", CPU: "cortex-a15", Memory: "128M",
		BIOS: "/usr/lib/u-boot/qemu_arm/u-boot.bin"}
	head := "-M virt -cpu cortex-a15 -m 128M -bios /usr/lib/u-boot/qemu_arm/u-boot.bin -display none -monitor none"
	tests := []struct {
		name string
		q    func(QEMU) QEMU
		want string
	}{
		{"console only", func(q QEMU) QEMU { return q },
			head + " -chardev pty,id=ser0 -serial chardev:ser0 -nic none"},
		{"tap by name", func(q QEMU) QEMU { q.Tap = "tap0"; return q },
			head + " -chardev pty,id=ser0 -serial chardev:ser0 -device virtio-net-device,netdev=lan -netdev tap,id=lan,ifname=tap0,script=no,downscript=no"},
		{"tap fd wins over name", func(q QEMU) QEMU { q.Tap, q.TapFD, q.MAC = "tap0", 3, "52:54:00:00:00:02"; return q },
			head + " -chardev pty,id=ser0 -serial chardev:ser0 -device virtio-net-device,netdev=lan,mac=52:54:00:00:00:02 -netdev tap,id=lan,fd=3"},
		{"state files, paused", func(q QEMU) QEMU {
			q.Flash, q.SerialLog, q.QMP, q.Paused = "/s/flash1.img", "/s/serial.log", "/s/qmp.sock", true
			return q
		},
			head + " -qmp unix:/s/qmp.sock,server=on,wait=off -chardev pty,id=ser0,logfile=/s/serial.log -serial chardev:ser0 -nic none -drive if=pflash,format=raw,unit=1,file=/s/flash1.img -S"},
		{"commas in paths are doubled", func(q QEMU) QEMU { q.Flash, q.SerialLog = "/a,b/f", "/a,b/l"; return q },
			head + " -chardev pty,id=ser0,logfile=/a,,b/l -serial chardev:ser0 -nic none -drive if=pflash,format=raw,unit=1,file=/a,,b/f"},
		{"environment disk", func(q QEMU) QEMU { q.EnvDisk, q.DiskDevice = "/a,b/envdisk.img", "virtio-blk-device"; return q },
			head + " -chardev pty,id=ser0 -serial chardev:ser0 -nic none -drive if=none,format=raw,id=envdisk,file=/a,,b/envdisk.img -device virtio-blk-device,drive=envdisk"},
		{"no cpu or memory, extra", func(q QEMU) QEMU { q.CPU, q.Memory, q.Extra = "", "", []string{"-d", "guest_errors"}; return q },
			"-M virt -bios /usr/lib/u-boot/qemu_arm/u-boot.bin -display none -monitor none -chardev pty,id=ser0 -serial chardev:ser0 -nic none -d guest_errors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(tt.q(base).Args(), " ")
			if got != tt.want {
				t.Errorf("Args:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestNSCommand(t *testing.T) {
	tests := []struct {
		uid, gid  int
		wantUID   syscall.SysProcIDMap
		setgroups bool
	}{
		{1000, 1000, syscall.SysProcIDMap{ContainerID: 0, HostID: 1000, Size: 1}, false},
		{0, 0, syscall.SysProcIDMap{ContainerID: 0, HostID: 0, Size: 1<<32 - 1}, true},
	}
	for _, tt := range tests {
		cmd := nsCommand("/proc/self/exe", []string{"up", "--run", "true"}, []string{"HOME=/h"}, tt.uid, tt.gid)
		a := cmd.SysProcAttr
		if a.Cloneflags != syscall.CLONE_NEWUSER|syscall.CLONE_NEWNET {
			t.Errorf("uid %d: clone flags %#x", tt.uid, a.Cloneflags)
		}
		if !slices.Equal(a.UidMappings, []syscall.SysProcIDMap{tt.wantUID}) || !slices.Equal(a.GidMappings, []syscall.SysProcIDMap{tt.wantUID}) {
			t.Errorf("uid %d: maps %v %v, want %v", tt.uid, a.UidMappings, a.GidMappings, tt.wantUID)
		}
		if a.GidMappingsEnableSetgroups != tt.setgroups {
			t.Errorf("uid %d: setgroups %v", tt.uid, a.GidMappingsEnableSetgroups)
		}
		if !slices.Equal(cmd.Args[1:], []string{"up", "--run", "true"}) || cmd.Path != "/proc/self/exe" {
			t.Errorf("uid %d: command %s %q", tt.uid, cmd.Path, cmd.Args)
		}
		if !slices.Contains(cmd.Env, envInside+"="+strconv.Itoa(tt.uid)) || !slices.Contains(cmd.Env, "HOME=/h") {
			t.Errorf("uid %d: env %q", tt.uid, cmd.Env)
		}
	}
}

func TestJoinArgs(t *testing.T) {
	got := joinArgs(4242, "/usr/bin/bootrig", []string{"up", "--attach"})
	want := []string{"--target", "4242", "--user", "--net", "--preserve-credentials", "--", "/usr/bin/bootrig", "up", "--attach"}
	if !slices.Equal(got, want) {
		t.Errorf("joinArgs = %q, want %q", got, want)
	}
}

func TestWriteFlash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flash1.img")
	const size = 4 << 20
	if err := EnsureFlash(path, size); err != nil {
		t.Fatal(err)
	}
	checkBank(t, path, size, nil)
	img := bytes.Repeat([]byte("env\x00"), 0x40000/4)
	if err := WriteFlash(path, size, img); err != nil {
		t.Fatal(err)
	}
	checkBank(t, path, size, img)
	if err := EnsureFlash(path, size); err != nil { // keeps the saved environment
		t.Fatal(err)
	}
	checkBank(t, path, size, img)
	if err := EnsureFlash(path, 2*size); err != nil { // wrong size: a new, erased bank
		t.Fatal(err)
	}
	checkBank(t, path, 2*size, nil)
	err := WriteFlash(path, 16, img)
	if !errors.Is(err, ErrImageTooBig) {
		t.Errorf("WriteFlash of a too big image: %v, want ErrImageTooBig", err)
	}
	if err := WriteFlash(filepath.Join(dir, "no", "such", "dir"), size, img); err == nil || !strings.Contains(err.Error(), "no/such/dir") {
		t.Errorf("WriteFlash into a missing dir: %v, want an error naming the path", err)
	}
}

func checkBank(t *testing.T, path string, size int, img []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != size {
		t.Fatalf("bank is %d bytes, want %d", len(data), size)
	}
	if !bytes.Equal(data[:len(img)], img) {
		t.Errorf("bank does not start with the image")
	}
	for i := len(img); i < len(data); i++ {
		if data[i] != 0xff {
			t.Fatalf("bank byte %#x after the image is %#x, want 0xff (erased)", i, data[i])
		}
	}
}
