package boards

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParseRoot(t *testing.T) {
	for in, want := range map[string]Root{"": RootNFS, "nfs": RootNFS, "initramfs": RootInitramfs, " builtin ": RootBuiltin} {
		if got, err := ParseRoot(in); err != nil || got != want {
			t.Errorf("ParseRoot(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"ramfs", "NFS", "initrd"} {
		if _, err := ParseRoot(in); !errors.Is(err, ErrUnknownRoot) {
			t.Errorf("ParseRoot(%q) = %v, want ErrUnknownRoot", in, err)
		}
	}
}

// TestRAMBootGolden: with the root in RAM the command line has no NFS
// root (and no ip=: nothing needs the network), and --root initramfs
// fetches both images into the profile's regions and boots them together.
func TestRAMBootGolden(t *testing.T) {
	for _, tc := range []struct {
		board                    string
		root                     Root
		image, bootargs, bootcmd string
	}{
		{"mini2440", RootInitramfs, "uImage", "console=ttySAC0,115200 rdinit=/linuxrc mem=64M",
			"tftp 0x30008000 uImage; tftp 0x31000000 uInitrd; bootm 0x30008000 0x31000000"},
		{"mini2440", RootBuiltin, "uImage-initramfs", "console=ttySAC0,115200 rdinit=/linuxrc mem=64M",
			"tftp 0x30008000 uImage-initramfs; bootm 0x30008000"},
		{"qemu-arm", RootInitramfs, "uImage", "console=ttyAMA0,115200 rdinit=/sbin/init",
			"tftp 0x40400000 uImage; tftp 0x44000000 uInitrd; bootm 0x40400000 0x44000000 ${fdtcontroladdr}"},
		{"qemu-arm", RootBuiltin, "uImage-initramfs", "console=ttyAMA0,115200 rdinit=/sbin/init",
			"tftp ${kernel_addr_r} uImage-initramfs; bootm ${kernel_addr_r} - ${fdtcontroladdr}"},
	} {
		p, err := Catalog{}.Lookup(tc.board)
		if err != nil {
			t.Fatal(err)
		}
		l, err := p.Netboot(Netboot{Root: tc.root, ServerIP: netip.MustParseAddr("192.168.1.113"), BoardIP: netip.MustParseAddr("192.168.1.244"),
			Gateway: netip.MustParseAddr("192.168.1.1"), Netmask: netip.MustParseAddr("255.255.255.0")})
		if err != nil {
			t.Fatal(err)
		}
		if l.Image != tc.image {
			t.Errorf("%s --root %s: image %q, want %q", tc.board, tc.root, l.Image, tc.image)
		}
		if got := p.Bootargs(l); got != tc.bootargs {
			t.Errorf("%s --root %s bootargs:\n got %s\nwant %s", tc.board, tc.root, got, tc.bootargs)
		}
		if got := p.Bootcmd(l); got != tc.bootcmd {
			t.Errorf("%s --root %s bootcmd:\n got %s\nwant %s", tc.board, tc.root, got, tc.bootcmd)
		}
	}
}

// TestProfileRoot: the profile's root field is the default mode.
func TestProfileRoot(t *testing.T) {
	p, err := Catalog{}.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	if p.RootMode() != RootNFS {
		t.Errorf("qemu-arm root mode %q, want nfs", p.RootMode())
	}
	q := *p
	q.Root = "initramfs"
	l, err := q.Netboot(Netboot{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Root != RootInitramfs || l.Initrd != InitrdFile {
		t.Errorf("Lab() root %q initrd %q, want the profile's initramfs and %q", l.Root, l.Initrd, InitrdFile)
	}
}
