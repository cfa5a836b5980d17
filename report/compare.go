package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
)

// Comparison is two runs on one axis.
type Comparison struct {
	Old     *Report `json:"old"`
	New     *Report `json:"new"`
	Rows    []Delta `json:"rows"`
	Largest string  `json:"largest,omitempty"` // the key of the lane whose duration changed most
}

// Delta is a lane in either run.
type Delta struct {
	Key    string `json:"key"`
	Status string `json:"status"` // changed (in both), appeared, vanished
	Old    *Lane  `json:"old,omitempty"`
	New    *Lane  `json:"new,omitempty"`
	Delta  Dur    `json:"delta"` // new duration - old; 0 unless in both
}

// Compare lines up the lanes of two runs by key.
func Compare(old, new *Report) *Comparison {
	c := &Comparison{Old: old, New: new}
	idx := map[string]int{}
	for i := range old.Lanes {
		l := &old.Lanes[i]
		idx[l.Key] = len(c.Rows)
		c.Rows = append(c.Rows, Delta{Key: l.Key, Status: "vanished", Old: l})
	}
	for i := range new.Lanes {
		l := &new.Lanes[i]
		j, ok := idx[l.Key]
		if !ok {
			c.Rows = append(c.Rows, Delta{Key: l.Key, Status: "appeared", New: l})
			continue
		}
		d := &c.Rows[j]
		d.Status, d.New, d.Delta = "changed", l, l.Took()-d.Old.Took()
	}
	slices.SortStableFunc(c.Rows, func(a, b Delta) int { return cmp.Compare(a.start(), b.start()) })
	var best Dur
	for _, d := range c.Rows {
		if a := abs(d.Delta); d.Status == "changed" && !isSpan(d.Key) && a > best {
			best, c.Largest = a, d.Key
		}
	}
	return c
}

func (d Delta) start() Dur {
	if d.New != nil {
		return d.New.Start
	}
	return d.Old.Start
}

func abs(d Dur) Dur { return max(d, -d) }

// timeline has a row per key: the old run's bar above the new's.
func (c *Comparison) timeline() view {
	a := newAxis(max(c.Old.Elapsed, c.New.Elapsed))
	var v view
	h := (rowHeight - 6) / 2
	for _, d := range c.Rows {
		y := axisHeight + rowHeight*float64(len(v.Rows))
		label := d.Key
		if d.Status == "changed" {
			label = fmt.Sprintf("%s %+.3fs", d.Key, d.Delta.S())
		} else {
			label += " (" + d.Status + ")"
		}
		r := row{Y: y, Label: label}
		if l := d.Old; l != nil {
			r.Bars = append(r.Bars, bar{X: a.x(l.Start), Y: y + 3, W: a.w(l.Start, l.End), H: h, Class: "bar old", Title: "old " + laneTitle(*l)})
		}
		if l := d.New; l != nil {
			r.Bars = append(r.Bars, bar{X: a.x(l.Start), Y: y + 3 + h, W: a.w(l.Start, l.End), H: h, Class: laneClass(*l), Title: "new " + laneTitle(*l)})
		}
		v.Rows = append(v.Rows, r)
	}
	for _, f := range c.New.Failures {
		v.Marks = append(v.Marks, mark{X: a.x(f.At), Class: f.Class, Title: fmt.Sprintf("new run: %s at %.3fs", f.Class, f.At.S())})
	}
	v.finish(a)
	return v
}

// WriteHTML writes the comparison as one self-contained page; oldName
// and newName say which runs they are.
func (c *Comparison) WriteHTML(w io.Writer, oldName, newName string) error {
	return page.ExecuteTemplate(w, "compare", struct {
		C        *Comparison
		V        view
		Old, New string
	}{c, c.timeline(), oldName, newName})
}

// Total is the change of power-on to the end, "5.126s -> 7.012s (+1.886s)".
func (c *Comparison) Total() string {
	return fmt.Sprintf("%.3fs -> %.3fs (%+.3fs)", c.Old.Elapsed.S(), c.New.Elapsed.S(), (c.New.Elapsed - c.Old.Elapsed).S())
}

// LargestChange is the lane that changed most and by how much; "none"
// when no lane is in both runs.
func (c *Comparison) LargestChange() string {
	for _, d := range c.Rows {
		if d.Key == c.Largest {
			return fmt.Sprintf("%s %+.3fs", d.Key, d.Delta.S())
		}
	}
	return "none"
}
