// Package bootrigtest builds the bootrig command for the tests that run it
// as a user would (cmd/bootrig's and e2e's): once per test binary, into a
// temporary directory that [Main] removes.
package bootrigtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Package is what Binary builds.
const Package = "github.com/bootrig/bootrig/cmd/bootrig"

var (
	once sync.Once
	path string
	err  error
)

// Binary builds bootrig once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() { path, err = build() })
	if err != nil {
		t.Fatalf("building bootrig: %v", err)
	}
	return path
}

func build() (string, error) {
	dir, err := os.MkdirTemp("", "bootrig-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "bootrig")
	if out, err := exec.Command("go", "build", "-o", bin, Package).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("go build %s: %w: %s", Package, err, out)
	}
	return bin, nil
}

// Main runs the tests, removes the binary if one was built, and exits
// with the tests' status: a package's TestMain calls it.
func Main(m *testing.M) {
	code := m.Run()
	if path != "" {
		os.RemoveAll(filepath.Dir(path))
	}
	os.Exit(code)
}
