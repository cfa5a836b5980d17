package lab

import (
	"strings"
	"testing"

	"github.com/bootrig/bootrig/boards"
)

// TestMachineTypes: every machine wires its NIC one way, and every
// shipped emulated board runs on a machine the lab knows.
func TestMachineTypes(t *testing.T) {
	for name, m := range machineTypes {
		if m.Name != name || (m.NICDevice == "") == (m.NICModel == "") || !strings.HasPrefix(m.Docs, "https://") {
			t.Errorf("machine %q: %+v: want its own name, a docs link and exactly one of NICDevice, NICModel", name, m)
		}
	}
	all, err := boards.Catalog{}.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p.QEMU == nil {
			continue
		}
		if _, err := LookupMachine(p.QEMU.Machine); err != nil {
			t.Errorf("profile %s: %v", p.Name, err)
		}
	}
	if _, err := LookupMachine("sabrelite"); err == nil || !strings.Contains(err.Error(), "lab/machines.go") {
		t.Errorf("an unknown machine: %v, want an error naming where machines are described", err)
	}
}

// TestFromBuild: a profile with uboot.build runs the U-Boot of its build
// (vexpress-a9: loaded into RAM at its link address, LAN9118 on the tap);
// one that names a binary runs that.
func TestFromBuild(t *testing.T) {
	tests := []struct {
		board string
		want  []string
	}{
		{"qemu-arm", []string{"-M virt ", "-bios /out/u-boot.bin ", "-device virtio-net-device,netdev=lan -netdev tap,id=lan,ifname=tap0,",
			"-drive if=none,format=raw,id=envdisk,file=/s/envdisk.img -device virtio-blk-device,drive=envdisk"}},
		{"qemu-arm-debian", []string{"-bios /usr/lib/u-boot/qemu_arm/u-boot.bin ", "-drive if=pflash,format=raw,unit=1,file=/s/flash1.img"}},
		{"vexpress-a9", []string{"-M vexpress-a9 -cpu cortex-a9 -m 256M -device loader,file=/out/u-boot.bin,addr=0x60800000,cpu-num=0 ",
			"-nic tap,id=lan,ifname=tap0,script=no,downscript=no,model=lan9118"}},
	}
	for _, tt := range tests {
		p, err := boards.Lookup(tt.board)
		if err != nil {
			t.Fatal(err)
		}
		q, err := FromBuild(p, "/s", "tap0", "/out")
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Join(q.Args(), " ")
		for _, w := range tt.want {
			if !strings.Contains(args, w) {
				t.Errorf("%s: QEMU args %s\nlack %q", tt.board, args, w)
			}
		}
		if strings.Contains(args, "-bios") && strings.Contains(args, "loader,") {
			t.Errorf("%s: both -bios and the loader: %s", tt.board, args)
		}
		if strings.Contains(args, "if=pflash") == strings.Contains(args, "id=envdisk") {
			t.Errorf("%s: want the environment in exactly one of the flash bank and the disk: %s", tt.board, args)
		}
	}
}

// TestFromBuildEnvFATNoDisk: an environment in FAT on a machine the lab
// cannot give a virtio disk is an error naming the machine.
func TestFromBuildEnvFATNoDisk(t *testing.T) {
	p, err := boards.Lookup("vexpress-a9")
	if err != nil {
		t.Fatal(err)
	}
	fat := *p
	q := *p.QEMU
	q.Env, q.FlashSize = boards.EnvFAT, 0
	fat.QEMU = &q
	if _, err := FromBuild(&fat, "/s", "tap0", "/out"); err == nil || !strings.Contains(err.Error(), "vexpress-a9") || !strings.Contains(err.Error(), "lab/machines.go") {
		t.Errorf("FromBuild of an EnvFAT board on vexpress-a9: %v, want an error naming the machine and lab/machines.go", err)
	}
}
