package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrNotRunning is returned by LoadState when no lab runs for the board.
var ErrNotRunning = errors.New("no running lab")

// State records a running lab in the board's state directory, so that a
// later bootrig (up --attach, serve) can find its board and join its
// namespace.
type State struct {
	Board     string `json:"board"`
	QEMUPid   int    `json:"qemu_pid"`   // the board; its namespaces are the lab's
	Console   string `json:"console"`    // the console pty
	QMP       string `json:"qmp"`        // QEMU's machine protocol socket
	SerialLog string `json:"serial_log"` // QEMU's own log of the serial line
	Tap       string `json:"tap"`
	ServerIP  string `json:"server_ip"`

	Name     string    `json:"name,omitempty"`     // the instance's (see Instance); "": the board's
	BoardIP  string    `json:"board_ip,omitempty"` // in the lab's namespace
	Started  time.Time `json:"started,omitempty"`  // when the board was powered on
	Consoles []string  `json:"consoles,omitempty"` // the console shared on the host: rfc2217://, tcp://
	// BootDelay is the seconds U-Boot waits for a key at power-on.
	BootDelay int    `json:"bootdelay"`
	Dir       string `json:"-"` // the state dir it was loaded from
}

// Label is the instance's name: Name, else the board's.
func (s State) Label() string {
	if s.Name == "" {
		return s.Board
	}
	return s.Name
}

// Save writes the state into dir atomically.
func (s State) Save(dir string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, StateFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("lab state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("lab state: %w", err)
	}
	return nil
}

// LoadState reads the lab state in dir and checks that its QEMU still
// runs; ErrNotRunning when there is none or it has gone.
func LoadState(dir string) (State, error) {
	path := filepath.Join(dir, StateFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return State{}, fmt.Errorf("%s: %w (start one with 'bootrig up --keep')", dir, ErrNotRunning)
	}
	if err != nil {
		return State{}, fmt.Errorf("lab state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, fmt.Errorf("lab state %s: %w", path, err)
	}
	s.Dir = dir
	if s.QEMUPid <= 0 || syscall.Kill(s.QEMUPid, 0) != nil {
		return s, fmt.Errorf("%s: QEMU pid %d has exited: %w (start one with 'bootrig up --keep')", path, s.QEMUPid, ErrNotRunning)
	}
	return s, nil
}

// ClearState removes the state record of a lab that has stopped.
func ClearState(dir string) error {
	err := os.Remove(filepath.Join(dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
