package up

import (
	"regexp"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/uboot"
)

// Dialect is the U-Boot dialect a board profile describes; what the
// profile leaves out, uboot fills with its defaults.
func Dialect(p *boards.Profile) uboot.Dialect {
	d := uboot.Dialect{
		Prompt:       p.UBoot.Prompt.Regexp,
		InterruptKey: p.UBoot.InterruptKey,
		Bootdelay:    p.UBoot.Bootdelay,
		CBSize:       p.UBoot.CBSize,
		FIFO:         p.UBoot.FIFO,
		CharDelay:    p.UBoot.CharDelay,
		Hush:         p.UBoot.Hush,
		Shell:        p.Linux.ShellPrompt.Regexp,
	}
	if r, ok := p.Memory.Regions["script"]; ok {
		d.Scratch = uint32(r.Addr)
	}
	if p.UBoot.Autoboot.Regexp != nil {
		d.Autoboot = regexp.MustCompile("(?m)" + p.UBoot.Autoboot.String())
	}
	return d
}
