package labgrid

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/farmengine"
)

// loadEnv has labgrid itself (Debian's python3-labgrid) load an
// environment file and print what its drivers were configured with.
const loadEnv = `
import sys, json, shlex
from labgrid import Environment
t = Environment(sys.argv[1]).get_target("main")
port = t.get_resource("NetworkSerialPort", wait_avail=False)
u = t.get_driver("UBootDriver", activate=False)
s = t.get_driver("ShellDriver", activate=False)
p = t.get_driver("ExternalPowerDriver", activate=False)
t.get_driver("UBootStrategy", activate=False)
print(json.dumps({"host": port.host, "port": port.port, "speed": port.speed, "protocol": port.protocol,
    "prompt": u.prompt, "autoboot": u.autoboot, "interrupt": u.interrupt, "shell": s.prompt,
    "cycle": shlex.split(p.cmd_cycle), "off": shlex.split(p.cmd_off)}))
`

// TestEnvLoadsInLabgrid: labgrid reads the environment back with the
// profile's prompts and a power command that splits into bootrig's argv.
func TestEnvLoadsInLabgrid(t *testing.T) {
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	power := []string{"/opt/boot rig/bootrig", "power", "--state", "/s/it's", "--name", "b2"}
	env, err := NewEnv(farmengine.Board{Profile: p, Console: "rfc2217://127.0.0.1:40001", Power: power})
	if err != nil {
		t.Fatal(err)
	}
	data, err := env.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "env.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", loadEnv, path).Output()
	if err != nil {
		t.Fatalf("labgrid: %v: %s\n%s", err, exitStderr(err), data)
	}
	var got struct {
		Host, Protocol, Prompt, Autoboot, Interrupt, Shell string
		Port, Speed                                        int
		Cycle, Off                                         []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Host != "127.0.0.1" || got.Port != 40001 || got.Speed != 115200 || got.Protocol != "rfc2217" {
		t.Errorf("NetworkSerialPort %+v", got)
	}
	if got.Prompt != p.UBoot.Prompt.String() || got.Autoboot != p.UBoot.Autoboot.String() || got.Interrupt != p.UBoot.InterruptKey || got.Shell != `[^\r\n]*(?:`+p.Linux.ShellPrompt.String()+`)` {
		t.Errorf("drivers %+v", got)
	}
	if !slices.Equal(got.Cycle, append(power, "cycle")) || !slices.Equal(got.Off, append(power, "off")) {
		t.Errorf("power commands %q, %q; want %q + cycle/off", got.Cycle, got.Off, power)
	}
}

func exitStderr(err error) []byte {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.Stderr
	}
	return nil
}

func TestEnvNeedsRFC2217(t *testing.T) {
	p, _ := boards.Lookup("qemu-arm")
	if _, err := NewEnv(farmengine.Board{Profile: p, Console: "tcp://127.0.0.1:4000"}); !errors.Is(err, farmengine.ErrNoSharedConsole) {
		t.Errorf("a tcp console: %v, want ErrNoSharedConsole", err)
	}
}
