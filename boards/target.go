package boards

import (
	"fmt"
	"strings"

	"github.com/bootrig/bootrig/armarch"
)

// Target is what a board executes: its CPU, the level its userland is
// built for, the float ABI and the QEMU user-mode model that runs
// exactly the CPU's level.
type Target struct {
	CPU   armarch.CPU
	March armarch.Arch // -march level code is built for; at most CPU.Arch
	Float string       // soft, softfp or hard
	QEMU  armarch.CPU  // qemu-arm -cpu model
}

// Target resolves the profile's cpu, march, float and qemu_cpu fields.
func (p *Profile) Target() (Target, error) {
	if field, msg := p.checkTarget(); msg != "" {
		return Target{}, &FieldError{File: p.Source, Field: field, Msg: msg}
	}
	cpu, _ := armarch.LookupCPU(p.CPU)
	march, _ := armarch.ParseMarch(p.March)
	q, _ := armarch.LookupQEMU(p.QEMUCPU)
	return Target{CPU: cpu, March: march, Float: p.Float, QEMU: q}, nil
}

// Flags are gcc's flags for code the board executes:
// -march=armv4t -marm -mfloat-abi=soft.
func (p *Profile) Flags() []string {
	return []string{"-march=" + p.March, "-marm", "-mfloat-abi=" + p.Float}
}

// checkTarget: the fields are known and agree with each other.
func (p *Profile) checkTarget() (string, string) {
	cpu, err := armarch.LookupCPU(p.CPU)
	if err != nil {
		return "cpu", missingOr(p.CPU, err)
	}
	march, err := armarch.ParseMarch(p.March)
	if err != nil {
		return "march", missingOr(p.March, err)
	}
	if !march.RunsOn(cpu.Arch) {
		return "march", fmt.Sprintf("%s is %s, newer than the %s's %s", p.March, march, p.CPU, cpu.Arch)
	}
	switch p.Float {
	case "soft":
	case "softfp", "hard":
		if !cpu.VFP {
			return "float", fmt.Sprintf("%q needs a VFP unit and the %s has none (use soft)", p.Float, p.CPU)
		}
	default:
		return "float", missingOr(p.Float, fmt.Errorf("%q: want soft, softfp or hard", p.Float))
	}
	q, err := armarch.LookupQEMU(p.QEMUCPU)
	if err != nil {
		return "qemu_cpu", missingOr(p.QEMUCPU, err)
	}
	if q.Arch != cpu.Arch {
		use := "no qemu-arm model executes it"
		if ms := armarch.QEMUModelsFor(cpu.Arch); len(ms) > 0 {
			use = "use " + strings.Join(ms, " or ")
		}
		return "qemu_cpu", fmt.Sprintf("%s executes %s, the %s %s: %s", p.QEMUCPU, q.Arch, p.CPU, cpu.Arch, use)
	}
	return "", ""
}

func missingOr(val string, err error) string {
	if val == "" {
		return "missing (required)"
	}
	return err.Error()
}
