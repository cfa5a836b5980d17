package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestUpRootInitramfsJSON: `bootrig up --root initramfs --run CMD --json`
// builds the archive, boots the board from it without NFS, and reports
// the command's output and status, the phases and the board's RAM.
func TestUpRootInitramfsJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the emulated board")
	}
	r := runBootrig(t, "up", "--quiet", "--root", "initramfs", "--state", t.TempDir(), "--run", "mount; sh -c 'exit 3'", "--json")
	var res struct {
		Root, Output string
		Status       int
		Phases       []struct{ Phase string }
		Memory       struct{ Total, Used, Available int64 }
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, r.stdout)
	}
	if r.code != 3 || res.Status != 3 || res.Root != "initramfs" {
		t.Errorf("exit %d, status %d, root %q; want 3, 3, initramfs", r.code, res.Status, res.Root)
	}
	if !strings.Contains(res.Output, "rootfs on / type rootfs") || strings.Contains(res.Output, "nfs") {
		t.Errorf("mount on the board:\n%s", res.Output)
	}
	if n := len(res.Phases); n == 0 || res.Phases[n-1].Phase != "shell" {
		t.Errorf("phases %+v, want them to end at the shell", res.Phases)
	}
	if m := res.Memory; m.Total == 0 || m.Used == 0 || m.Available > m.Total {
		t.Errorf("memory %+v", m)
	}
	if !strings.Contains(r.stderr, "initramfs: ") || strings.Contains(r.stderr, "nfs: ") {
		t.Errorf("stderr does not show the archive being packed:\n%s", r.stderr)
	}
}
