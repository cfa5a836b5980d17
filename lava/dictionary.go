// Package lava writes a LAVA device dictionary for a board bootrig runs:
// the jinja2 file (`{% extends 'TYPE.jinja2' %}` and `{% set %}` lines)
// that lava-server renders, with the device type's template, into the
// device configuration lava-dispatcher drives the board with. LAVA
// reaches the console bootrig shares (telnet HOST PORT, as to ser2net),
// switches power through `bootrig power`, stops U-Boot at the profile's
// prompt and boots the board from bootrig's servers with the profile's
// bootargs and bootcmd.
//
// Start from [NewDictionary], then [Dictionary.Marshal].
package lava

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/farmengine"
)

// DefaultDeviceType is the template a dictionary extends unless told:
// LAVA's generic U-Boot template (lava-server's base-uboot.jinja2),
// which every setting here completes.
const DefaultDeviceType = "base-uboot"

// ErrUnwritable is wrapped by the error of a value LAVA's templates
// cannot carry: they write most values into YAML unquoted.
var ErrUnwritable = errors.New("cannot be written into LAVA's device configuration")

// Dictionary is a device dictionary: the device type it extends and the
// variables it sets, in order.
type Dictionary struct {
	DeviceType string
	Vars       []Var
}

// Var is one `{% set NAME = VALUE %}`: VALUE is a string, an int or a
// list of strings.
type Var struct {
	Name  string
	Value any
}

// NewDictionary is the dictionary of board b booting with network l
// (its bootargs and bootcmd are the profile's for l), extending
// deviceType ("": DefaultDeviceType).
func NewDictionary(b farmengine.Board, l boards.Netboot, deviceType string) (Dictionary, error) {
	host, port, err := b.ConsoleAddr()
	if err != nil {
		return Dictionary{}, err
	}
	if deviceType == "" {
		deviceType = DefaultDeviceType
	}
	p := b.Profile
	vars := []Var{
		{"connection_command", fmt.Sprintf("telnet %s %d", host, port)},
		{"power_on_command", b.PowerCommand("on")},
		{"power_off_command", b.PowerCommand("off")},
		{"hard_reset_command", b.PowerCommand("cycle")},
		{"console_device", p.Linux.Console},
		{"baud_rate", b.Baud()},
		{"bootloader_prompt", Pattern(p.UBoot.Prompt.String())},
		{"interrupt_prompt", Pattern(p.UBoot.Autoboot.String())},
		{"interrupt_char", p.UBoot.InterruptKey},
		{"uboot_mkimage_arch", p.Arch},
	}
	vars = append(vars, loadAddrs(p)...)
	boot, err := bootCommands(p, l)
	if err != nil {
		return Dictionary{}, err
	}
	d := Dictionary{DeviceType: deviceType, Vars: append(vars, boot...)}
	return d, d.check()
}

// loadAddrs are where U-Boot loads the kernel, ramdisk and device tree
// (the profile's memory regions; a device tree U-Boot has already is
// named by its variable), as LAVA fills {KERNEL_ADDR}, {RAMDISK_ADDR}
// and {DTB_ADDR} in with.
func loadAddrs(p *boards.Profile) []Var {
	var vars []Var
	for _, r := range []struct{ region, name string }{{"kernel", "bootm_kernel_addr"}, {"ramdisk", "bootm_ramdisk_addr"}, {"fdt", "bootm_dtb_addr"}} {
		if reg, ok := p.Memory.Regions[r.region]; ok {
			vars = append(vars, Var{r.name, reg.Addr.String()})
		} else if r.region == "fdt" && p.Kernel.DTB == "fdtcontroladdr" {
			vars = append(vars, Var{r.name, "${fdtcontroladdr}"})
		}
	}
	return vars
}

