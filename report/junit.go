package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, as Jenkins, GitLab and junitparser read it.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Skipped   int         `xml:"skipped,attr"`
		Time      string      `xml:"time,attr"`
		Timestamp string      `xml:"timestamp,attr,omitempty"`
		Cases     []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Type    string `xml:"type,attr"`
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
)

// contextLines is how many console lines a failure shows on each side.
const contextLines = 3

// WriteJUnit writes the boot as a JUnit test suite: a test case per
// phase (failing with the failures seen in it, their class as the type,
// the console lines around them as the text), one for the shell prompt if
// it was never reached, and one per command (failing on a non-zero
// status).
func (r *Report) WriteJUnit(w io.Writer) error {
	s := r.junitSuite()
	doc := junitSuites{Name: "bootrig", Tests: s.Tests, Failures: s.Failures, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (r *Report) junitSuite() junitSuite {
	board := r.Board
	if board == "" {
		board = "board"
	}
	s := junitSuite{Name: "boot " + board, Time: secs(r.Elapsed)}
	if !r.Started.IsZero() {
		s.Timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	phase, run := "bootrig."+board+".phase", "bootrig."+board+".run"
	reached := false
	for _, l := range r.Lanes {
		c := junitCase{Classname: phase, Name: l.Key, Time: secs(l.Took())}
		switch {
		case l.Kind == "run":
			c.Classname, c.Failure = run, r.commandFailure(l)
		case l.Kind == "shell":
			reached = true
		case !isSpan(l.Key):
			c.Failure = r.phaseFailure(l.Key)
		}
		s.Cases = append(s.Cases, c)
	}
	if !reached {
		s.Cases = append(s.Cases, junitCase{Classname: phase, Name: "shell", Time: "0", Failure: r.shellFailure()})
	}
	for _, c := range s.Cases {
		if c.Failure != nil {
			s.Failures++
		}
	}
	s.Tests = len(s.Cases)
	return s
}

// shellFailure fails the shell prompt a boot never reached, with the
// class of its first failure, or "not-reached".
func (r *Report) shellFailure() *junitFailure {
	f := &junitFailure{Type: "not-reached", Message: "no shell prompt: " + r.Err}
	if len(r.Failures) > 0 {
		f.Type = r.Failures[0].Class
	}
	return f
}

func secs(d Dur) string { return fmt.Sprintf("%.3f", d.S()) }

// phaseFailure is the failures seen in the phase key, nil for none: the
// first one's class and message, every one's console lines.
func (r *Report) phaseFailure(key string) *junitFailure {
	var jf *junitFailure
	var text strings.Builder
	for _, f := range r.Failures {
		if f.Phase != key {
			continue
		}
		if jf == nil {
			jf = &junitFailure{Type: f.Class, Message: fmt.Sprintf("%s at %.3fs: %s", f.Class, f.At.S(), f.Message)}
		}
		fmt.Fprintf(&text, "%s at %.3fs: %s\n", f.Class, f.At.S(), f.Message)
		r.context(&text, f.Line)
	}
	if jf != nil {
		jf.Text = text.String()
	}
	return jf
}

// context writes the console lines around line i, marking it.
func (r *Report) context(w io.Writer, i int) {
	if i < 0 {
		return
	}
	for j := max(0, i-contextLines); j < min(len(r.Lines), i+contextLines+1); j++ {
		m := "  "
		if j == i {
			m = "> "
		}
		l := r.Lines[j]
		fmt.Fprintf(w, "%s[%12.6f +%.6f] %s\n", m, l.At.S(), l.Delta.S(), l.Text)
	}
}

// commandFailure fails a command with a non-zero status, with its output.
func (r *Report) commandFailure(l Lane) *junitFailure {
	if !l.Failed {
		return nil
	}
	var text strings.Builder
	for i := max(l.Line, 0); i < len(r.Lines) && r.Lines[i].At <= l.End; i++ {
		fmt.Fprintf(&text, "[%12.6f] %s\n", r.Lines[i].At.S(), r.Lines[i].Text)
	}
	return &junitFailure{Type: "exit-status", Message: l.Name + ": " + l.Detail, Text: text.String()}
}
