package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Files in a run directory.
const (
	RecordFile  = "run.json"
	LogFile     = "boot.log"
	RawFile     = "boot.raw"
	HTMLFile    = "report.html"
	CompareFile = "compare.html"
)

// Record is what a run directory keeps beside its logs.
type Record struct {
	Board       string    `json:"board"`
	Started     time.Time `json:"started"`                // power-on, host clock
	ShellPrompt string    `json:"shell_prompt,omitempty"` // the board's, a regexp; "" for serialcon's default
	Commands    []Command `json:"commands,omitempty"`     // run by --run, in order
}

// Command is one command run in the board's shell.
type Command struct {
	Line  string `json:"line"`
	Start Dur    `json:"start"` // since power-on
	End   Dur    `json:"end"`
	Exit  int    `json:"exit"`            // its exit status; -1: none arrived
	Err   string `json:"error,omitempty"` // why no status arrived
}

// Dur is a time.Duration that JSON shows as seconds.
type Dur time.Duration

// S is d in seconds.
func (d Dur) S() float64 { return time.Duration(d).Seconds() }

func (d Dur) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, d.S(), 'f', 6, 64), nil
}

func (d *Dur) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("seconds: %w", err)
	}
	*d = Dur(f * float64(time.Second))
	return nil
}

// Save writes r to dir's run.json.
func (r Record) Save(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, RecordFile), append(b, '\n'))
}

// LoadRecord reads dir's run.json; a directory without one (a log from
// `bootrig log` put in a directory by hand) has an empty Record.
func LoadRecord(dir string) (Record, error) {
	var r Record
	b, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", filepath.Join(dir, RecordFile), err)
	}
	return r, nil
}

// writeFile replaces path with data whole: a reader never sees half.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
