package serialcon

import "time"

// Clock tells the time. Tests pass their own to control log timestamps and
// phase durations.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// SystemClock is the real time.
var SystemClock Clock = systemClock{}
