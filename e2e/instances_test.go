package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/lab"
)

// psEntry is a line of bootrig ps --json.
type psEntry struct {
	Board    string   `json:"board"`
	Name     string   `json:"name"`
	Pid      int      `json:"qemu_pid"`
	Console  string   `json:"console"`
	QMP      string   `json:"qmp"`
	BoardIP  string   `json:"board_ip"`
	Consoles []string `json:"consoles"`
	StateDir string   `json:"state_dir"`
}

// ps is bootrig ps --json under the state root env names.
func ps(t *testing.T, env []string) map[string]psEntry {
	t.Helper()
	r := runBootrigEnv(t, env, "ps", "--json")
	if r.code != 0 {
		t.Fatalf("ps: exit %d", r.code)
	}
	var list []psEntry
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("ps --json: %v: %q", err, r.stdout)
	}
	m := map[string]psEntry{}
	for _, e := range list {
		m[e.Name] = e
	}
	return m
}

// killInstances powers off, at the test's end, what runs under root.
func killInstances(t *testing.T, root string) {
	t.Cleanup(func() {
		sts, _ := lab.Running(root)
		for _, st := range sts {
			syscall.Kill(st.QEMUPid, syscall.SIGKILL)
		}
	})
}

// TestTwoInstances: two instances of qemu-arm boot at once, each in its
// own lab with its own state and rootfs copy; ps lists both; a file put
// in one's rootfs (bootrig rootfs path --name) is seen by that board
// alone; bootrig power switches one off and on again through QMP.
// instancesRoot builds qemu-arm and gives a state root of the test's own
// for named instances (and the environment that selects it); instances
// left running there are killed when the test ends.
func instancesRoot(t *testing.T) (root string, env []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots the emulated board")
	}
	if r := runBootrig(t, "build", "--board", "qemu-arm"); r.code != 0 {
		t.Fatalf("bootrig build: exit %d", r.code)
	}
	root = t.TempDir()
	killInstances(t, root)
	return root, []string{"BOOTRIG_STATE=" + root}
}

func TestTwoInstances(t *testing.T) {
	root, env := instancesRoot(t)
	names := []string{"a", "b"}
	boots := make([]result, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			boots[i] = runBootrigEnv(t, env, "up", "--quiet", "--keep", "--name", n, "--run", "echo I am "+n+"; cat /proc/sys/kernel/random/boot_id")
		}()
	}
	wg.Wait()
	for i, n := range names {
		if lines := strings.Split(boots[i].stdout, "\n"); boots[i].code != 0 || lines[0] != "I am "+n || len(lines[1]) != 36 {
			t.Fatalf("up --name %s: exit %d, stdout %q", n, boots[i].code, boots[i].stdout)
		}
	}
	if boots[0].stdout[9:] == boots[1].stdout[9:] {
		t.Errorf("both instances have boot id %s: one board?", boots[0].stdout[9:])
	}
	running := ps(t, env)
	a, b := running["a"], running["b"]
	if len(running) != 2 || a.Board != "qemu-arm" || a.Pid == b.Pid || a.Console == b.Console || a.StateDir == b.StateDir || a.BoardIP != "192.168.7.2" {
		t.Fatalf("ps lists %+v", running)
	}
	for _, n := range names {
		r := runBootrigEnv(t, env, "rootfs", "path", "--name", n)
		dir := strings.TrimSpace(r.stdout)
		if r.code != 0 || dir != filepath.Join(root, "qemu-arm", "instances", n, "rootfs") {
			t.Fatalf("rootfs path --name %s: exit %d, %q", n, r.code, dir)
		}
		if err := os.WriteFile(filepath.Join(dir, "etc", "instance"), []byte(n+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range names {
		r := runBootrigEnv(t, env, "up", "--quiet", "--attach", "--name", n, "--run", "cat /etc/instance /proc/sys/kernel/random/boot_id")
		if want := n + "\n" + boots[i].stdout[len("I am "+n+"\n"):]; r.code != 0 || r.stdout != want {
			t.Errorf("up --attach --name %s: exit %d, stdout %q, want %q", n, r.code, r.stdout, want)
		}
	}
	for _, step := range []struct{ action, status string }{{"off", "paused"}, {"on", "running"}} {
		if r := runBootrigEnv(t, env, "power", step.action, "--name", "b"); r.code != 0 {
			t.Fatalf("power %s: exit %d", step.action, r.code)
		}
		if got := qmpStatus(t, b.QMP); got != step.status {
			t.Errorf("after power %s, QEMU says %q, want %q", step.action, got, step.status)
		}
	}
	if got := qmpStatus(t, a.QMP); got != "running" {
		t.Errorf("powering b off and on left a %q", got)
	}
}

// TestTwoProfiles: instances of two profiles at once, qemu-arm and
// vexpress-a9 (another QEMU machine, U-Boot, kernel and device tree, and
// the busybox qemu-arm's build made: the same inputs share one tree),
// each booted to its shell with the device tree's model asserted; ps
// lists both, each with its board.
func TestTwoProfiles(t *testing.T) {
	_, env := instancesRoot(t)
	if r := runBootrig(t, "build", "--board", "vexpress-a9"); r.code != 0 {
		t.Fatalf("bootrig build --board vexpress-a9: exit %d", r.code)
	} else if !strings.Contains(r.stderr, "busybox: up to date") {
		// The same toolchain, source and settings as qemu-arm's, just built.
		t.Errorf("vexpress-a9 did not take qemu-arm's busybox:\n%s", r.stderr)
	}
	models := map[string]string{"qemu-arm": "linux,dummy-virt", "vexpress-a9": "V2P-CA9"}
	boots := map[string]*result{}
	var wg sync.WaitGroup
	for board := range models {
		r := new(result)
		boots[board] = r
		wg.Add(1)
		go func() {
			defer wg.Done()
			*r = runBootrigEnv(t, env, "up", "--quiet", "--keep", "--board", board, "--run", "cat /proc/device-tree/model")
		}()
	}
	wg.Wait()
	for board, model := range models {
		if r := boots[board]; r.code != 0 || strings.TrimRight(r.stdout, "\x00\n") != model {
			t.Errorf("up --board %s: exit %d, model %q, want %q", board, r.code, r.stdout, model)
		}
	}
	running := ps(t, env)
	for board := range models {
		if e, ok := running[board]; !ok || e.Board != board {
			t.Errorf("ps lists %+v: no instance %s of board %s", running, board, board)
		}
	}
}

func qmpStatus(t *testing.T, qmp string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := lab.QMPQuery(ctx, qmp, "query-status")
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Status string }
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st.Status
}
