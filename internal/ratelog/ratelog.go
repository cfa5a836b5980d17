// Package ratelog is a logger that writes at most one line per cause
// per interval, so that a flood of bad packets or refused clients costs
// a line every few seconds instead of one each.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultEvery is the interval of a Logger whose Every is zero.
const DefaultEvery = 10 * time.Second

// Logger logs through Log, at most once per Every for each message: the
// message is the cause, so it must be a constant, not built from the
// input. A line written after others were held back says how many
// ("suppressed"). The zero Logger discards everything.
type Logger struct {
	Log   *slog.Logger
	Every time.Duration
	Now   func() time.Time // nil: time.Now

	mu     sync.Mutex
	causes map[string]*cause
}

type cause struct {
	last       time.Time
	suppressed int
}

// New is a Logger writing to log once per every for each cause.
func New(log *slog.Logger, every time.Duration) *Logger {
	return &Logger{Log: log, Every: every}
}

// Warn logs msg at warning level unless it was logged less than Every ago.
func (l *Logger) Warn(msg string, args ...any) { l.log(slog.LevelWarn, msg, args) }

// Info logs msg at info level unless it was logged less than Every ago.
func (l *Logger) Info(msg string, args ...any) { l.log(slog.LevelInfo, msg, args) }

func (l *Logger) log(level slog.Level, msg string, args []any) {
	if l == nil || l.Log == nil || !l.Log.Enabled(context.Background(), level) {
		return
	}
	n, ok := l.admit(msg)
	if !ok {
		return
	}
	if n > 0 {
		args = append(args[:len(args):len(args)], "suppressed", n)
	}
	l.Log.Log(context.Background(), level, msg, args...)
}

// admit says whether msg may be logged now, and how many lines of it
// were held back since it last was.
func (l *Logger) admit(msg string) (int, bool) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	every := l.Every
	if every <= 0 {
		every = DefaultEvery
	}
	t := now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.causes == nil {
		l.causes = map[string]*cause{}
	}
	c := l.causes[msg]
	if c == nil {
		l.causes[msg] = &cause{last: t}
		return 0, true
	}
	if t.Sub(c.last) < every {
		c.suppressed++
		return 0, false
	}
	n := c.suppressed
	c.last, c.suppressed = t, 0
	return n, true
}
