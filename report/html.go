package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var pageText string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"f":     func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"s":     func(d Dur) string { return fmt.Sprintf("%.3fs", d.S()) },
	"sign":  func(d Dur) string { return fmt.Sprintf("%+.3fs", d.S()) },
	"sub":   func(a, b Dur) Dur { return a - b },
	"href":  href,
	"line":  func(r *Report, i int) string { return visible(r.Lines[i].Text) },
	"vis":   visible,
	"trunc": trunc,
}).Parse(pageText))

func trunc(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// WriteHTML writes the report as one self-contained HTML page: the
// timeline in inline SVG, the tables, the whole console; no scripts, no
// links out.
func (r *Report) WriteHTML(w io.Writer) error {
	return page.ExecuteTemplate(w, "report", struct {
		R         *Report
		V         view
		Classes   []string
		Threshold time.Duration
	}{r, r.timeline(), r.lineClasses(), InitcallThreshold})
}

// lineClasses mark the console lines that follow a gap or show a failure.
func (r *Report) lineClasses() []string {
	cs := make([]string, len(r.Lines))
	for _, g := range r.Gaps {
		cs[g.After] = "gap-after"
	}
	for _, f := range r.Failures {
		if f.Line >= 0 {
			cs[f.Line] = "failure"
		}
	}
	return cs
}

// visible shows control characters (U-Boot's progress backspaces) as
// their Unicode control pictures.
func visible(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' {
			return 0x2400 + r
		}
		return r
	}, s)
}
