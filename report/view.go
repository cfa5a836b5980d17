package report

import (
	"fmt"
	"math"
	"time"
)

// view is a timeline's geometry, computed here so the template only
// places what it is given.
type view struct {
	Width, Height float64
	LabelY        float64 // the failures' labels, under the lanes
	Ticks         []tick
	Rows          []row
	Bands         []band // gaps
	Marks         []mark // failures
}

type tick struct {
	X     float64
	Label string
}

type row struct {
	Y     float64
	Label string
	Bars  []bar
	Dots  []dot // milestones
}

type bar struct {
	X, Y, W, H float64
	Class      string
	Href       string
	Title      string
}

type dot struct {
	X, Y  float64
	Href  string
	Title string
}

type band struct {
	X, W  float64
	Href  string
	Title string
}

type mark struct {
	X      float64
	Anchor string // of its label: start, or end near the right edge
	Class  string // the failure's
	Href   string
	Title  string
}

// axis maps time to x.
type axis struct {
	total      time.Duration
	left, span float64
}

const (
	labelWidth = 260.0
	plotWidth  = 860.0
	rowHeight  = 22.0
	axisHeight = 24.0
)

func newAxis(total Dur) axis {
	return axis{total: max(time.Duration(total), time.Millisecond), left: labelWidth, span: plotWidth}
}

func (a axis) x(d Dur) float64 { return a.left + a.span*float64(d)/float64(a.total) }

// w is the width from..to, at least a visible sliver.
func (a axis) w(from, to Dur) float64 { return math.Max(2, a.x(to)-a.x(from)) }

// ticks are about ten round steps of the axis.
func (a axis) ticks() []tick {
	step := time.Millisecond
	for _, s := range []time.Duration{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000} {
		step = s * time.Millisecond
		if a.total/step <= 12 {
			break
		}
	}
	var ts []tick
	for t := time.Duration(0); t <= a.total; t += step {
		ts = append(ts, tick{X: a.x(Dur(t)), Label: fmt.Sprintf("%gs", t.Seconds())})
	}
	return ts
}

func (v *view) finish(a axis) {
	v.Width = labelWidth + plotWidth + 20
	v.LabelY = axisHeight + rowHeight*float64(len(v.Rows)) + 14
	v.Height = v.LabelY + 6
	v.Ticks = a.ticks()
	for i := range v.Marks {
		v.Marks[i].Anchor = "start"
		if v.Marks[i].X > labelWidth+plotWidth*0.8 {
			v.Marks[i].Anchor = "end"
		}
	}
}

func href(line int) string {
	if line < 0 {
		return ""
	}
	return fmt.Sprintf("#l%d", line)
}

func laneTitle(l Lane) string {
	t := fmt.Sprintf("%s: %.3fs at %.3fs", l.Name, l.Took().S(), l.Start.S())
	if l.Detail != "" {
		t += ", " + l.Detail
	}
	return t
}

func laneClass(l Lane) string {
	if l.Failed {
		return "bar " + l.Kind + " failed"
	}
	return "bar " + l.Kind
}

// timeline is one report's view: a row per lane, the printk milestones
// on a row of their own, the gaps and failures across all rows.
func (r *Report) timeline() view {
	a := newAxis(r.Elapsed)
	var v view
	for _, l := range r.Lanes {
		y := axisHeight + rowHeight*float64(len(v.Rows))
		label := l.Name
		if l.Detail != "" {
			label += " — " + l.Detail
		}
		v.Rows = append(v.Rows, row{Y: y, Label: label, Bars: []bar{{X: a.x(l.Start), Y: y + 3, W: a.w(l.Start, l.End),
			H: rowHeight - 6, Class: laneClass(l), Href: href(l.Line), Title: laneTitle(l)}}})
	}
	if len(r.Milestones) > 0 {
		y := axisHeight + rowHeight*float64(len(v.Rows))
		mr := row{Y: y, Label: "kernel (printk, aligned)"}
		for _, m := range r.Milestones {
			mr.Dots = append(mr.Dots, dot{X: a.x(m.At), Y: y + rowHeight/2, Href: href(m.Line),
				Title: fmt.Sprintf("%s: printk %.6fs = %.3fs host (line seen at %.3fs)", m.Name, m.Printk.S(), m.At.S(), m.Seen.S())})
		}
		v.Rows = append(v.Rows, mr)
	}
	if len(r.Initcalls) > 0 {
		y := axisHeight + rowHeight*float64(len(v.Rows))
		ir := row{Y: y, Label: fmt.Sprintf("initcalls over %v", InitcallThreshold)}
		for _, ic := range r.Initcalls {
			ir.Bars = append(ir.Bars, bar{X: a.x(ic.Start), Y: y + 3, W: a.w(ic.Start, ic.Start+ic.Took), H: rowHeight - 6,
				Class: "bar initcall", Href: href(ic.Line), Title: fmt.Sprintf("%s: %.3fs", ic.Name, ic.Took.S())})
		}
		v.Rows = append(v.Rows, ir)
	}
	for _, g := range r.Gaps {
		v.Bands = append(v.Bands, band{X: a.x(g.Start), W: a.w(g.Start, g.End), Href: href(g.After),
			Title: fmt.Sprintf("%.3fs without output: %q … %q", (g.End - g.Start).S(), r.Lines[g.Before].Text, r.Lines[g.After].Text)})
	}
	for _, f := range r.Failures {
		v.Marks = append(v.Marks, mark{X: a.x(f.At), Class: f.Class, Href: href(f.Line),
			Title: fmt.Sprintf("%s at %.3fs: %s", f.Class, f.At.S(), f.Message)})
	}
	v.finish(a)
	return v
}
