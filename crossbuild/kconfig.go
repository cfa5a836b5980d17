package crossbuild

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// setting is one line of a Kconfig file or fragment: CONFIG_FOO=y,
// CONFIG_BAR="x", or "# CONFIG_BAZ is not set" (Value "n").
type setting struct {
	Name  string // with the CONFIG_ prefix
	Value string // "y", "m", "n" for "is not set", a number or a quoted string
	Line  int    // line number in its file, from 1
}

func (s setting) String() string {
	if s.Value == "n" {
		return "# " + s.Name + " is not set"
	}
	return s.Name + "=" + s.Value
}

// parseConfig reads the settings of a .config or a fragment, in order.
// Comments other than "is not set" and blank lines are skipped; a line
// that is neither is an error naming the file (name) and line.
func parseConfig(data []byte, name string) ([]setting, error) {
	var out []setting
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		s, ok, err := parseSetting(strings.TrimSpace(sc.Text()))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if ok {
			s.Line = n
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

func parseSetting(line string) (setting, bool, error) {
	if line == "" {
		return setting{}, false, nil
	}
	if strings.HasPrefix(line, "#") {
		rest, ok := strings.CutSuffix(strings.TrimSpace(strings.TrimPrefix(line, "#")), " is not set")
		if ok && strings.HasPrefix(rest, "CONFIG_") && !strings.ContainsAny(rest, " \t") {
			return setting{Name: rest, Value: "n"}, true, nil
		}
		return setting{}, false, nil
	}
	name, val, ok := strings.Cut(line, "=")
	if !ok || !strings.HasPrefix(name, "CONFIG_") || strings.ContainsAny(name, " \t") || val == "" {
		return setting{}, false, fmt.Errorf("%q is not CONFIG_NAME=value or '# CONFIG_NAME is not set'", line)
	}
	return setting{Name: name, Value: val}, true, nil
}

// mergeConfig merges a fragment over a base .config the way the kernel's
// scripts/kconfig/merge_config.sh does: every symbol the fragment sets
// is removed from the base, and the fragment's lines are appended (the
// last setting of a symbol in the fragment wins). Lines of the base
// that are not settings are kept. The result still needs olddefconfig
// (or oldconfig) to resolve dependencies.
func mergeConfig(base, fragment []byte, fragmentName string) ([]byte, error) {
	frag, err := parseConfig(fragment, fragmentName)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, s := range frag {
		set[s.Name] = true
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(base))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if s, ok, err := parseSetting(strings.TrimSpace(line)); err == nil && ok && set[s.Name] {
			continue
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, s := range lastWins(frag) {
		out.WriteString(s.String())
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// lastWins keeps the last setting of each symbol, in first-seen order.
func lastWins(ss []setting) []setting {
	idx := map[string]int{}
	var out []setting
	for _, s := range ss {
		if i, ok := idx[s.Name]; ok {
			out[i] = s
			continue
		}
		idx[s.Name] = len(out)
		out = append(out, s)
	}
	return out
}

// unstuck is a fragment setting that the resolved configuration does not
// hold: Kconfig dropped it (a missing dependency, an unknown symbol) or
// changed it.
type unstuck struct {
	Want setting // from the fragment
	Got  string  // the value in .config: "n" when unset or absent
}

func (u unstuck) String() string {
	return fmt.Sprintf("%s (fragment line %d wants %s, .config has %s)", u.Want.Name, u.Want.Line, u.Want.Value, u.Got)
}

// checkConfig compares a resolved .config with the fragment that went
// into it and returns every fragment value that did not stick, as
// merge_config.sh reports after olddefconfig.
func checkConfig(config, fragment []byte, fragmentName string) ([]unstuck, error) {
	frag, err := parseConfig(fragment, fragmentName)
	if err != nil {
		return nil, err
	}
	cfg, err := parseConfig(config, ".config")
	if err != nil {
		return nil, err
	}
	have := map[string]string{}
	for _, s := range cfg {
		have[s.Name] = s.Value
	}
	var out []unstuck
	for _, want := range lastWins(frag) {
		got, ok := have[want.Name]
		if !ok {
			got = "n"
		}
		if got != want.Value {
			out = append(out, unstuck{Want: want, Got: got})
		}
	}
	return out, nil
}
