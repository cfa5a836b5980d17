package serialcon

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// Log writes console output grabserial-style: each line stamped with the
// time since the start and since the previous line,
//
//	[   12.345678 +0.001234] text
//
// and written to the underlying writer as soon as its newline arrives, so a
// crash loses nothing already received. Carriage returns are dropped. A
// line is stamped with the time its first byte arrived.
type Log struct {
	w       io.Writer
	start   time.Time
	prev    time.Time
	lineAt  time.Time
	partial []byte
	err     error
}

// NewLog starts a log at start.
func NewLog(w io.Writer, start time.Time) *Log {
	return &Log{w: w, start: start, prev: start}
}

// WriteAt logs bytes that arrived at t.
func (l *Log) WriteAt(p []byte, t time.Time) error {
	for len(p) > 0 {
		if len(l.partial) == 0 {
			l.lineAt = t
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.partial = append(l.partial, p...)
			break
		}
		l.partial = append(l.partial, p[:i]...)
		p = p[i+1:]
		l.emit()
	}
	return l.err
}

func (l *Log) emit() {
	line := bytes.ReplaceAll(l.partial, []byte{'\r'}, nil)
	l.partial = l.partial[:0]
	since, delta := l.lineAt.Sub(l.start), l.lineAt.Sub(l.prev)
	l.prev = l.lineAt
	if l.err != nil {
		return
	}
	_, l.err = fmt.Fprintf(l.w, "[%12.6f +%.6f] %s\n", since.Seconds(), delta.Seconds(), line)
	if f, ok := l.w.(interface{ Flush() error }); ok && l.err == nil {
		l.err = f.Flush()
	}
}

// Close writes a last line that has no newline yet.
func (l *Log) Close() error {
	if len(l.partial) > 0 {
		l.emit()
	}
	return l.err
}
