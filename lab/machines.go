package lab

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
)

// MachineType is what the lab needs to know of a QEMU machine beyond its
// name: how its Ethernet is wired to the lab's tap. A board profile names
// the machine (qemu.machine); a new emulated board on a machine listed
// here needs nothing but its profile.
type MachineType struct {
	Name string // QEMU's -M name
	Docs string
	// NICDevice is the NIC bootrig adds to the machine (-device NAME),
	// for machines with a bus for one (virt's virtio-mmio).
	NICDevice string
	// NICModel is the machine's own Ethernet chip (-nic ...,model=NAME),
	// for boards that have one soldered on and no bus to add another.
	NICModel string
	// DiskDevice is the block device bootrig adds for a board whose
	// U-Boot keeps its environment in FAT (boards.EnvFAT); "" where the
	// machine has no bus for one.
	DiskDevice string
}

// machineTypes are the machines the lab runs. Each must have exactly one
// of NICDevice and NICModel (TestMachineTypes).
var machineTypes = map[string]MachineType{
	"virt": {
		Name: "virt", Docs: "https://www.qemu.org/docs/master/system/arm/virt.html",
		NICDevice: "virtio-net-device",
		// U-Boot's "virtio 0": the first virtio block device.
		DiskDevice: "virtio-blk-device",
	},
	"vexpress-a9": {
		Name: "vexpress-a9", Docs: "https://www.qemu.org/docs/master/system/arm/vexpress.html",
		// SMSC LAN9118 on the motherboard's static memory bus.
		NICModel: "lan9118",
	},
}

// LookupMachine is the lab's description of QEMU machine name.
func LookupMachine(name string) (MachineType, error) {
	if m, ok := machineTypes[name]; ok {
		return m, nil
	}
	names := make([]string, 0, len(machineTypes))
	for n := range machineTypes {
		names = append(names, n)
	}
	sort.Strings(names)
	return MachineType{}, fmt.Errorf("QEMU machine %q: the lab does not know how to wire its network (known: %v; add it to lab/machines.go)", name, names)
}

// Firmware is the U-Boot image an emulated board runs: the one bootrig
// built into out when the profile has uboot.build, else qemu.bios.
func Firmware(p *boards.Profile, out string) string {
	if p.UBoot.Build != nil {
		return crossbuild.UBootImage(out)
	}
	return p.QEMU.BIOS
}

// FromBuild is [FromProfile] running the firmware the board's build in
// out holds (see [Firmware]).
func FromBuild(p *boards.Profile, stateDir, tap, out string) (QEMU, error) {
	q := FromProfile(p, stateDir, tap)
	if _, err := LookupMachine(q.Machine); err != nil {
		return q, fmt.Errorf("board %s: %w", p.Name, err)
	}
	if p.QEMU.Store() == boards.EnvFAT && q.DiskDevice == "" {
		return q, fmt.Errorf("board %s: qemu.env is fat, but QEMU machine %s has no bus for the environment's disk in lab/machines.go", p.Name, q.Machine)
	}
	q.BIOS = Firmware(p, out)
	if !filepath.IsAbs(q.BIOS) {
		return q, fmt.Errorf("board %s: firmware %q is not an absolute path", p.Name, q.BIOS)
	}
	return q, nil
}
