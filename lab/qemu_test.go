package lab

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/bootrig/bootrig/boards"
)

// inLab runs the calling test again in a new lab namespace and reports
// false; in that namespace it reports true, and the test goes on there.
func inLab(t *testing.T) bool {
	t.Helper()
	if Inside() {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	code, err := Reexec(ctx, []string{"-test.run=^" + t.Name() + "$", "-test.v", "-test.timeout=3m"},
		Stdio{Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("in the lab namespace:\n%s", out.Bytes())
	if code != 0 {
		t.Fatalf("test in the lab namespace exited %d", code)
	}
	return false
}

func qemuArm(t *testing.T) *boards.Profile {
	t.Helper()
	p, err := boards.Lookup("qemu-arm-debian")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// bootUBoot powers on a board as q says and stops U-Boot's autoboot.
func bootUBoot(t *testing.T, q QEMU) (*Machine, *testConsole) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := Start(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.PowerOff(ctx); err != nil {
			t.Error(err)
		}
	})
	con := openTestConsole(t, m.ConsolePath())
	if err := m.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	con.wait(t, "Hit any key to stop autoboot", 30*time.Second)
	con.send(t, " ")
	con.wait(t, "(?m)^=> $", 10*time.Second)
	return m, con
}

func TestUBootConsole(t *testing.T) {
	dir := t.TempDir()
	q := FromProfile(qemuArm(t), dir, "")
	m, con := bootUBoot(t, q)
	con.send(t, "echo hello from ${arch}\n")
	con.wait(t, "hello from arm\r\n=> $", 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.PowerOff(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Wait(); err != nil {
		t.Errorf("QEMU after power off: %v", err)
	}
	// QEMU's own log of the serial line holds exactly what the console read.
	logged, err := os.ReadFile(q.SerialLog)
	if err != nil {
		t.Fatal(err)
	}
	if got := con.bytes(); !bytes.Equal(got, logged) {
		t.Errorf("console read %d bytes, QEMU logged %d; they differ", len(got), len(logged))
	}
	if !bytes.Contains(logged, []byte("U-Boot")) {
		t.Errorf("no U-Boot banner in QEMU's log:\n%s", logged)
	}
}

func TestStartFails(t *testing.T) {
	q := FromProfile(qemuArm(t), t.TempDir(), "")
	q.BIOS = "/nonexistent/u-boot.bin"
	_, err := Start(context.Background(), q)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/u-boot.bin") {
		t.Errorf("Start with a missing BIOS: %v, want an error naming it", err)
	}
}

func TestLANSetup(t *testing.T) {
	if !inLab(t) {
		return
	}
	lan := LAN{Tap: "tap0", Addr: netip.MustParsePrefix("192.168.7.1/24"), RXFrames: 6}
	for range 2 { // a second Setup (a lab joined again) changes nothing
		if err := lan.Setup(); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() != 0 {
		t.Errorf("euid %d in the lab namespace, want 0", os.Geteuid())
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	if strings.Join(names, ",") != "lo,tap0" {
		t.Errorf("links %v, want lo and tap0 only", names)
	}
	tap, err := netlink.LinkByName("tap0")
	if err != nil {
		t.Fatal(err)
	}
	if tap.Type() != "tuntap" {
		t.Errorf("tap0 is a %s", tap.Type())
	}
	addrs, err := netlink.AddrList(tap, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 || addrs[0].IPNet.String() != "192.168.7.1/24" {
		t.Errorf("tap0 addresses %v (%v), want 192.168.7.1/24", addrs, err)
	}
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var lanRoutes []netlink.Route
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			t.Errorf("default route %v in the lab", r)
		} else if r.Dst.String() == "192.168.7.0/24" {
			lanRoutes = append(lanRoutes, r)
		}
	}
	// RXFrames: the LAN's one route carries the window TCP keeps to.
	if len(lanRoutes) != 1 || lanRoutes[0].Cwnd != 6 || lanRoutes[0].LinkIndex != tap.Attrs().Index {
		t.Errorf("routes to the LAN %+v, want one on tap0 with cwnd 6", lanRoutes)
	}
	// The servers' fixed ports are free to bind on the server address.
	for _, port := range []int{69, 111} {
		pc, err := net.ListenPacket("udp4", fmt.Sprintf("192.168.7.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		pc.Close()
	}
	l, err := net.Listen("tcp4", "192.168.7.1:2049")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	// Nothing beyond the LAN is reachable.
	if c, err := net.DialTimeout("udp4", "8.8.8.8:53", time.Second); err == nil {
		_, err = c.Write([]byte("x"))
		c.Close()
		if err == nil {
			t.Errorf("a packet to 8.8.8.8 left the lab")
		}
	}
}

// qemuArmLAN is the qemu-arm profile, its lab settings and its tap LAN, set up.
func qemuArmLAN(t *testing.T) (*boards.Profile, boards.Netboot, LAN) {
	t.Helper()
	p := qemuArm(t)
	l, err := p.Netboot(boards.Netboot{})
	if err != nil {
		t.Fatal(err)
	}
	lan, err := LANFor(l, p.QEMU)
	if err != nil {
		t.Fatal(err)
	}
	if err := lan.Setup(); err != nil {
		t.Fatal(err)
	}
	return p, l, lan
}

// writeBlob writes size pseudo-random bytes (from seed) to path and returns them.
func writeBlob(t *testing.T, path string, size int, seed uint64) []byte {
	t.Helper()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// TestUBootTFTP: U-Boot, on the tap LAN, fetches a file from a TFTP
// server in the lab namespace and checks it with its own crc32.
func TestUBootTFTP(t *testing.T) {
	if !inLab(t) {
		return
	}
	p, l, lan := qemuArmLAN(t)
	root := t.TempDir()
	data := writeBlob(t, filepath.Join(root, "blob.bin"), 3<<20+123, 1)
	startTestTFTP(t, l.ServerIP, root)

	state := t.TempDir()
	q := FromProfile(p, state, lan.Tap)
	if err := EnsureFlash(q.Flash, int64(p.QEMU.FlashSize)); err != nil {
		t.Fatal(err)
	}
	_, con := bootUBoot(t, q)
	con.send(t, "setenv ipaddr %s; setenv serverip %s; setenv netmask %s\n", l.BoardIP, l.ServerIP, l.Netmask)
	con.wait(t, "(?m)^=> $", 10*time.Second)
	con.send(t, "tftp ${kernel_addr_r} blob.bin\n")
	out := con.wait(t, "(?m)^=> $", 60*time.Second)
	if !strings.Contains(out, fmt.Sprintf("Bytes transferred = %d", len(data))) {
		t.Fatalf("tftp did not transfer %d bytes:\n%s", len(data), out)
	}
	con.send(t, "crc32 ${kernel_addr_r} ${filesize}\n")
	out = con.wait(t, "(?m)^=> $", 10*time.Second)
	want := fmt.Sprintf("==> %08x", crc32.ChecksumIEEE(data))
	if !strings.Contains(out, want) {
		t.Errorf("U-Boot's crc32 of the file: want %s in\n%s", want, out)
	}
}
