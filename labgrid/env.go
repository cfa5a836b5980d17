// Package labgrid writes a labgrid environment (labgrid 0.4's YAML) for
// a board bootrig runs, so that labgrid's own drivers drive it: a
// NetworkSerialPort on the console bootrig shares over RFC 2217, a
// UBootDriver and a ShellDriver with the board profile's prompts, power
// through `bootrig power`, and UBootStrategy (off → uboot → shell).
//
// Start from [NewEnv] with a [farmengine.Board] (what bootrig knows of the
// running board), then [Env.Marshal].
package labgrid

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bootrig/bootrig/farmengine"
)

// Env is a labgrid environment: one target, "main".
type Env struct {
	Targets map[string]Target `yaml:"targets"`
}

// Target is a labgrid target: its resources and drivers, in the order
// labgrid is to bind them.
type Target struct {
	Resources Resources `yaml:"resources"`
	Drivers   Drivers   `yaml:"drivers"`
}

// Resources are what the target has.
type Resources struct {
	NetworkSerialPort SerialPort `yaml:"NetworkSerialPort"`
}

// SerialPort is labgrid's NetworkSerialPort.
type SerialPort struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Speed    int    `yaml:"speed"`
	Protocol string `yaml:"protocol"`
}

// Drivers are the target's drivers; a strategy binds to those before it.
type Drivers struct {
	ExternalPowerDriver PowerDriver `yaml:"ExternalPowerDriver"`
	SerialDriver        struct{}    `yaml:"SerialDriver"`
	UBootDriver         UBootDriver `yaml:"UBootDriver"`
	ShellDriver         ShellDriver `yaml:"ShellDriver"`
	UBootStrategy       struct{}    `yaml:"UBootStrategy"`
}

// PowerDriver is labgrid's ExternalPowerDriver: command lines it splits
// with shlex.
type PowerDriver struct {
	On    string `yaml:"cmd_on"`
	Off   string `yaml:"cmd_off"`
	Cycle string `yaml:"cmd_cycle"`
}

// UBootDriver is labgrid's UBootDriver; the patterns are Python regular
// expressions, which the profile's (RE2) are too.
type UBootDriver struct {
	Prompt      string `yaml:"prompt"`
	Autoboot    string `yaml:"autoboot"`
	Interrupt   string `yaml:"interrupt"`
	BootCommand string `yaml:"boot_command"`
}

// ShellDriver is labgrid's ShellDriver. Its prompt pattern must match
// the whole prompt (labgrid looks for its marker, blanks, then the
// prompt), where a profile's may match its end alone: see wholePrompt. bootrig's boards run a root
// shell on the console with no login; labgrid wants a login prompt all
// the same, and takes the shell prompt when it comes first.
type ShellDriver struct {
	Prompt      string `yaml:"prompt"`
	LoginPrompt string `yaml:"login_prompt"`
	Username    string `yaml:"username"`
}

// NewEnv is the board's labgrid environment.
func NewEnv(b farmengine.Board) (Env, error) {
	host, port, err := b.ConsoleAddr()
	if err != nil {
		return Env{}, err
	}
	p := b.Profile
	t := Target{
		Resources: Resources{NetworkSerialPort: SerialPort{Host: host, Port: port, Speed: b.Baud(), Protocol: "rfc2217"}},
		Drivers: Drivers{
			ExternalPowerDriver: PowerDriver{On: b.PowerCommand("on"), Off: b.PowerCommand("off"), Cycle: b.PowerCommand("cycle")},
			UBootDriver: UBootDriver{
				Prompt: p.UBoot.Prompt.String(), Autoboot: p.UBoot.Autoboot.String(),
				Interrupt: p.UBoot.InterruptKey, BootCommand: "run bootcmd",
			},
			ShellDriver: ShellDriver{Prompt: wholePrompt(p.Linux.ShellPrompt.String()), LoginPrompt: "login: ", Username: "root"},
		},
	}
	return Env{Targets: map[string]Target{"main": t}}, nil
}

// Marshal is the environment as labgrid reads it.
func (e Env) Marshal() ([]byte, error) {
	out, err := yaml.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("labgrid environment: %w", err)
	}
	return append([]byte("# labgrid environment written by 'bootrig export labgrid'\n"), out...), nil
}

// wholePrompt is a prompt pattern that matches from the prompt's start:
// re itself if anchored at a line start, else re after the rest of the
// line ("[#$] $" matches "qemu-arm:/# " as "[^\r\n]*(?:[#$] $)").
func wholePrompt(re string) string {
	if strings.HasPrefix(re, "^") || strings.HasPrefix(re, "(?m)^") {
		return re
	}
	return `[^\r\n]*(?:` + re + `)`
}
