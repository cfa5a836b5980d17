package report

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/serialcon/patterns"
)

// kinds colour the lanes by who runs: U-Boot, the kernel, userspace.
var kinds = map[serialcon.Phase]string{
	serialcon.PhaseUBoot: "uboot", serialcon.PhaseAutoboot: "uboot", serialcon.PhaseTFTP: "tftp",
	serialcon.PhaseStart: "kernel", serialcon.PhaseLinux: "kernel", serialcon.PhaseNet: "kernel",
	serialcon.PhaseRoot: "kernel", serialcon.PhaseFreeing: "kernel",
	serialcon.PhaseInit: "init", serialcon.PhaseShell: "shell",
}

// spans are lanes that run from one phase to another.
var spans = []struct {
	key, kind string
	from, to  serialcon.Phase
	onlyIf    *regexp.Regexp // nil, or what the "to" line must match
}{
	{"kernel start to root mounted", "kernel", serialcon.PhaseStart, serialcon.PhaseRoot, nil},
	{"NFS mount", "nfs", serialcon.PhaseNet, serialcon.PhaseRoot, patterns.MountedNFSRoot},
}

// lanes are one per phase reached (each TFTP transfer its own), the
// spans, and one per command, in the order they started.
func (r *Report) lanes(s serialcon.Summary) []Lane {
	var ls []Lane
	seen := map[string]int{}
	for _, st := range s.Steps {
		l := Lane{Key: string(st.Phase), Name: string(st.Phase), Kind: kinds[st.Phase],
			Start: Dur(st.Start), End: Dur(st.Start + st.Duration), Line: r.lineAt(st.Start, st.Line)}
		if l.Kind == "" {
			l.Kind = "kernel"
		}
		if t := st.Transfer; t != nil {
			l.Name, l.Detail = "tftp "+t.File, transferDetail(*t, st.Start)
			if t.End > 0 {
				l.End = Dur(t.End)
			}
		}
		if st.Phase == serialcon.PhaseShell {
			l.End = l.Start // reached: what follows are the commands
		}
		seen[l.Name]++
		l.Key = l.Name
		if n := seen[l.Name]; n > 1 { // a retry, a reset loop
			l.Key = fmt.Sprintf("%s #%d", l.Name, n)
		}
		ls = append(ls, l)
	}
	ls = append(ls, r.spanLanes(s)...)
	for i, c := range r.Commands {
		l := Lane{Key: fmt.Sprintf("run %d: %s", i+1, c.Line), Name: "run: " + c.Line, Kind: "run",
			Start: c.Start, End: c.End, Line: r.lineAt(time.Duration(c.Start), ""), Failed: c.Exit != 0}
		l.Detail = fmt.Sprintf("exit status %d", c.Exit)
		if c.Err != "" {
			l.Detail = c.Err
		}
		ls = append(ls, l)
	}
	slices.SortStableFunc(ls, func(a, b Lane) int { return cmp.Compare(a.Start, b.Start) })
	return ls
}

func (r *Report) spanLanes(s serialcon.Summary) []Lane {
	var ls []Lane
	for _, sp := range spans {
		from, ok1 := step(s, sp.from)
		to, ok2 := step(s, sp.to)
		if !ok1 || !ok2 || (sp.onlyIf != nil && !sp.onlyIf.MatchString(to.Line)) {
			continue
		}
		ls = append(ls, Lane{Key: sp.key, Name: sp.key, Kind: sp.kind, Start: Dur(from.Start), End: Dur(to.Start),
			Line: r.lineAt(from.Start, from.Line)})
	}
	return ls
}

// step is the first time the boot reached ph.
func step(s serialcon.Summary, ph serialcon.Phase) (serialcon.Step, bool) {
	for _, st := range s.Steps {
		if st.Phase == ph {
			return st, true
		}
	}
	return serialcon.Step{}, false
}

// transferDetail is a transfer's size and rate as the host saw it (from
// U-Boot's TFTP line to "Bytes transferred"), and U-Boot's own.
func transferDetail(t serialcon.Transfer, start time.Duration) string {
	if t.End == 0 {
		return "did not complete"
	}
	d := fmt.Sprintf("%d bytes", t.Bytes)
	if took := t.End - start; took > 0 {
		d += fmt.Sprintf(", %.1f MiB/s", float64(t.Bytes)/(1<<20)/took.Seconds())
	}
	if t.Rate != "" {
		d += " (U-Boot: " + t.Rate + ")"
	}
	return d
}

// failures are the failures seen, each in the phase it happened in; a
// boot that stalled without one ends in a failure saying where.
func (r *Report) failures(s serialcon.Summary) []Failure {
	fs := s.Failures
	if len(fs) == 0 {
		var f serialcon.Failure
		if err := s.Err(); err != nil && errors.As(err, &f) {
			fs = []serialcon.Failure{f}
		}
	}
	var out []Failure
	for _, f := range fs {
		line := -1
		if f.Line != "" {
			line = r.lineAt(f.At, f.Line)
		}
		out = append(out, Failure{Class: f.Class(), Message: f.Err.Error(), At: Dur(f.At), Phase: r.phaseAt(Dur(f.At)), Line: line})
	}
	return out
}

// phaseAt is the key of the last phase lane started at or before at.
func (r *Report) phaseAt(at Dur) string {
	key := ""
	for _, l := range r.Lanes {
		if l.Kind != "run" && !isSpan(l.Key) && l.Start <= at {
			key = l.Key
		}
	}
	return key
}

func isSpan(key string) bool {
	for _, sp := range spans {
		if sp.key == key {
			return true
		}
	}
	return false
}
