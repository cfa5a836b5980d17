package serialcon

import (
	"bytes"
	"time"
)

// lines cuts console bytes into lines, each at the time its first byte
// arrived: the one rule [Log] and [Phases] both stamp lines by.
type lines struct {
	partial []byte    // the unfinished line, without a newline
	at      time.Time // when its first byte arrived
}

// feed takes bytes that arrived at t and calls line for each line they
// finish (its text without the newline; only valid during the call).
func (s *lines) feed(b []byte, t time.Time, line func(text []byte, at time.Time)) {
	for len(b) > 0 {
		if len(s.partial) == 0 {
			s.at = t
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			s.partial = append(s.partial, b...)
			return
		}
		s.partial = append(s.partial, b[:i]...)
		b = b[i+1:]
		line(s.partial, s.at)
		s.partial = s.partial[:0]
	}
}
