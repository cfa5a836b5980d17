package report

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bootrig/bootrig/serialcon"
)

// Report is one boot laid out on a time axis from power-on.
type Report struct {
	Board      string      `json:"board,omitempty"`
	Started    time.Time   `json:"started,omitzero"`
	Elapsed    Dur         `json:"elapsed"` // power-on to the last line or command
	Err        string      `json:"error,omitempty"`
	Lanes      []Lane      `json:"lanes"`
	Kernel     Alignment   `json:"kernel"`
	Milestones []Milestone `json:"milestones,omitempty"`
	Initcalls  []Initcall  `json:"initcalls,omitempty"` // initcall_debug's, the long ones
	Gaps       []Gap       `json:"gaps"`
	Failures   []Failure   `json:"failures,omitempty"`
	Commands   []Command   `json:"commands,omitempty"`
	Lines      []Line      `json:"lines"`
}

// Lane is one bar of the timeline: a phase, a span of phases, a TFTP
// transfer or a command.
type Lane struct {
	Key    string `json:"key"` // unique in a report, the same across runs
	Name   string `json:"name"`
	Kind   string `json:"kind"` // uboot, tftp, kernel, nfs, init, shell, run
	Start  Dur    `json:"start"`
	End    Dur    `json:"end"`
	Detail string `json:"detail,omitempty"`
	Line   int    `json:"line"`             // index of its first console line; -1: none
	Failed bool   `json:"failed,omitempty"` // a command with a non-zero status
}

// Took is how long the lane lasted.
func (l Lane) Took() Dur { return l.End - l.Start }

// Gap is a silence between two consecutive console lines.
type Gap struct {
	Start  Dur `json:"start"`
	End    Dur `json:"end"`
	Before int `json:"before"` // index of the line before it
	After  int `json:"after"`
}

// Failure is a failure seen on the console, or where the boot stalled.
type Failure struct {
	Class   string `json:"class"` // serialcon.Failure.Class: "kernel-panic"
	Message string `json:"message"`
	At      Dur    `json:"at"`
	Phase   string `json:"phase"` // the lane key of the phase it happened in
	Line    int    `json:"line"`  // -1 for a stall
}

// Line is one console line.
type Line struct {
	At    Dur    `json:"at"`
	Delta Dur    `json:"delta"`
	Text  string `json:"text"`
}

// Load reads a run directory: its boot.log and, when there, its run.json.
// A file is read as a log alone (`bootrig log -o FILE`, `bootrig console
// --log FILE`).
func Load(dir string) (*Report, error) {
	var rec Record
	path := dir
	if st, err := os.Stat(dir); err != nil || st.IsDir() {
		if rec, err = LoadRecord(dir); err != nil {
			return nil, err
		}
		path = filepath.Join(dir, LogFile)
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: not a run directory: %w", dir, err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lines, err := serialcon.ReadLog(f, path)
	if err != nil {
		return nil, err
	}
	return New(rec, lines)
}

// New lays out a boot from its console log and record.
func New(rec Record, log []serialcon.LogLine) (*Report, error) {
	var shell *regexp.Regexp
	if rec.ShellPrompt != "" {
		var err error
		if shell, err = regexp.Compile(rec.ShellPrompt); err != nil {
			return nil, fmt.Errorf("%s: shell_prompt: %w", RecordFile, err)
		}
	}
	r := &Report{Board: rec.Board, Started: rec.Started, Commands: rec.Commands, Lines: make([]Line, len(log))}
	for i, l := range log {
		r.Lines[i] = Line{At: Dur(l.At), Delta: Dur(l.Delta), Text: l.Text}
		r.Elapsed = max(r.Elapsed, Dur(l.At))
	}
	for _, c := range rec.Commands {
		r.Elapsed = max(r.Elapsed, c.End)
	}
	s := replay(log, shell, time.Duration(r.Elapsed))
	if err := s.Err(); err != nil {
		r.Err = err.Error()
	}
	r.Lanes = r.lanes(s)
	r.Kernel = align(r.Lines, s)
	r.Milestones = r.milestones(s)
	r.Initcalls = r.initcalls()
	r.Gaps = gaps(r.Lines, topGaps)
	r.Failures = r.failures(s)
	return r, nil
}

// replay feeds the log to serialcon's tracker a word at a time, so that
// a prompt (they end in a blank: "# ", "login: ", the countdown's "0 ")
// followed on its line by the echo of what was typed is recognised on the
// unfinished line, as it was live.
func replay(log []serialcon.LogLine, shell *regexp.Regexp, end time.Duration) serialcon.Summary {
	t0 := time.Unix(0, 0)
	p := serialcon.NewPhases(t0, shell)
	for _, l := range log {
		at := t0.Add(l.At)
		for _, w := range strings.SplitAfter(l.Text, " ") {
			p.Feed([]byte(w), at)
		}
		p.Feed([]byte{'\n'}, at)
	}
	return p.Summary(t0.Add(end))
}

// lineAt is the index of the first line at or after at whose text starts
// with text (the first at or after at if none does); -1 if there is none.
func (r *Report) lineAt(at time.Duration, text string) int {
	at = at.Truncate(time.Microsecond) // the log's resolution
	i, _ := slices.BinarySearchFunc(r.Lines, Dur(at), func(l Line, t Dur) int { return cmp.Compare(l.At, t) })
	if i == len(r.Lines) {
		return -1
	}
	text = strings.ReplaceAll(text, "\r", "")
	for j := i; j < len(r.Lines) && r.Lines[j].At == r.Lines[i].At; j++ {
		if text != "" && strings.HasPrefix(r.Lines[j].Text, text) {
			return j
		}
	}
	return i
}