// bootCommands replace LAVA's network steps in its U-Boot command sets
// (nfs, ramdisk, nbd) by bootrig's: a fixed address instead of dhcp,
// bootrig's server instead of the dispatcher's, and as the last command
// the profile's bootargs and bootcmd, so that the board boots from
// bootrig's servers whatever LAVA set before. That command is one line:
// it must fit the board's U-Boot line buffer.
func bootCommands(p *boards.Profile, l boards.Netboot) ([]Var, error) {
	last := "setenv bootargs '" + p.Bootargs(l) + "'; " + p.Bootcmd(l)
	if p.UBoot.CBSize > 0 && len(last) >= p.UBoot.CBSize {
		return nil, fmt.Errorf("uboot_bootcmd %q: %d characters, over board %s's U-Boot line of %d: %w", last, len(last), p.Name, p.UBoot.CBSize-1, ErrUnwritable)
	}
	return []Var{
		{"uboot_ipaddr_cmd", "setenv ipaddr " + l.BoardIP.String()},
		{"uboot_tftp_commands", []string{"setenv serverip " + l.ServerIP.String(), "setenv netmask " + l.Netmask.String()}},
		{"uboot_bootcmd", last},
	}, nil
}

// Pattern is a profile's pattern (RE2, which Python's re reads alike)
// as LAVA's templates can write it: they put prompts into YAML
// unquoted, where a blank before '#' starts a comment and a trailing
// blank is dropped, so blanks go as \x20.
func Pattern(re string) string { return strings.ReplaceAll(re, " ", `\x20`) }

// yamlQuoting is how LAVA's templates (base.jinja2, base-uboot.jinja2)
// write each value into the YAML: unquoted (' '), between double quotes
// ('"') or single quotes ('\”). Ints are not listed.
var yamlQuoting = map[string]byte{
	"connection_command": ' ', "power_on_command": ' ', "power_off_command": ' ', "hard_reset_command": ' ',
	"bootloader_prompt": ' ', "interrupt_prompt": ' ', "uboot_mkimage_arch": ' ',
	"interrupt_char": '"', "console_device": '"', "uboot_ipaddr_cmd": '"', "uboot_tftp_commands": '"', "uboot_bootcmd": '"',
	"bootm_kernel_addr": '\'', "bootm_ramdisk_addr": '\'', "bootm_dtb_addr": '\'',
}

// check says which value LAVA's templates would mangle.
func (d Dictionary) check() error {
	for _, v := range d.Vars {
		vals, _ := v.Value.([]string)
		if s, ok := v.Value.(string); ok {
			vals = []string{s}
		}
		for _, s := range vals {
			if !writable(s, yamlQuoting[v.Name]) {
				return fmt.Errorf("%s %q: %w", v.Name, s, ErrUnwritable)
			}
		}
	}
	return nil
}

// writable reports whether s reads back as itself from YAML written
// with quoting q.
func writable(s string, q byte) bool {
	if strings.ContainsAny(s, "\n\r\t") {
		return false
	}
	switch q {
	case '"':
		return !strings.ContainsAny(s, `"\`)
	case '\'':
		return !strings.Contains(s, "'")
	}
	return s != "" && s == strings.TrimSpace(s) && !strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@`") &&
		!strings.Contains(s, ": ") && !strings.Contains(s, " #")
}

// Marshal is the dictionary as lava-server reads it.
func (d Dictionary) Marshal() []byte {
	var b strings.Builder
	b.WriteString("{# LAVA device dictionary written by 'bootrig export lava' #}\n")
	fmt.Fprintf(&b, "{%% extends %s %%}\n", jinjaString(d.DeviceType+".jinja2"))
	for _, v := range d.Vars {
		fmt.Fprintf(&b, "{%% set %s = %s %%}\n", v.Name, jinjaValue(v.Value))
	}
	return []byte(b.String())
}

func jinjaValue(v any) string {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x)
	case []string:
		var items []string
		for _, s := range x {
			items = append(items, jinjaString(s))
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	return jinjaString(v.(string))
}

// jinjaString is s as a jinja2 string literal, whose backslash escapes
// are Python's.
func jinjaString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
