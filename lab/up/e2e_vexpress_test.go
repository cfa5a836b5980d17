package up_test

import (
	"bytes"
	"strings"
	"testing"
)

// TestVexpressA9: a second emulated board, brought up by the same code as
// qemu-arm from nothing but its profile and the lab's description of its
// QEMU machine (lab/machines.go): U-Boot built from
// vexpress_ca9x4_defconfig, the kernel and its own device tree fetched
// over TFTP and booted with bootm KERNEL - FDT, the root over NFS through
// the board's LAN9118, the console on ttyAMA0.
func TestVexpressA9(t *testing.T) {
	if !inLabWith(t, "vexpress-a9") {
		return
	}
	c := configFor(t, "vexpress-a9")
	var log bytes.Buffer
	c.Log = &log
	b := start(t, c)
	console := log.String()
	if !strings.Contains(console, "Booting using the fdt blob at 0x60000000") {
		t.Errorf("U-Boot did not boot with the device tree at fdt_addr_r:\n%s", console)
	}
	out, code := run(t, b, "tr -d '\\000' < /proc/device-tree/model; echo; cat /proc/cmdline; ls /sys/bus/platform/drivers/smsc911x | grep -c ethernet")
	want := "V2P-CA9\n" + c.Board.Bootargs(c.Netboot) + "\n1\n"
	if code != 0 || out != want {
		t.Errorf("the board's shell printed %q (status %d), want %q", out, code, want)
	}
}
