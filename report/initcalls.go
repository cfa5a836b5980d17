package report

import (
	"strconv"
	"time"

	"github.com/bootrig/bootrig/serialcon/patterns"
)

// InitcallThreshold is how long an initcall must take to get a bar, as
// bootgraph.pl draws only the ones that matter.
const InitcallThreshold = 5 * time.Millisecond

// Initcall is one kernel initcall initcall_debug reported.
type Initcall struct {
	Name  string `json:"name"`
	Start Dur    `json:"start"` // host time, aligned like the milestones
	Took  Dur    `json:"took"`
	Line  int    `json:"line"` // its "returned" line
}

// initcalls are those longer than InitcallThreshold, from the lines of a
// kernel booted with initcall_debug.
func (r *Report) initcalls() []Initcall {
	var ics []Initcall
	for i, l := range r.Lines {
		m := patterns.Initcall.FindStringSubmatch(l.Text)
		p, ok := printk(l.Text)
		if m == nil || !ok {
			continue
		}
		us, _ := strconv.ParseInt(m[3], 10, 64)
		took := Dur(time.Duration(us) * time.Microsecond)
		if took < Dur(InitcallThreshold) {
			continue
		}
		ics = append(ics, Initcall{Name: m[1], Start: Dur(p) + r.Kernel.Offset - took, Took: took, Line: i})
	}
	return ics
}
