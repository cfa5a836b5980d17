package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrBadPower is returned by ParsePower for an action it does not know.
var ErrBadPower = errors.New("unknown power action")

// Power is what a power switch does to a board.
type Power string

// Power actions.
const (
	PowerOn    Power = "on"
	PowerOff   Power = "off"
	PowerCycle Power = "cycle"
)

// ParsePower is the action a word names: on, off or cycle.
func ParsePower(s string) (Power, error) {
	switch p := Power(s); p {
	case PowerOn, PowerOff, PowerCycle:
		return p, nil
	}
	return "", fmt.Errorf("%w %q: use on, off or cycle", ErrBadPower, s)
}

// qmpPower is the QMP commands that do p to a board whose CPU runs
// (running) or not. Off stops the CPU, as pulling the plug stops the
// board; the QEMU process, its console and its lab stay, so that on
// (a reset, then the CPU runs) boots the board again from its flash as
// a power-up does. On a board that is on, on does nothing.
func qmpPower(p Power, running bool) []string {
	switch {
	case p == PowerOff && running:
		return []string{"stop"}
	case p == PowerOn && !running, p == PowerCycle:
		return []string{"stop", "system_reset", "cont"}
	}
	return nil
}

// SetPower does p to the emulated board whose QMP socket is at qmp.
func SetPower(ctx context.Context, qmp string, p Power) error {
	raw, err := QMPQuery(ctx, qmp, "query-status")
	if err != nil {
		return fmt.Errorf("power %s: %w", p, err)
	}
	var st struct {
		Running bool `json:"running"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("power %s: query-status reply %s: %w", p, raw, err)
	}
	for _, cmd := range qmpPower(p, st.Running) {
		if err := QMPCommand(ctx, qmp, cmd); err != nil {
			return fmt.Errorf("power %s: %w", p, err)
		}
	}
	return nil
}
