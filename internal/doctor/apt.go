package doctor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// AptDir is where apt's configuration lives; tests point it elsewhere.
type AptDir string

// SystemApt is the machine's own apt configuration.
const SystemApt AptDir = "/etc/apt"

// debSrcFile is the file doctor writes its derived deb-src entries to.
const debSrcFile = "bootrig-deb-src.sources"

// DebSrcEnabled reports whether the machine's apt sources have a deb-src entry.
func DebSrcEnabled() bool { return SystemApt.HasDebSrc() }

// HasDebSrc reports whether any apt source file enables deb-src.
func (d AptDir) HasDebSrc() bool {
	for _, f := range d.sourceFiles() {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			t := strings.TrimSpace(line)
			if strings.HasPrefix(t, "deb-src ") || (strings.HasPrefix(t, "Types:") && strings.Contains(t, "deb-src")) {
				return true
			}
		}
	}
	return false
}

func (d AptDir) sourceFiles() []string {
	files := []string{filepath.Join(string(d), "sources.list")}
	for _, ext := range []string{"*.list", "*.sources"} {
		m, _ := filepath.Glob(filepath.Join(string(d), "sources.list.d", ext))
		files = append(files, m...)
	}
	return files
}

// DeriveDebSrc builds deb-src entries (in deb822 form) from the machine's
// own binary entries for its release (suites that start with codename),
// so no mirror name is ever written by hand. It returns "" when there is
// nothing to derive.
func (d AptDir) DeriveDebSrc(codename string) string {
	var out bytes.Buffer
	for _, f := range d.sourceFiles() {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if strings.HasSuffix(f, ".sources") {
			deriveDeb822(&out, data, codename)
		} else {
			deriveOneLine(&out, data, codename)
		}
	}
	return out.String()
}

// deriveDeb822 copies each stanza whose Types include deb, with Types
// set to deb-src.
func deriveDeb822(out *bytes.Buffer, data []byte, codename string) {
	for _, stanza := range strings.Split(string(data), "\n\n") {
		fields := map[string]string{}
		var order []string
		for _, line := range strings.Split(stanza, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") || !strings.Contains(line, ":") || strings.HasPrefix(line, " ") {
				continue
			}
			k, v, _ := strings.Cut(line, ":")
			fields[k] = strings.TrimSpace(v)
			order = append(order, k)
		}
		if !hasWord(fields["Types"], "deb") || strings.EqualFold(fields["Enabled"], "no") || !suitesMatch(fields["Suites"], codename) {
			continue
		}
		fields["Types"] = "deb-src"
		for _, k := range order {
			fmt.Fprintf(out, "%s: %s\n", k, fields[k])
		}
		out.WriteString("\n")
	}
}

// deriveOneLine turns "deb [opts] URI suite comps" lines into stanzas.
func deriveOneLine(out *bytes.Buffer, data []byte, codename string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		opts := ""
		if strings.HasPrefix(f[0], "[") {
			for i, x := range f {
				if strings.HasSuffix(x, "]") {
					opts = strings.Trim(strings.Join(f[:i+1], " "), "[]")
					f = f[i+1:]
					break
				}
			}
		}
		if len(f) < 2 || !suitesMatch(f[1], codename) {
			continue
		}
		fmt.Fprintf(out, "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", f[0], f[1], strings.Join(f[2:], " "))
		for _, o := range strings.Fields(opts) {
			if k, v, ok := strings.Cut(o, "="); ok && k == "signed-by" {
				fmt.Fprintf(out, "Signed-By: %s\n", v)
			}
		}
		out.WriteString("\n")
	}
}

func hasWord(s, w string) bool {
	for _, x := range strings.Fields(s) {
		if x == w {
			return true
		}
	}
	return false
}

func suitesMatch(suites, codename string) bool {
	for _, s := range strings.Fields(suites) {
		if codename == "" || strings.HasPrefix(s, codename) {
			return true
		}
	}
	return false
}

// Codename is the release codename from /etc/os-release ("bookworm").
func Codename() string {
	data, _ := os.ReadFile("/etc/os-release")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VERSION_CODENAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// Installer installs Debian packages with apt-get.
type Installer struct {
	Apt    AptDir
	Out    io.Writer // apt's output
	DryRun bool      // print the commands only
}

// Plan is the argv of each command Install runs, in order; a pure
// function of its inputs.
func (in Installer) Plan(pkgs []string, root bool) [][]string {
	sudo := []string{}
	if !root {
		sudo = []string{"sudo", "-E"}
	}
	cmd := func(args ...string) []string { return append(append([]string{}, sudo...), args...) }
	return [][]string{
		cmd("apt-get", "update", "-q"),
		cmd(append([]string{"apt-get", "install", "-y", "-q"}, pkgs...)...),
	}
}

// Install enables deb-src when needSources and no entry exists, then
// installs pkgs. Services the packages ship are not started (their
// anchors are started by the benchmarks themselves).
func (in Installer) Install(ctx context.Context, pkgs []string, needSources bool) error {
	root := os.Geteuid() == 0
	if needSources && !in.Apt.HasDebSrc() {
		if err := in.enableDebSrc(root); err != nil {
			return err
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	undo, err := in.holdServices(root)
	if err != nil {
		return err
	}
	defer undo()
	for _, argv := range in.Plan(pkgs, root) {
		fmt.Fprintf(in.Out, "+ %s\n", strings.Join(argv, " "))
		if in.DryRun {
			continue
		}
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = in.Out, in.Out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w (run it by hand to see why)", strings.Join(argv, " "), err)
		}
	}
	return nil
}

func (in Installer) enableDebSrc(root bool) error {
	entries := in.Apt.DeriveDebSrc(Codename())
	if entries == "" {
		return fmt.Errorf("no deb entry for this release in %s to derive a deb-src entry from; add one to use apt-get source", in.Apt)
	}
	path := filepath.Join(string(in.Apt), "sources.list.d", debSrcFile)
	fmt.Fprintf(in.Out, "+ enabling source packages: writing %s (derived from this machine's apt sources)\n", path)
	if in.DryRun {
		return nil
	}
	if !root {
		return fmt.Errorf("writing %s needs root: run 'sudo bootrig doctor --install'", path)
	}
	if err := os.WriteFile(path, []byte("# Written by bootrig doctor: deb-src entries derived from this machine's deb entries.\n"+entries), 0o644); err != nil {
		return fmt.Errorf("enabling source packages: %w", err)
	}
	return nil
}

// holdServices keeps package scripts from starting daemons (tftpd-hpa,
// nfs-ganesha) while installing, with a policy-rc.d that is removed
// afterwards; an existing policy-rc.d is left alone.
func (in Installer) holdServices(root bool) (func(), error) {
	const policy = "/usr/sbin/policy-rc.d"
	if in.DryRun || !root || in.Apt != SystemApt {
		return func() {}, nil
	}
	if _, err := os.Stat(policy); err == nil {
		return func() {}, nil
	}
	if err := os.WriteFile(policy, []byte("#!/bin/sh\n# bootrig doctor: do not start services while installing\nexit 101\n"), 0o755); err != nil {
		return nil, fmt.Errorf("writing %s: %w", policy, err)
	}
	return func() { os.Remove(policy) }, nil
}
