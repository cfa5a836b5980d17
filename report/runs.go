package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// ErrNoRuns is a board that has no run recorded.
var ErrNoRuns = errors.New("no run recorded (bootrig up records one)")

// Runs are a board's run directories, STATE/runs/ID, an ID being the
// UTC power-on time, so they sort by age.
type Runs struct {
	Dir  string // STATE/runs
	Keep int    // how many Prune keeps; <= 0 keeps all
}

// DefaultKeep is how many runs a board keeps.
const DefaultKeep = 20

const idLayout = "20060102-150405.000"

// Create makes the directory of a run that starts now.
func (r Runs) Create(now time.Time) (string, error) {
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return "", fmt.Errorf("runs: %w", err)
	}
	id := now.UTC().Format(idLayout)
	for i := 2; ; i++ {
		dir := filepath.Join(r.Dir, id)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) || i > 100 {
			return "", fmt.Errorf("runs: %w", err)
		}
		id = fmt.Sprintf("%s-%d", now.UTC().Format(idLayout), i)
	}
}

// List is the run directories, oldest first.
func (r Runs) List() ([]string, error) {
	ents, err := os.ReadDir(r.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() && isID(e.Name()) {
			dirs = append(dirs, filepath.Join(r.Dir, e.Name()))
		}
	}
	slices.Sort(dirs)
	return dirs, nil
}

// isID says whether name is a run's: its power-on time, maybe "-N".
func isID(name string) bool {
	if len(name) < len(idLayout) {
		return false
	}
	_, err := time.Parse(idLayout, name[:len(idLayout)])
	return err == nil && (len(name) == len(idLayout) || strings.HasPrefix(name[len(idLayout):], "-"))
}

// Last is the newest run directory.
func (r Runs) Last() (string, error) {
	dirs, err := r.List()
	if err != nil {
		return "", err
	}
	if len(dirs) == 0 {
		return "", fmt.Errorf("%s: %w", r.Dir, ErrNoRuns)
	}
	return dirs[len(dirs)-1], nil
}

// Prune removes all but the newest Keep runs.
func (r Runs) Prune() error {
	dirs, err := r.List()
	if err != nil || r.Keep <= 0 || len(dirs) <= r.Keep {
		return err
	}
	var errs []error
	for _, d := range dirs[:len(dirs)-r.Keep] {
		errs = append(errs, os.RemoveAll(d))
	}
	return errors.Join(errs...)
}
