package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// ErrBadName is returned by CheckName for a name that cannot name an
// instance.
var ErrBadName = errors.New("bad instance name")

// Instance is one board a host runs under a name of its own: a board
// profile and a name, the board's own for its default instance. Each
// instance has a directory under the host's state root (see
// [Instance.Dir]) with its state dir (flash bank, runs and logs, the lab
// record) and, for a named one, its own copy of the root filesystem.
// Each runs in a lab namespace of its own.
type Instance struct {
	Board string
	Name  string // "" or Board: the default instance
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// CheckName says whether name can name an instance: a lower-case letter
// or digit, then up to 31 of those, '.', '_' or '-'.
func CheckName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w %q: use up to 32 of a-z, 0-9, '.', '_', '-', starting with a letter or digit", ErrBadName, name)
	}
	return nil
}

// Default reports whether i is the board's default instance.
func (i Instance) Default() bool { return i.Name == "" || i.Name == i.Board }

// Label is the instance's name.
func (i Instance) Label() string {
	if i.Name == "" {
		return i.Board
	}
	return i.Name
}

// Dir is the instance's directory under root: ROOT/BOARD for the
// board's default instance, ROOT/BOARD/instances/NAME for a named one.
func (i Instance) Dir(root string) string {
	if i.Default() {
		return filepath.Join(root, i.Board)
	}
	return filepath.Join(root, i.Board, "instances", i.Name)
}

// StateDir is the instance's state directory: DIR/state.
func (i Instance) StateDir(root string) string { return filepath.Join(i.Dir(root), "state") }

// RootFS is a named instance's own root filesystem, DIR/rootfs; ""
// for the default instance, which boots the build's.
func (i Instance) RootFS(root string) string {
	if i.Default() {
		return ""
	}
	return filepath.Join(i.Dir(root), "rootfs")
}

// Running is the state of every instance under root whose board runs,
// sorted by board and name.
func Running(root string) ([]State, error) {
	var dirs []string
	for _, pat := range []string{"*/state", "*/instances/*/state"} {
		m, err := filepath.Glob(filepath.Join(root, pat, StateFile))
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			dirs = append(dirs, filepath.Dir(f))
		}
	}
	var out []State
	for _, d := range dirs {
		st, err := LoadState(d)
		if errors.Is(err, ErrNotRunning) || errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Board != out[b].Board {
			return out[a].Board < out[b].Board
		}
		return out[a].Label() < out[b].Label()
	})
	return out, nil
}
