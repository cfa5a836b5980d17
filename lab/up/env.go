package up

import (
	"strconv"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/uboot"
)

// Env is what bootrig sets in U-Boot to boot board p on lab l: the kernel
// command line, the boot command, the network and the profile's own
// variables (uboot.env).
func Env(p *boards.Profile, l boards.Netboot) []uboot.EnvVar {
	m := map[string]string{
		"bootargs":  p.Bootargs(l),
		"bootcmd":   p.Bootcmd(l),
		"ipaddr":    l.BoardIP.String(),
		"serverip":  l.ServerIP.String(),
		"netmask":   l.Netmask.String(),
		"gatewayip": l.Gateway.String(),
	}
	for k, v := range p.UBoot.Env {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return uboot.SortedEnv(m)
}

// regionVars are U-Boot's names for the profile's memory regions, as
// Debian's qemu_arm U-Boot (and distro boot) define them.
var regionVars = map[string]string{
	"kernel":  "kernel_addr_r",
	"ramdisk": "ramdisk_addr_r",
	"fdt":     "fdt_addr_r",
	"script":  "scriptaddr",
}

// FlashEnv is the whole environment flashed into the board's environment
// bank: U-Boot loads that image alone, without its built-in defaults, so
// it holds Env plus the load addresses the boot command uses, the baud
// rate, and bootdelay 0 so that the board boots at power-on with no key
// pressed.
func FlashEnv(p *boards.Profile, l boards.Netboot) []uboot.EnvVar {
	m := map[string]string{
		"bootdelay": "0",
		"baudrate":  strconv.Itoa(p.Serial.Baud),
	}
	for _, v := range Env(p, l) {
		m[v.Name] = v.Value
	}
	for region, name := range regionVars {
		if r, ok := p.Memory.Regions[region]; ok {
			m[name] = r.Addr.String()
		}
	}
	return uboot.SortedEnv(m)
}

// withBootDelay is env with bootdelay set to seconds, if not 0.
func withBootDelay(env []uboot.EnvVar, seconds int) []uboot.EnvVar {
	if seconds == 0 {
		return env
	}
	out := make([]uboot.EnvVar, len(env))
	for i, v := range env {
		if v.Name == "bootdelay" {
			v.Value = strconv.Itoa(seconds)
		}
		out[i] = v
	}
	return out
}
