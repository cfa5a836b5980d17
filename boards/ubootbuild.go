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

// checkEnvStore checks qemu.env: a store the lab knows, the flash bank
// sized only where the environment is in it, and FAT only on a U-Boot
// bootrig builds (Debian's qemu_arm U-Boot keeps it in flash).
func (p *Profile) checkEnvStore() (string, string) {
	q := p.QEMU
	if q == nil {
		return "", ""
	}
	switch q.Store() {
	case EnvFlash:
		if q.FlashSize == 0 {
			return "qemu.flash_size", "missing (the size of the flash bank the environment is in, e.g. 64M)"
		}
	case EnvFAT:
		if q.FlashSize != 0 {
			return "qemu.flash_size", "the environment is in FAT (qemu.env: fat): the board has no flash bank to size"
		}
		if p.UBoot.Build == nil {
			return "qemu.env", "fat needs a U-Boot bootrig builds (uboot.build) with CONFIG_ENV_IS_IN_FAT; a prebuilt one keeps its environment where it was built to (flash)"
		}
	default:
		return "qemu.env", fmt.Sprintf("%q: want %s or %s", q.Env, EnvFlash, EnvFAT)
	}
	return "", ""
}

func (p *Profile) checkBuildEnv(set map[string]string) (string, string) {
	if p.QEMU == nil {
		return "", ""
	}
	if v, ok := set["CONFIG_ENV_SIZE"]; ok {
		if n, err := strconv.ParseUint(v, 0, 64); err != nil || Size(n) != p.QEMU.EnvSize {
			return "qemu.env_size", fmt.Sprintf("%s, but uboot.build.fragment sets CONFIG_ENV_SIZE=%s (U-Boot checks the CRC over exactly that size)", p.QEMU.EnvSize, v)
		}
	}
	fat := set["CONFIG_ENV_IS_IN_FAT"] == "y"
	if p.QEMU.Store() != EnvFAT {
		if fat {
			return "qemu.env", fmt.Sprintf("%s, but uboot.build.fragment sets CONFIG_ENV_IS_IN_FAT=y (say env: fat)", p.QEMU.Store())
		}
		return "", ""
	}
	if field, msg := checkFATFragment(set); msg != "" {
		return field, msg
	}
	if pre := unquote(set["CONFIG_PREBOOT"]); p.Kernel.DTB == "fdtcontroladdr" && !strings.Contains(pre, "setenv fdtcontroladdr") {
		return "uboot.build.fragment", fmt.Sprintf("CONFIG_PREBOOT=%q must set fdtcontroladdr again after env load (kernel.dtb is fdtcontroladdr; U-Boot sets it before preboot, env load drops it)", pre)
	}
	return "", ""
}

// checkFATFragment checks that a fragment keeps the environment where
// the lab writes it with EnvFAT (EnvFATFile on the virtio disk) and
// loads it at power-on: U-Boot's qemu-arm board finds its virtio disk
// after it has loaded the environment, so only a preboot that scans
// virtio and runs env load gets the saved one.
func checkFATFragment(set map[string]string) (string, string) {
	want := []struct{ name, value string }{
		{"CONFIG_ENV_IS_IN_FAT", "y"},
		{"CONFIG_ENV_IS_IN_FLASH", "n"},
		{"CONFIG_ENV_FAT_INTERFACE", `"virtio"`},
		// The lab's disk is one FAT file system, no partition table.
		{"CONFIG_ENV_FAT_DEVICE_AND_PART", `"0:0"`},
		{"CONFIG_CMD_NVEDIT_LOAD", "y"},
	}
	for _, w := range want {
		if set[w.name] != w.value {
			return "uboot.build.fragment", fmt.Sprintf("qemu.env is fat: set %s (the fragment has %q)", fragmentLine(w.name, w.value), set[w.name])
		}
	}
	if v, ok := set["CONFIG_ENV_FAT_FILE"]; ok && unquote(v) != EnvFATFile {
		return "uboot.build.fragment", fmt.Sprintf("CONFIG_ENV_FAT_FILE=%s: the lab writes the environment into %q", v, EnvFATFile)
	}
	if pre := unquote(set["CONFIG_PREBOOT"]); !strings.Contains(pre, "virtio scan") || !strings.Contains(pre, "env load") {
		return "uboot.build.fragment", fmt.Sprintf("qemu.env is fat: CONFIG_PREBOOT=%q must run virtio scan and env load (the environment is loaded before virtio is found)", pre)
	}
	return "", ""
}

func fragmentLine(name, value string) string {
	if value == "n" {
		return "# " + name + " is not set"
	}
	return name + "=" + value
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
