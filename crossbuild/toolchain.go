package crossbuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// ErrNoToolchain means no cross compiler was found on PATH.
var ErrNoToolchain = errors.New("no ARM cross compiler found")

// Toolchain is the cross compiler a build uses.
type Toolchain struct {
	Prefix  string `json:"prefix"`  // CROSS_COMPILE: "arm-linux-gnueabi-"
	GCC     string `json:"gcc"`     // full path of PREFIXgcc
	Version string `json:"version"` // gcc -dumpfullversion: "12.2.0"
	Target  string `json:"target"`  // gcc -dumpmachine: "arm-linux-gnueabi"
}

func (t Toolchain) String() string {
	return fmt.Sprintf("%s (%sgcc %s, target %s)", t.GCC, t.Prefix, t.Version, t.Target)
}

// findToolchain picks the first prefix whose gcc is on PATH: the one
// given with --cross-compile, else the profile's list in order. It runs
// the compiler to learn its version and target triplet.
func findToolchain(ctx context.Context, prefixes []string) (Toolchain, error) {
	for _, p := range prefixes {
		gcc, err := exec.LookPath(p + "gcc")
		if err != nil {
			continue
		}
		t := Toolchain{Prefix: p, GCC: gcc}
		if t.Version, err = gccQuery(ctx, gcc, "-dumpfullversion"); err != nil {
			return t, err
		}
		if t.Target, err = gccQuery(ctx, gcc, "-dumpmachine"); err != nil {
			return t, err
		}
		return t, nil
	}
	return Toolchain{}, fmt.Errorf("%w: looked for %sgcc on PATH; install one with 'apt-get install gcc-arm-linux-gnueabi' or pass --cross-compile PREFIX",
		ErrNoToolchain, strings.Join(prefixes, "gcc, "))
}

func gccQuery(ctx context.Context, gcc string, flags ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, gcc, flags...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", gcc, strings.Join(flags, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
