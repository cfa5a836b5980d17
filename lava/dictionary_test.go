package lava

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/farmengine"
	"github.com/bootrig/bootrig/internal/doctor"
)

// render has jinja2 render a device dictionary with LAVA's own
// device-type templates (Debian's lava-server 2023.01, unpacked by
// bootrig doctor), the way lava-server does (trim_blocks, no
// autoescape), and prints what lava-dispatcher would read of it.
const render = `
import sys, json, re, shlex, yaml, jinja2
dicts, types, sample_prompt, sample_autoboot = sys.argv[1:5]
env = jinja2.Environment(loader=jinja2.FileSystemLoader([dicts, types]), trim_blocks=True, autoescape=False)
d = yaml.safe_load(env.get_template("b1.jinja2").render())
u = d["actions"]["boot"]["methods"]["u-boot"]
p = u["parameters"]
print(json.dumps({
    "connect": d["commands"]["connect"],
    "power": [shlex.split(d["commands"][k]) for k in ("power_on", "power_off", "hard_reset")],
    "prompt_matches": bool(re.search(p["bootloader_prompt"], "\r\nU-Boot output\r\n" + sample_prompt)),
    "prompt_in_output": bool(re.search(p["bootloader_prompt"], "echo " + sample_prompt + "x\r\n")),
    "autoboot_matches": bool(re.search(p["interrupt_prompt"], sample_autoboot)),
    "interrupt_char": p["interrupt_char"],
    "nfs": u["nfs"]["commands"], "ramdisk": u["ramdisk"]["commands"],
    "bootm": d["parameters"]["bootm"],
}))
`

// TestDictionaryRendersWithLAVATemplates: LAVA's templates render the
// dictionary into a device configuration whose console, power commands,
// U-Boot prompts and load addresses are the board's and whose U-Boot
// commands end by booting from bootrig's servers with the profile's
// bootargs and bootcmd.
func TestDictionaryRendersWithLAVATemplates(t *testing.T) {
	if _, err := os.Stat(filepath.Join(doctor.LAVADeviceTypes, "base-uboot.jinja2")); err != nil {
		t.Fatalf("LAVA's templates: %v (install them: bootrig doctor --tests --install)", err)
	}
	power := []string{"/opt/boot rig/bootrig", "power", "--board", "B", "--state", "/s/b1", "--name", "b1"}
	for _, tc := range []struct {
		board, prompt, autoboot, dtb string
	}{
		{"qemu-arm", "=> ", "Hit any key to stop autoboot:  2 ", "${fdtcontroladdr}"},
		{"vexpress-a9", "=> ", "Hit any key to stop autoboot:  2 ", "0x60000000"},
		{"mini2440", "MINI2440 # ", " 3 ", "0x81000000"}, // no device tree: LAVA's default stays
	} {
		t.Run(tc.board, func(t *testing.T) {
			p, err := boards.Lookup(tc.board)
			if err != nil {
				t.Fatal(err)
			}
			l, err := p.Netboot(boards.Netboot{Export: "/srv/bootrig/b1"})
			if err != nil {
				t.Fatal(err)
			}
			d, err := NewDictionary(farmengine.Board{Profile: p, Console: "rfc2217://127.0.0.1:40001", Power: power}, l, "")
			if err != nil {
				t.Fatal(err)
			}
			got := renderDictionary(t, d, tc.prompt, tc.autoboot)
			if got.Connect != "telnet 127.0.0.1 40001" {
				t.Errorf("connect: %q", got.Connect)
			}
			for i, action := range []string{"on", "off", "cycle"} {
				if !slices.Equal(got.Power[i], append(power, action)) {
					t.Errorf("power %s: %q, want %q", action, got.Power[i], append(power, action))
				}
			}
			if !got.PromptMatches || got.PromptInOutput || !got.AutobootMatches || got.InterruptChar != p.UBoot.InterruptKey {
				t.Errorf("U-Boot parameters: prompt matches %q: %v, matches it mid-line: %v; autoboot matches %q: %v; interrupt %q",
					tc.prompt, got.PromptMatches, got.PromptInOutput, tc.autoboot, got.AutobootMatches, got.InterruptChar)
			}
			kernel := p.Memory.Regions["kernel"].Addr.String()
			if got.Bootm["kernel"] != kernel || got.Bootm["ramdisk"] != p.Memory.Regions["ramdisk"].Addr.String() || got.Bootm["dtb"] != tc.dtb {
				t.Errorf("bootm addresses %v, want kernel %s, dtb %s", got.Bootm, kernel, tc.dtb)
			}
			boot := "setenv bootargs '" + p.Bootargs(l) + "'; " + p.Bootcmd(l)
			for name, cmds := range map[string][]string{"nfs": got.NFS, "ramdisk": got.Ramdisk} {
				lava := slices.Index(cmds, "setenv serverip {SERVER_IP}")
				ours := slices.Index(cmds, "setenv serverip "+l.ServerIP.String())
				if len(cmds) == 0 || cmds[len(cmds)-1] != boot || !slices.Contains(cmds, "setenv ipaddr "+l.BoardIP.String()) || slices.Contains(cmds, "dhcp") || ours < lava {
					t.Errorf("u-boot %s commands:\n%s\nwant a fixed address, bootrig's server after LAVA's and last:\n%s", name, strings.Join(cmds, "\n"), boot)
				}
			}
		})
	}
}

type rendered struct {
	Connect                                        string
	Power                                          [][]string
	PromptMatches, PromptInOutput, AutobootMatches bool   `json:"-"`
	InterruptChar                                  string `json:"interrupt_char"`
	NFS, Ramdisk                                   []string
	Bootm                                          map[string]string
}

func renderDictionary(t *testing.T, d Dictionary, prompt, autoboot string) rendered {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "b1.jinja2"), d.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", render, dir, doctor.LAVADeviceTypes, prompt, autoboot).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("rendering:\n%s\n%s", ee.Stderr, d.Marshal())
		}
		t.Fatal(err)
	}
	var got rendered
	var flags struct {
		PromptMatches   bool `json:"prompt_matches"`
		PromptInOutput  bool `json:"prompt_in_output"`
		AutobootMatches bool `json:"autoboot_matches"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	json.Unmarshal(out, &flags)
	got.PromptMatches, got.PromptInOutput, got.AutobootMatches = flags.PromptMatches, flags.PromptInOutput, flags.AutobootMatches
	return got
}

// TestDictionaryRefusesWhatYAMLMangles: a value LAVA's templates would
// write into YAML so that it reads back as something else is an error
// naming it, not a broken device configuration.
func TestDictionaryRefusesWhatYAMLMangles(t *testing.T) {
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	l, _ := p.Netboot(boards.Netboot{})
	for _, tc := range []struct {
		console string
		power   []string
		want    error
		names   string
	}{
		{"tcp://127.0.0.1:4000", []string{"bootrig", "power"}, farmengine.ErrNoSharedConsole, "tcp://"},
		{"rfc2217://127.0.0.1:4000", []string{"/usr/bin/bootrig", "power", "--name", "a # b"}, ErrUnwritable, "power_on_command"},
		{"rfc2217://127.0.0.1:4000", []string{"'/opt/x'", "power"}, ErrUnwritable, "power_on_command"},
	} {
		_, err := NewDictionary(farmengine.Board{Profile: p, Console: tc.console, Power: tc.power}, l, "")
		if !errors.Is(err, tc.want) || !strings.Contains(fmt.Sprint(err), tc.names) {
			t.Errorf("%s %q: %v, want %v naming %s", tc.console, tc.power, err, tc.want, tc.names)
		}
	}
}
