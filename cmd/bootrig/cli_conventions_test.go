package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/internal/bootrigtest"
)

func TestVersionString(t *testing.T) {
	for _, tc := range []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "3040c44ab8e1f00dfeed"}, {Key: "vcs.time", Value: "2026-12-02T04:15:31Z"}, {Key: "vcs.modified", Value: "false"}}},
			"v1.2.0 (rev 3040c44ab8e1, 2026-12-02T04:15:31Z; go1.26.8)"},
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}},
			"(devel) (rev abc, modified; go1.26.8)"},
		{debug.BuildInfo{}, "(devel)"},
	} {
		if got := versionString(&tc.bi); got != tc.want {
			t.Errorf("versionString(%+v) = %q, want %q", tc.bi, got, tc.want)
		}
	}
}

// TestVersionFromCheckout builds bootrig from a clone of this repository
// as a user would (VCS stamping on) and checks --version names the
// commit.
func TestVersionFromCheckout(t *testing.T) {
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	src := filepath.Join(t.TempDir(), "bootrig")
	if out, err := exec.Command("git", "clone", "-q", "--no-hardlinks", "../..", src).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v: %s", err, out)
	}
	bin := filepath.Join(t.TempDir(), "bootrig")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/bootrig")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	// Go stamps a pseudo-version made from the commit, and the commit.
	want := regexp.MustCompile(`^bootrig v0\.0\.0-\d{14}-` + string(head[:12]) + ` \(rev ` + string(head[:12]) + `, \d{4}-\d\d-\d\dT[0-9:]+Z; go1\.\d+`)
	if err != nil || !want.Match(out) {
		t.Errorf("--version = %q, %v; want %s", out, err, want)
	}
}

// TestCompletion: the scripts complete commands and flags in the real
// shells.
func TestCompletion(t *testing.T) {
	dir := filepath.Dir(bootrigtest.Binary(t))
	env := append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "XDG_CONFIG_HOME="+t.TempDir())
	for _, tc := range []struct {
		shell  string
		script string   // completing "bootrig ub", then "bootrig log --ti"
		want   []string // in the candidates
	}{
		{"bash", `source <(bootrig completion bash)
COMP_WORDS=(bootrig ub); COMP_CWORD=1; _bootrig_complete; echo "${COMPREPLY[@]}"
COMP_WORDS=(bootrig log --ti); COMP_CWORD=2; _bootrig_complete; echo "${COMPREPLY[@]}"`, []string{"uboot\n--timeout\n"}},
		{"fish", `bootrig completion fish | source
complete -C 'bootrig ub'
complete -C 'bootrig log --ti'`, []string{"uboot\tdrive U-Boot on the console", "--timeout\tstop after "}},
		// compadd gets every candidate; zsh filters them by prefix.
		{"zsh", `autoload -U compinit; compinit -u
source <(bootrig completion zsh)
compadd() { shift $(( $# - 1 )); print -l -- ${(P)1} }
words=(bootrig ub); CURRENT=2; _bootrig
words=(bootrig log --ti); CURRENT=3; _bootrig`, []string{"\nuboot\n", "\n--timeout\n"}},
	} {
		cmd := exec.Command(tc.shell, "-c", tc.script)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		for _, w := range tc.want {
			if err != nil || !strings.Contains(string(out), w) {
				t.Errorf("%s completion: %v: %q lacks %q; stderr %s", tc.shell, err, out, w, stderr.String())
			}
		}
	}
}

// TestManPage: the page generated from the command definitions renders
// with man(1) and documents every command.
func TestManPage(t *testing.T) {
	page, e, code := runBootrig(t, "man")
	if code != 0 || !strings.HasPrefix(page, ".nh\n.TH bootrig 1") {
		t.Fatalf("bootrig man: exit %d: %s", code, e)
	}
	file := filepath.Join(t.TempDir(), "bootrig.1")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("man", "-l", file)
	cmd.Env = append(os.Environ(), "MANPAGER=cat", "MANWIDTH=100")
	text, err := cmd.Output()
	if err != nil {
		t.Fatalf("man -l: %v", err)
	}
	for _, c := range newApp(nil, nil, nil).Commands {
		if !regexp.MustCompile(`(?m)^` + c.Name + `$`).Match(text) {
			t.Errorf("the man page does not document %q", c.Name)
		}
	}
}

// TestJSONOutputs: doctor and mkimage -l speak JSON for scripts.
func TestJSONOutputs(t *testing.T) {
	o, e, code := runBootrig(t, "doctor", "--json")
	var doc struct {
		Board        string
		OK           bool
		Requirements []struct {
			What, For, Package string
			Present            bool
		}
	}
	if err := json.Unmarshal([]byte(o), &doc); err != nil || doc.Board != "qemu-arm" || len(doc.Requirements) < 5 || (code == 0) != doc.OK {
		t.Errorf("doctor --json: exit %d, %v: %s%s", code, err, o, e)
	}
	data := filepath.Join(t.TempDir(), "zImage")
	os.WriteFile(data, bytes.Repeat([]byte("kernel"), 1000), 0o644)
	img := filepath.Join(t.TempDir(), "uImage")
	if _, e, code := runBootrig(t, "mkimage", "-A", "arm", "-O", "linux", "-T", "kernel", "-C", "none", "-a", "0x30008000", "-n", "Linux", "-d", data, img); code != 0 {
		t.Fatalf("mkimage: %s", e)
	}
	o, e, code = runBootrig(t, "mkimage", "-l", "--json", img)
	var im struct {
		Name, Arch, OS, Type, Compression, LoadAddress, EntryPoint string `json:",omitempty"`
		DataSize                                                   int    `json:"data_size"`
	}
	json.Unmarshal([]byte(o), &im)
	var raw map[string]any
	if err := json.Unmarshal([]byte(o), &raw); err != nil || code != 0 || im.Name != "Linux" || im.Arch != "arm" || im.Type != "kernel" || im.Compression != "none" || raw["load_address"] != "0x30008000" || im.DataSize != 6000 {
		t.Errorf("mkimage -l --json: exit %d, %v: %s%s", code, err, o, e)
	}
}

// TestParentCommandsWantASubcommand: `bootrig rootfs` or `bootrig uboot`
// alone is bad usage: the help on stderr, exit 2.
func TestParentCommandsWantASubcommand(t *testing.T) {
	for _, c := range newApp(nil, nil, nil).Commands {
		if len(c.Subcommands) == 0 {
			continue
		}
		o, e, code := runBootrig(t, c.Name)
		if code != 2 || o != "" || !strings.Contains(e, "bootrig "+c.Name+" - ") || !strings.Contains(e, "COMMANDS:") {
			t.Errorf("bootrig %s: exit %d, stdout %q, stderr %q; want its help on stderr and exit 2", c.Name, code, o, e)
		}
	}
	if o, _, code := runBootrig(t, "uboot", "--help"); code != 0 || !strings.Contains(o, "COMMANDS:") {
		t.Errorf("bootrig uboot --help: exit %d: %s", code, o)
	}
}
