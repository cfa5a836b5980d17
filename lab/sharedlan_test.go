package lab

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/boards"
)

func TestSharedLANFor(t *testing.T) {
	p := qemuArm(t)
	l, err := p.Netboot(boards.Netboot{})
	if err != nil {
		t.Fatal(err)
	}
	lan, err := SharedLANFor(l, 3)
	if err != nil {
		t.Fatal(err)
	}
	if lan.Bridge != "br0" || lan.Addr.String() != "192.168.7.1/24" || !slices.Equal(lan.Taps, []string{"tap0", "tap1", "tap2"}) {
		t.Errorf("SharedLANFor(3) = %+v", lan)
	}
	macs := map[string]bool{}
	for i := range 300 {
		mac := lan.MAC(i)
		if hw, err := net.ParseMAC(mac); err != nil || len(hw) != 6 {
			t.Fatalf("MAC(%d) = %q: %v", i, mac, err)
		}
		macs[mac] = true
	}
	if len(macs) != 300 {
		t.Errorf("300 boards got %d distinct MACs", len(macs))
	}
	if _, err := SharedLANFor(l, 0); err == nil || !strings.Contains(err.Error(), "0 boards") {
		t.Errorf("SharedLANFor(0): %v, want an error", err)
	}
}

// TestSharedLANSetup: after Setup (twice: it may run again) the bridge
// holds the server's address and every tap is its port; a board's ARP
// request on tap0 is answered by the server and reaches the board on
// tap1, as on one switch.
func TestSharedLANSetup(t *testing.T) {
	if !inLab(t) {
		return
	}
	lan := SharedLAN{Bridge: "br0", Addr: netip.MustParsePrefix("192.168.7.1/24"), Taps: []string{"tap0", "tap1", "tap2"}}
	for range 2 {
		if err := lan.Setup(); err != nil {
			t.Fatal(err)
		}
	}
	br, err := netlink.LinkByName("br0")
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := netlink.AddrList(br, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 || addrs[0].IPNet.String() != "192.168.7.1/24" {
		t.Errorf("br0 addresses %v (%v), want 192.168.7.1/24", addrs, err)
	}
	for _, name := range lan.Taps {
		tap, err := netlink.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if a := tap.Attrs(); tap.Type() != "tuntap" || a.MasterIndex != br.Attrs().Index || a.Flags&net.FlagUp == 0 {
			t.Errorf("%s: a %s, master %d (br0 is %d), flags %v; want an up tap of br0", name, tap.Type(), a.MasterIndex, br.Attrs().Index, a.Flags)
		}
	}

	board0, board1 := openTap(t, "tap0"), openTap(t, "tap1")
	mac0, _ := net.ParseMAC(lan.MAC(0))
	request := arpFrame(1, mac0, netip.MustParseAddr("192.168.7.2"), net.HardwareAddr{0, 0, 0, 0, 0, 0}, netip.MustParseAddr("192.168.7.1"))
	send := func() {
		if _, err := board0.Write(request); err != nil {
			t.Fatalf("send ARP request on tap0: %v", err)
		}
	}
	reply := exchange(t, send, board0, func(f []byte) bool { return isARP(f, 2, "192.168.7.1") })
	if !bytes.Equal(reply[0:6], mac0) {
		t.Errorf("ARP reply sent to %s, want %s", net.HardwareAddr(reply[0:6]), mac0)
	}
	exchange(t, send, board1, func(f []byte) bool { return bytes.Equal(f, request) })
}

// openTap attaches to the persistent tap name as a board's QEMU does.
func openTap(t *testing.T, name string) *os.File {
	t.Helper()
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		t.Fatal(err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		t.Fatalf("attach to %s: %v", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	t.Cleanup(func() { f.Close() })
	return f
}

// exchange sends until a wanted frame arrives on tap, for 10 s at most.
// A bridge port forwards once the kernel has seen its tap's carrier,
// which it notes asynchronously (linkwatch), so the first frames may be
// dropped: send is repeated each 250 ms, as an ARP client resends. Other
// frames (the host's own IPv6 chatter the bridge floods) are skipped.
func exchange(t *testing.T, send func(), tap *os.File, wanted func([]byte) bool) []byte {
	t.Helper()
	end := time.Now().Add(10 * time.Second)
	buf := make([]byte, 2048)
	for time.Now().Before(end) {
		send()
		tap.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		for {
			n, err := tap.Read(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatalf("read %s: %v", tap.Name(), err)
			}
			if wanted(buf[:n]) {
				return buf[:n]
			}
		}
	}
	t.Fatalf("%s: no such frame in 10 s", tap.Name())
	return nil
}

// arpFrame is an Ethernet frame holding an ARP request (op 1, broadcast)
// or reply (op 2) for IPv4 (RFC 826).
func arpFrame(op uint16, sha net.HardwareAddr, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr) []byte {
	dst := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if op == 2 {
		dst = tha
	}
	f := append(append([]byte{}, dst...), sha...)
	f = binary.BigEndian.AppendUint16(f, unix.ETH_P_ARP)
	f = append(f, 0, 1, 8, 0, 6, 4) // Ethernet, IPv4, address lengths
	f = binary.BigEndian.AppendUint16(f, op)
	f = append(append(f, sha...), spa.AsSlice()...)
	return append(append(f, tha...), tpa.AsSlice()...)
}

// isARP reports whether f is an ARP frame of op from sender IP spa.
func isARP(f []byte, op uint16, spa string) bool {
	return len(f) >= 42 && binary.BigEndian.Uint16(f[12:]) == unix.ETH_P_ARP &&
		binary.BigEndian.Uint16(f[20:]) == op && netip.AddrFrom4([4]byte(f[28:32])).String() == spa
}
