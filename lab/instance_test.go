package lab

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestInstanceDirs(t *testing.T) {
	for _, tc := range []struct {
		i             Instance
		state, rootfs string
	}{
		{Instance{Board: "qemu-arm"}, "/r/qemu-arm/state", ""},
		{Instance{Board: "qemu-arm", Name: "qemu-arm"}, "/r/qemu-arm/state", ""},
		{Instance{Board: "qemu-arm", Name: "b2"}, "/r/qemu-arm/instances/b2/state", "/r/qemu-arm/instances/b2/rootfs"},
	} {
		if got := tc.i.StateDir("/r"); got != tc.state {
			t.Errorf("%+v: state %s, want %s", tc.i, got, tc.state)
		}
		if got := tc.i.RootFS("/r"); got != tc.rootfs {
			t.Errorf("%+v: rootfs %q, want %q", tc.i, got, tc.rootfs)
		}
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"b2": true, "qemu-arm.2": true, "0": true, "": false, "B2": false, "../x": false,
		"a/b": false, "-x": false, ".x": false, "a b": false, "abcdefghijabcdefghijabcdefghijab": true,
		"abcdefghijabcdefghijabcdefghijabc": false,
	} {
		err := CheckName(name)
		if (err == nil) != ok || (err != nil && !errors.Is(err, ErrBadName)) {
			t.Errorf("CheckName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

// TestRunning: the instances whose QEMU runs are listed, sorted; one
// whose process has gone is not.
func TestRunning(t *testing.T) {
	root := t.TempDir()
	alive := os.Getpid()
	for _, st := range []State{
		{Board: "qemu-arm", Name: "b2", QEMUPid: alive},
		{Board: "qemu-arm", QEMUPid: alive},
		{Board: "qemu-arm", Name: "gone", QEMUPid: 1 << 30},
		{Board: "vexpress-a9", Name: "v1", QEMUPid: alive},
	} {
		dir := Instance{Board: st.Board, Name: st.Name}.StateDir(root)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := st.Save(dir); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Running(root)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, st := range got {
		labels = append(labels, st.Board+"/"+st.Label())
	}
	want := []string{"qemu-arm/b2", "qemu-arm/qemu-arm", "vexpress-a9/v1"}
	if !slices.Equal(labels, want) {
		t.Errorf("Running = %v, want %v", labels, want)
	}
	if got[0].Dir != filepath.Join(root, "qemu-arm/instances/b2/state") {
		t.Errorf("Dir = %s", got[0].Dir)
	}
}

func TestPowerActions(t *testing.T) {
	for _, tc := range []struct {
		p       Power
		running bool
		want    []string
	}{
		{PowerOff, true, []string{"stop"}},
		{PowerOff, false, nil},
		{PowerOn, false, []string{"stop", "system_reset", "cont"}},
		{PowerOn, true, nil},
		{PowerCycle, true, []string{"stop", "system_reset", "cont"}},
		{PowerCycle, false, []string{"stop", "system_reset", "cont"}},
	} {
		if got := qmpPower(tc.p, tc.running); !slices.Equal(got, tc.want) {
			t.Errorf("%s (running %v) = %v, want %v", tc.p, tc.running, got, tc.want)
		}
	}
	if _, err := ParsePower("reboot"); !errors.Is(err, ErrBadPower) {
		t.Errorf("ParsePower(reboot) = %v, want ErrBadPower", err)
	}
}
