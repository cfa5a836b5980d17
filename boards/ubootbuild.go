package boards

import (
	"fmt"
	"strconv"
	"strings"
)

// checkUBootBuild checks that an emulated board names exactly one U-Boot
// (qemu.bios or uboot.build) and that a U-Boot build's fragment agrees
// with how the profile says that U-Boot behaves: a fragment that sets
// the console buffer, the prompt, hush, the countdown or the
// environment's size and a dialect that says otherwise would make the
// console driver type into a U-Boot that is not there.
func (p *Profile) checkUBootBuild() (string, string) {
	b := p.UBoot.Build
	if q := p.QEMU; q != nil {
		switch {
		case q.BIOS == "" && b == nil:
			return "qemu.bios", "missing (name a U-Boot binary, or give uboot.build for bootrig to build one)"
		case q.BIOS != "" && b != nil:
			return "qemu.bios", "uboot.build names the U-Boot to boot too: keep one of them"
		}
	}
	if b == nil {
		return "", ""
	}
	if b.Defconfig == "" {
		return "uboot.build.defconfig", "missing (required, e.g. qemu_arm_defconfig)"
	}
	set := fragmentValues(b.Fragment)
	for _, c := range []func(map[string]string) (string, string){p.checkBuildConsole, p.checkBuildEnv} {
		if field, msg := c(set); msg != "" {
			return field, msg
		}
	}
	return "", ""
}

func (p *Profile) checkBuildConsole(set map[string]string) (string, string) {
	u := p.UBoot
	if v, ok := set["CONFIG_SYS_CBSIZE"]; ok && !sameNumber(v, u.CBSize) {
		return "uboot.cbsize", fmt.Sprintf("%d, but uboot.build.fragment sets CONFIG_SYS_CBSIZE=%s", u.CBSize, v)
	}
	if v, ok := set["CONFIG_BOOTDELAY"]; ok && !sameNumber(v, u.Bootdelay) {
		return "uboot.bootdelay", fmt.Sprintf("%d, but uboot.build.fragment sets CONFIG_BOOTDELAY=%s", u.Bootdelay, v)
	}
	if v, ok := set["CONFIG_HUSH_PARSER"]; ok && (v == "y") != u.Hush {
		return "uboot.hush", fmt.Sprintf("%t, but uboot.build.fragment sets CONFIG_HUSH_PARSER to %s", u.Hush, v)
	}
	if v, ok := set["CONFIG_SYS_PROMPT"]; ok && u.Prompt.Regexp != nil && !u.Prompt.MatchString(unquote(v)) {
		return "uboot.prompt", fmt.Sprintf("%q does not match the prompt uboot.build.fragment sets (CONFIG_SYS_PROMPT=%s)", u.Prompt, v)
	}
	if v, ok := set["CONFIG_AUTOBOOT_PROMPT"]; ok && u.Autoboot.Regexp != nil {
		shown := strings.ReplaceAll(unquote(v), "%d", strconv.Itoa(u.Bootdelay))
		if !u.Autoboot.MatchString(shown) {
			return "uboot.autoboot", fmt.Sprintf("%q does not match the countdown uboot.build.fragment sets (CONFIG_AUTOBOOT_PROMPT=%s)", u.Autoboot, v)
		}
	}
	return "", ""
}

func (p *Profile) checkBuildEnv(set map[string]string) (string, string) {
	v, ok := set["CONFIG_ENV_SIZE"]
	if !ok || p.QEMU == nil {
		return "", ""
	}
	if n, err := strconv.ParseUint(v, 0, 64); err != nil || Size(n) != p.QEMU.EnvSize {
		return "qemu.env_size", fmt.Sprintf("%s, but uboot.build.fragment sets CONFIG_ENV_SIZE=%s (U-Boot checks the CRC over exactly that size)", p.QEMU.EnvSize, v)
	}
	return "", ""
}

// fragmentValues are a Kconfig fragment's settings, the last one of a
// symbol winning: CONFIG_X=v as "v", "# CONFIG_X is not set" as "n".
// Lines that are neither are left to the build, which names them.
func fragmentValues(frag string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(frag, "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "# "); ok {
			if name, ok := strings.CutSuffix(rest, " is not set"); ok {
				out[name] = "n"
			}
			continue
		}
		if name, v, ok := strings.Cut(l, "="); ok && strings.HasPrefix(name, "CONFIG_") {
			out[name] = v
		}
	}
	return out
}

func sameNumber(v string, n int) bool {
	got, err := strconv.ParseInt(v, 0, 64)
	return err == nil && got == int64(n)
}

func unquote(v string) string {
	if s, err := strconv.Unquote(v); err == nil {
		return s
	}
	return v
}
