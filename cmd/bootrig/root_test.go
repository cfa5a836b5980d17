package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRootFlag: --root picks the command line and U-Boot commands, says
// where edits go in a RAM mode, and a mode that is none is a usage error.
func TestRootFlag(t *testing.T) {
	out, _, code := runBootrig(t, "bootargs", "--board", "mini2440", "--root", "initramfs")
	want := "bootargs=console=ttySAC0,115200 rdinit=/linuxrc mem=64M\n" +
		"bootcmd=tftp 0x30008000 uImage; tftp 0x31000000 uInitrd; bootm 0x30008000 0x31000000\n"
	if code != 0 || out != want {
		t.Errorf("bootargs --board mini2440 --root initramfs: exit %d\n%s\nwant\n%s", code, out, want)
	}
	out, _, code = runBootrig(t, "bootargs", "--root", "builtin", "--json")
	var j struct{ Root, Image, Initrd, Bootargs string }
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 {
		t.Fatalf("bootargs --json: exit %d, %v: %s", code, err, out)
	}
	if j.Root != "builtin" || j.Image != "uImage-initramfs" || j.Initrd != "" || strings.Contains(j.Bootargs, "nfs") {
		t.Errorf("bootargs --root builtin --json: %+v", j)
	}
	out, errOut, code := runBootrig(t, "rootfs", "path", "--root", "initramfs")
	if code != 0 || !strings.HasSuffix(out, "/qemu-arm/out/rootfs\n") || !strings.Contains(errOut, "edits reach it at the next boot") {
		t.Errorf("rootfs path --root initramfs: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, errOut, _ := runBootrig(t, "rootfs", "path"); errOut != "" {
		t.Errorf("rootfs path (nfs) says %q, want nothing on stderr", errOut)
	}
	for _, args := range [][]string{{"build", "--root", "ramfs"}, {"up", "--root", "nfs3"}, {"bootargs", "--root", "x"}, {"serve", "--root", "y"}} {
		if _, errOut, code := runBootrig(t, args...); code != 2 || !strings.Contains(errOut, "want nfs, initramfs or builtin") {
			t.Errorf("%q: exit %d, %q; want usage error 2 naming the modes", args, code, errOut)
		}
	}
}
