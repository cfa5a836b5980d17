package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// stateWithRuns is a state dir holding report's recorded consoles as runs,
// oldest first.
func stateWithRuns(t *testing.T, names ...string) (state string, dirs []string) {
	t.Helper()
	state = t.TempDir()
	if err := os.MkdirAll(filepath.Join(state, "runs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		dir := filepath.Join(state, "runs", fmt.Sprintf("20260102-03040%d.000", i))
		if out, err := exec.Command("cp", "-r", filepath.Join("..", "..", "report", "testdata", name), dir).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		dirs = append(dirs, dir)
	}
	return state, dirs
}

func TestReportCommand(t *testing.T) {
	state, dirs := stateWithRuns(t, "good", "panic")
	out, errOut, code := runBootrig(t, "report", "--state", state, "--junit", filepath.Join(state, "junit.xml"))
	if code != 0 || strings.TrimSpace(out) != filepath.Join(dirs[1], "report.html") {
		t.Fatalf("report: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	html, err := os.ReadFile(filepath.Join(dirs[1], "report.html"))
	if err != nil || !strings.Contains(string(html), `data-class="kernel-panic"`) {
		t.Errorf("the last run's report lacks its panic: %v", err)
	}
	data, _ := os.ReadFile(filepath.Join(state, "junit.xml"))
	var suites struct {
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil || suites.Failures != 2 {
		t.Errorf("junit: %d failures, %v", suites.Failures, err)
	}

	out, _, code = runBootrig(t, "report", "--state", state, "--json", "prev")
	var r struct {
		Board string
		Lanes []struct{ Key string }
	}
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || r.Board != "qemu-arm" || len(r.Lanes) < 10 {
		t.Errorf("report --json prev: exit %d, %v, %+v", code, err, r)
	}

	logFile := filepath.Join(t.TempDir(), "mini2440.log")
	data, _ = os.ReadFile(filepath.Join(dirs[0], "boot.log"))
	os.WriteFile(logFile, data, 0o644)
	out, errOut, code = runBootrig(t, "report", logFile)
	if want := strings.TrimSuffix(logFile, ".log") + ".html"; code != 0 || strings.TrimSpace(out) != want {
		t.Errorf("report FILE: exit %d, stdout %q, stderr %q; want %s", code, out, errOut, want)
	}

	out, errOut, code = runBootrig(t, "report", "--state", state, "--compare", "prev", "last")
	if code != 0 || strings.TrimSpace(out) != filepath.Join(dirs[1], "compare.html") {
		t.Errorf("report --compare: exit %d, %q %q", code, out, errOut)
	}
}

func TestReportCommandErrors(t *testing.T) {
	state, _ := stateWithRuns(t, "good")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", "--state", t.TempDir()}, 1, "no run recorded"},
		{[]string{"report", "--state", state, "--compare", "last"}, 2, "--compare wants two runs"},
		{[]string{"report", "--state", state, "prev"}, 1, `run "prev"`},
		{[]string{"report", "--state", state, "nosuchrun"}, 1, `run "nosuchrun": no such directory or log file`},
		{[]string{"report", "--state", state, "../../README.md"}, 1, "README.md:1: not a bootrig console log line"},
		{[]string{"report", "--state", state, "a", "b"}, 2, "want at most 1 arguments"},
	} {
		_, errOut, code := runBootrig(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
