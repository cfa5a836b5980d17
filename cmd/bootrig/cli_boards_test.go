package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrokenUserProfile: one broken file in ~/.config/bootrig/boards is
// an error only for the board it is; every other command gets one
// warning on stderr and works.
func TestBrokenUserProfile(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "bootrig", "boards")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "myboard.yaml")
	if err := os.WriteFile(broken, []byte("name: myboard\ncolour: blue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	warning := "bootrig: warning: board profile " + broken + ":2: field colour: unknown field"
	for _, args := range [][]string{
		{"boards", "list"},
		{"bootargs", "--board", "mini2440"},
		{"rootfs", "path"},
		{"boards", "show", "qemu-arm"},
	} {
		o, e, code := runBootrigIn(t, home, args...)
		if code != 0 || o == "" || strings.Count(e, warning) != 1 || strings.Count(e, "\n") != 1 {
			t.Errorf("bootrig %q beside a broken user profile: exit %d, stdout %q, stderr %q; want success and one warning", args, code, o, e)
		}
	}
	for _, args := range [][]string{
		{"bootargs", "--board", "myboard"},
		{"boards", "show", "myboard"},
	} {
		_, e, code := runBootrigIn(t, home, args...)
		if code != 1 || !strings.HasPrefix(e, "bootrig: board profile "+broken+":2: field colour: unknown field") || strings.Contains(e, "warning") {
			t.Errorf("bootrig %q, the broken board itself: exit %d, stderr %q; want exit 1 and its error", args, code, e)
		}
	}
}

// TestBoardsShowJSON: `boards show --json` speaks the YAML file's
// vocabulary, and its output loads back as a profile that shows the same.
func TestBoardsShowJSON(t *testing.T) {
	for _, name := range []string{"mini2440", "qemu-arm"} {
		js, e, code := runBootrig(t, "boards", "show", name, "--json")
		if code != 0 {
			t.Fatalf("boards show %s --json: exit %d: %s", name, code, e)
		}
		for _, want := range []string{`"load_addr": "0x`, `"uboot": {`, `"char_delay": "0s"`, `"cbsize": `, `"shell_prompt": `} {
			if !strings.Contains(js, want) {
				t.Errorf("boards show %s --json lacks %s:\n%s", name, want, js)
			}
		}
		for _, goName := range []string{"LoadAddr", "UBoot", "CharDelay", "Source"} {
			if strings.Contains(js, `"`+goName+`"`) {
				t.Errorf("boards show %s --json has the Go field name %s", name, goName)
			}
		}
		file := filepath.Join(t.TempDir(), name+".json")
		if err := os.WriteFile(file, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		again, e, code := runBootrig(t, "boards", "show", "--board-file", file, "--json")
		if code != 0 || again != js {
			t.Errorf("the JSON of %s fed back: exit %d: %s\n%s\nwant\n%s", name, code, e, again, js)
		}
		want, _, _ := runBootrig(t, "bootargs", "--board", name)
		if got, e, _ := runBootrig(t, "bootargs", "--board-file", file); got != want {
			t.Errorf("bootargs from the JSON of %s: %q (%s), want %q", name, got, e, want)
		}
	}
}
