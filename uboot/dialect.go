package uboot

import (
	"regexp"
	"time"

	"github.com/bootrig/bootrig/serialcon/patterns"
)

// Dialect is how one board's U-Boot behaves on its console: what the
// [Driver] needs to know to reach its prompt and type into it. A board
// profile's is lab/up's Dialect. Fields left zero get defaults.
type Dialect struct {
	// Prompt matches U-Boot's prompt at the end of the output, at a line start ("(?m)^=> $"),
	// so output that ends in "==> " (crc32) is not taken for one.
	Prompt *regexp.Regexp
	// Autoboot matches the countdown; it is matched per line (multi-line
	// mode), so "^ ?[0-9] ?$" catches old U-Boots that print a bare number.
	Autoboot     *regexp.Regexp
	InterruptKey string // sent to stop autoboot; " " when empty
	Bootdelay    int    // seconds the countdown lasts
	CBSize       int    // CONFIG_SYS_CBSIZE: a command line holds CBSize-2 characters
	MaxArgs      int    // CONFIG_SYS_MAXARGS: words a command takes (16 when 0)
	FIFO         int    // typing chunk: input FIFO bytes (16 when 0)
	CharDelay    time.Duration
	Hush         bool           // hush shell: quotes keep blanks, "${x}" expands
	Shell        *regexp.Regexp // a Linux shell prompt: Linux is running, not U-Boot
	// Scratch is RAM the driver may overwrite (the profile's script
	// region): a value too long for a parser without hush goes into the
	// environment through it (mw.l, env import). 0 for none.
	Scratch uint32
}

// withDefaults fills what a dialect left zero.
func (d Dialect) withDefaults() Dialect {
	if d.Prompt == nil {
		d.Prompt = patterns.UBootPrompt
	}
	if d.Autoboot == nil {
		d.Autoboot = patterns.Autoboot
	}
	if d.InterruptKey == "" {
		d.InterruptKey = " "
	}
	if d.CBSize == 0 {
		d.CBSize = 256
	}
	if d.MaxArgs == 0 {
		d.MaxArgs = 16
	}
	if d.FIFO == 0 {
		d.FIFO = 16
	}
	if d.Shell == nil {
		d.Shell = patterns.Shell
	}
	return d
}

// MaxLine is the longest command line the board's buffer holds.
func (d Dialect) MaxLine() int { return d.CBSize - 2 }
