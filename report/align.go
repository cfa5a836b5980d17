package report

import (
	"strconv"
	"time"

	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/serialcon/patterns"
)

// Alignment places the kernel's printk clock on the host's.
//
// A line stamped [ p ] by the kernel reaches the host at h >= p + offset:
// it cannot arrive before it was printed, and lines printed before the
// console was enabled arrive later in a burst. So every line bounds the
// offset from above, and the smallest h - p over the kernel's lines is
// the estimate (the line that waited least); it is never earlier than
// U-Boot's "Starting kernel". A milestone is then drawn at p + offset,
// where it happened, not where its line arrived.
type Alignment struct {
	Offset Dur `json:"offset"` // host time of printk time 0; 0 without printk stamps
	Lines  int `json:"lines"`  // lines with printk stamps
	Line   int `json:"line"`   // index of the line that fixed the offset; -1: none
}

// Milestone is a kernel phase at its printk time.
type Milestone struct {
	Name   string `json:"name"`
	Printk Dur    `json:"printk"` // the kernel's stamp
	At     Dur    `json:"at"`     // Printk + Offset: when it happened, host time
	Seen   Dur    `json:"seen"`   // when its line arrived
	Line   int    `json:"line"`
}

// printk is the line's printk stamp.
func printk(text string) (time.Duration, bool) {
	m := patterns.Printk.FindStringSubmatch(text)
	if m == nil {
		return 0, false
	}
	s, _ := strconv.ParseInt(m[1], 10, 64)
	us, _ := strconv.ParseInt(m[2], 10, 64)
	return time.Duration(s)*time.Second + time.Duration(us)*time.Microsecond, true
}

func align(lines []Line, s serialcon.Summary) Alignment {
	floor := Dur(0)
	if st, ok := step(s, serialcon.PhaseStart); ok {
		floor = Dur(st.Start)
	}
	a := Alignment{Line: -1}
	for i, l := range lines {
		p, ok := printk(l.Text)
		if !ok || l.At < floor {
			continue
		}
		a.Lines++
		if off := l.At - Dur(p); a.Line < 0 || off < a.Offset {
			a.Offset, a.Line = off, i
		}
	}
	a.Offset = max(a.Offset, floor)
	return a
}

// milestones are the kernel's phases and failures whose lines carry a
// printk stamp.
func (r *Report) milestones(s serialcon.Summary) []Milestone {
	if r.Kernel.Lines == 0 {
		return nil
	}
	var ms []Milestone
	add := func(name string, at time.Duration, text string) {
		i := r.lineAt(at, text)
		if i < 0 {
			return
		}
		if p, ok := printk(r.Lines[i].Text); ok {
			ms = append(ms, Milestone{Name: name, Printk: Dur(p), At: Dur(p) + r.Kernel.Offset, Seen: r.Lines[i].At, Line: i})
		}
	}
	for _, st := range s.Steps {
		add(string(st.Phase), st.Start, st.Line)
	}
	for _, f := range s.Failures {
		add(f.Class(), f.At, f.Line)
	}
	return ms
}
