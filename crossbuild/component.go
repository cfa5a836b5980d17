package crossbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrFragment marks fragment values that did not survive olddefconfig.
var ErrFragment = errors.New("config fragment values did not stick")

// component is a kbuild tree built in three steps around a fragment
// merge: configure (defconfig), merge, resolve (olddefconfig), check,
// compile. A stamp of every input lets a no-change rebuild skip make.
type component struct {
	name                        string // "kernel", "busybox"
	build                       string // build directory (O=)
	configure, resolve, compile step
	fragment                    []byte
	fragmentName                string // for errors: "qemu-arm.yaml kernel.fragment"
	inputs                      []string
	outputs                     []string // must exist for the stamp to count
}

const (
	stampFile   = ".bootrig-stamp"
	objectsFile = ".bootrig-objects"
)

// stamp hashes everything the outputs depend on: the steps' argv and
// env, the fragment and the extra inputs (source and toolchain IDs).
func (c component) stamp() string {
	h := sha256.New()
	for _, s := range []step{c.configure, c.resolve, c.compile} {
		var args []string
		for _, a := range s.Args {
			if !strings.HasPrefix(a, "-j") { // parallelism does not change outputs
				args = append(args, a)
			}
		}
		fmt.Fprintf(h, "%q %q %q\n", args, s.Env, s.Dir)
	}
	fmt.Fprintf(h, "%q\n%q\n", normalFragment(c.fragment), c.inputs)
	return hex.EncodeToString(h.Sum(nil))
}

// normalFragment is the fragment's settings without comments or blank
// lines, so editing a comment does not rebuild.
func normalFragment(frag []byte) string {
	ss, err := parseConfig(frag, "fragment")
	if err != nil {
		return string(frag)
	}
	var b strings.Builder
	for _, s := range lastWins(ss) {
		b.WriteString(s.String() + "\n")
	}
	return b.String()
}

// upToDate reports whether the last successful build had the same
// inputs and its outputs are still there.
func (c component) upToDate() bool {
	b, err := os.ReadFile(filepath.Join(c.build, stampFile))
	if err != nil || strings.TrimSpace(string(b)) != c.stamp() {
		return false
	}
	for _, o := range c.outputs {
		if _, err := os.Stat(o); err != nil {
			return false
		}
	}
	return true
}

// run builds the component unless it is up to date; it reports whether
// make ran.
func (c component) run(ctx context.Context, r *runner) (bool, error) {
	if c.upToDate() {
		fmt.Fprintf(r.Out, "%s: up to date\n", c.name)
		return false, nil
	}
	if err := os.MkdirAll(c.build, 0o755); err != nil {
		return false, fmt.Errorf("%s: %w", c.name, err)
	}
	os.Remove(filepath.Join(c.build, stampFile))
	if err := c.configureTree(ctx, r); err != nil {
		return false, err
	}
	step := c.compile
	if n := lastObjects(c.build); n > 0 {
		step.Objects = n
	}
	n, err := r.Run(ctx, step)
	if err != nil {
		return true, err
	}
	if n > 0 {
		os.WriteFile(filepath.Join(c.build, objectsFile), []byte(strconv.Itoa(n)), 0o644)
	}
	return true, os.WriteFile(filepath.Join(c.build, stampFile), []byte(c.stamp()+"\n"), 0o644)
}

// configureTree runs defconfig, merges the fragment, resolves and checks
// that every fragment value held.
func (c component) configureTree(ctx context.Context, r *runner) error {
	if _, err := r.Run(ctx, c.configure); err != nil {
		return err
	}
	cfgPath := filepath.Join(c.build, ".config")
	base, err := os.ReadFile(cfgPath)
	if err != nil {
		return fmt.Errorf("%s: after %s: %w", c.name, c.configure.Phase, err)
	}
	merged, err := mergeConfig(base, c.fragment, c.fragmentName)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if err := os.WriteFile(cfgPath, merged, 0o644); err != nil {
		return err
	}
	if _, err := r.Run(ctx, c.resolve); err != nil {
		return err
	}
	resolved, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	bad, err := checkConfig(resolved, c.fragment, c.fragmentName)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return unstuckError(c.fragmentName, cfgPath, bad)
}

func unstuckError(fragmentName, cfgPath string, bad []unstuck) error {
	if len(bad) == 0 {
		return nil
	}
	var b bytes.Buffer
	for i, u := range bad {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(u.String())
	}
	return fmt.Errorf("%s: %w in %s: %s (check their dependencies with menuconfig)", fragmentName, ErrFragment, cfgPath, b.String())
}

func lastObjects(build string) int {
	b, err := os.ReadFile(filepath.Join(build, objectsFile))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}
