// Package armarch knows ARM architecture levels: which level a CPU (or a
// QEMU CPU model) executes, and which level an object needs, as its ELF
// build attributes record it.
//
// Start with [ReadFile] (the attributes of an ELF object, executable or
// archive member) and [Arch.RunsOn]; [LookupCPU] and [LookupQEMU] map
// gcc's -mcpu names and qemu-arm's -cpu models to levels. The attribute
// format is the one "Addenda to, and Errata in, the ABI for the Arm
// Architecture" (ARM IHI 0045, "Build attributes") documents; it is
// parsed in Go, not by scraping readelf.
package armarch

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Arch is an architecture level as Tag_CPU_arch numbers it (ARM IHI 0045).
type Arch uint8

// The Tag_CPU_arch values.
const (
	PreV4    Arch = iota // ARM7TDMI's predecessors
	V4                   // StrongARM: no Thumb
	V4T                  // ARM7TDMI, ARM920T
	V5T                  // adds clz, blx
	V5TE                 // adds the DSP instructions, ldrd/strd
	V5TEJ                // ARM926EJ-S
	V6                   // ARM1136
	V6KZ                 // ARM1176
	V6T2                 // ARM1156: Thumb-2
	V6K                  // ARM11 MPCore
	V7                   // Cortex-A8, A9, A15
	V6M                  // Cortex-M0
	V6SM                 // v6-M with the OS extension
	V7EM                 // Cortex-M4
	V8A                  // AArch32 of ARMv8-A
	V8R                  // ARMv8-R
	V8MBase              // ARMv8-M baseline
	V8MMain              // ARMv8-M mainline
	V81A                 // ARMv8.1-A
	V82A                 // ARMv8.2-A
	V83A                 // ARMv8.3-A
	V81MMain             // ARMv8.1-M mainline
	V9A                  // ARMv9-A
	numArches
)

var archNames = [numArches]string{
	"Pre-v4", "v4", "v4T", "v5T", "v5TE", "v5TEJ", "v6", "v6KZ", "v6T2", "v6K", "v7",
	"v6-M", "v6S-M", "v7E-M", "v8-A", "v8-R", "v8-M.baseline", "v8-M.mainline",
	"v8.1-A", "v8.2-A", "v8.3-A", "v8.1-M.mainline", "v9-A",
}

// String is the level as readelf -A prints it: "v4T", "v5TE".
func (a Arch) String() string {
	if a < numArches {
		return archNames[a]
	}
	return fmt.Sprintf("Tag_CPU_arch %d", uint8(a))
}

// microcontroller reports whether a is an M-profile level: code for it
// does not run on the application processors Linux boards have.
func (a Arch) microcontroller() bool {
	switch a {
	case V6M, V6SM, V7EM, V8MBase, V8MMain, V81MMain:
		return true
	}
	return false
}

// RunsOn reports whether code that needs level a executes on a CPU of
// level cpu. A-profile levels are ordered by their Tag_CPU_arch number
// (each adds instructions to the ones below it); M-profile code runs on
// no A-profile CPU.
func (a Arch) RunsOn(cpu Arch) bool {
	if a.microcontroller() != cpu.microcontroller() {
		return false
	}
	return a <= cpu
}

// ErrUnknown marks a name no table here knows.
var ErrUnknown = errors.New("unknown")

// marches are gcc's -march names for the levels Linux boards use.
var marches = map[string]Arch{
	"armv4": V4, "armv4t": V4T, "armv5t": V5T, "armv5te": V5TE, "armv5tej": V5TEJ,
	"armv6": V6, "armv6j": V6, "armv6k": V6K, "armv6kz": V6KZ, "armv6zk": V6KZ, "armv6t2": V6T2,
	"armv7-a": V7, "armv7ve": V7, "armv7": V7, "armv8-a": V8A,
}

// ParseMarch returns the level of a gcc -march name ("armv4t" → v4T).
func ParseMarch(s string) (Arch, error) {
	if a, ok := marches[s]; ok {
		return a, nil
	}
	return 0, fmt.Errorf("-march %q: %w level (want one of %s)", s, ErrUnknown, strings.Join(keys(marches), ", "))
}

// CPU is a processor core: the level it executes and whether it has a
// VFP unit (needed by the softfp and hard float ABIs).
type CPU struct {
	Name string
	Arch Arch
	VFP  bool
}

// cpus are gcc's -mcpu names of cores found on Linux boards.
var cpus = map[string]CPU{
	"arm7tdmi":     {"arm7tdmi", V4T, false},
	"arm920t":      {"arm920t", V4T, false},
	"arm922t":      {"arm922t", V4T, false},
	"arm926ej-s":   {"arm926ej-s", V5TEJ, false},
	"arm1136jf-s":  {"arm1136jf-s", V6, true},
	"arm1176jzf-s": {"arm1176jzf-s", V6KZ, true},
	"cortex-a5":    {"cortex-a5", V7, true},
	"cortex-a7":    {"cortex-a7", V7, true},
	"cortex-a8":    {"cortex-a8", V7, true},
	"cortex-a9":    {"cortex-a9", V7, true},
	"cortex-a15":   {"cortex-a15", V7, true},
}

// LookupCPU returns the core gcc's -mcpu calls name.
func LookupCPU(name string) (CPU, error) {
	if c, ok := cpus[name]; ok {
		return c, nil
	}
	return CPU{}, fmt.Errorf("CPU %q: %w (want one of %s)", name, ErrUnknown, strings.Join(keys(cpus), ", "))
}

// qemuModels are qemu-arm's -cpu models (qemu-arm -cpu help) and the
// level each executes: ti925t is the ARMv4T one.
var qemuModels = map[string]CPU{
	"sa1100": {"sa1100", V4, false}, "sa1110": {"sa1110", V4, false},
	"ti925t": {"ti925t", V4T, false},
	"arm926": {"arm926", V5TEJ, false}, "arm946": {"arm946", V5TE, false}, "arm1026": {"arm1026", V5TEJ, true},
	"pxa250": {"pxa250", V5TE, false}, "pxa270": {"pxa270", V5TE, false},
	"arm1136": {"arm1136", V6, true}, "arm1136-r2": {"arm1136-r2", V6, true},
	"arm1176": {"arm1176", V6KZ, true}, "arm11mpcore": {"arm11mpcore", V6K, true},
	"cortex-a7": {"cortex-a7", V7, true}, "cortex-a8": {"cortex-a8", V7, true},
	"cortex-a9": {"cortex-a9", V7, true}, "cortex-a15": {"cortex-a15", V7, true},
}

// LookupQEMU returns the qemu-arm CPU model called name.
func LookupQEMU(name string) (CPU, error) {
	if c, ok := qemuModels[name]; ok {
		return c, nil
	}
	return CPU{}, fmt.Errorf("qemu-arm CPU model %q: %w (want one of %s)", name, ErrUnknown, strings.Join(keys(qemuModels), ", "))
}

// QEMUModelsFor lists the qemu-arm models that execute exactly level a.
func QEMUModelsFor(a Arch) []string {
	var out []string
	for n, c := range qemuModels {
		if c.Arch == a {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
