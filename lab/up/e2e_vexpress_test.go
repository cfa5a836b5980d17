package up_test

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestVexpressA9: a second emulated board, brought up by the same code as
// qemu-arm from nothing but its profile and the lab's description of its
// QEMU machine (lab/machines.go): U-Boot built from
// vexpress_ca9x4_defconfig, the kernel and its own device tree fetched
// over TFTP and booted with bootm KERNEL - FDT, the root over NFS through
// the board's LAN9118, the console on ttyAMA0. The LAN9118 QEMU emulates
// drops frames its FIFO cannot hold and can then stall (see the profile's
// qemu.nic_rx_frames): the board reads a 4 MiB file it has never seen,
// byte-exact, and the servers' TCP retransmitted under 5% of what it sent
// in the whole test (without the lab's clamp: over half).
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
	blob := make([]byte, 4<<20)
	rand.Read(blob)
	if err := os.WriteFile(filepath.Join(c.Netboot.Export, "root", "blob"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = run(t, b, "md5sum /root/blob")
	if want := fmt.Sprintf("%x  /root/blob\n", md5.Sum(blob)); code != 0 || out != want {
		t.Errorf("md5sum on the board: %q (status %d), want %q", out, code, want)
	}
	sent, retrans := tcpSegments(t)
	t.Logf("the lab's TCP: %d segments sent, %d retransmitted", sent, retrans)
	if sent == 0 || retrans*20 >= sent {
		t.Errorf("the servers' TCP retransmitted %d of %d segments to the board: its NIC drops what they send", retrans, sent)
	}
}

// tcpSegments is the TCP segments this network namespace sent and
// retransmitted (OutSegs, RetransSegs of /proc/net/snmp).
func tcpSegments(t *testing.T) (out, retrans int) {
	t.Helper()
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Tcp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, n := range names {
			v, _ := strconv.Atoi(f[i])
			switch n {
			case "OutSegs":
				out = v
			case "RetransSegs":
				retrans = v
			}
		}
	}
	if names == nil {
		t.Fatal("/proc/net/snmp has no Tcp: lines")
	}
	return out, retrans
}
