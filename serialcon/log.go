package serialcon

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
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
	w     io.Writer
	start time.Time
	prev  time.Time
	lines lines
	err   error
}

// NewLog starts a log at start.
func NewLog(w io.Writer, start time.Time) *Log {
	return &Log{w: w, start: start, prev: start}
}

// WriteAt logs bytes that arrived at t.
func (l *Log) WriteAt(p []byte, t time.Time) error {
	l.lines.feed(p, t, l.emit)
	return l.err
}

func (l *Log) emit(text []byte, at time.Time) {
	line := bytes.ReplaceAll(text, []byte{'\r'}, nil)
	since, delta := at.Sub(l.start), at.Sub(l.prev)
	l.prev = at
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
	if s := &l.lines; len(s.partial) > 0 {
		l.emit(s.partial, s.at)
		s.partial = s.partial[:0]
	}
	return l.err
}

// LogLine is one line of a [Log].
type LogLine struct {
	At    time.Duration // since the start
	Delta time.Duration // since the previous line
	Text  string
}

// ErrLogFormat is a line that is not "[   12.345678 +0.001234] text".
var ErrLogFormat = errors.New("not a bootrig console log line")

var reLogLine = regexp.MustCompile(`^\[ *(\d+\.\d{6}) \+(\d+\.\d{6})\] ?(.*)$`)

// LogHeader is the line that starts a session in a log file: the port
// and the wall-clock date, so that sessions appended to one file (whose
// times each start at 0) can be told apart. ReadLog skips it.
func LogHeader(port string, t time.Time) string {
	return fmt.Sprintf("%s%s, session started %s\n", logHeaderPrefix, port, t.Format("2006-01-02 15:04:05.000000 -0700"))
}

const logHeaderPrefix = "# bootrig: console "

// ReadLog reads a log [Log] wrote; name says where in errors. Header
// lines (see [LogHeader]) are skipped.
func ReadLog(r io.Reader, name string) ([]LogLine, error) {
	var lines []LogLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if strings.HasPrefix(sc.Text(), logHeaderPrefix) {
			continue
		}
		m := reLogLine.FindStringSubmatch(sc.Text())
		if m == nil {
			return nil, fmt.Errorf("%s:%d: %w: %.60q", name, n, ErrLogFormat, sc.Text())
		}
		lines = append(lines, LogLine{At: seconds(m[1]), Delta: seconds(m[2]), Text: m[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return lines, nil
}

// seconds parses what the regexp checked: digits, a dot, six digits.
func seconds(s string) time.Duration {
	us, _ := strconv.ParseInt(s[:len(s)-7]+s[len(s)-6:], 10, 64)
	return time.Duration(us) * time.Microsecond
}
