package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/report"
)

func reportCommand() *cli.Command {
	flags := append(boardFlags(),
		&cli.StringFlag{Name: "state", Usage: "the board's state `DIR` (default: ~/.cache/bootrig/BOARD/state)"},
		&cli.BoolFlag{Name: "compare", Usage: "compare two runs: bootrig report --compare OLD NEW"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the HTML to `FILE` (default: RUN_DIR/report.html, NEW/compare.html)"},
		&cli.StringFlag{Name: "junit", Usage: "also write JUnit XML to `FILE` (a test case per phase and per command)"},
		&cli.BoolFlag{Name: "json", Usage: "print the report as JSON on stdout instead of the HTML file's path"},
	)
	return &cli.Command{
		Name:  "report",
		Usage: "a boot's timeline as one HTML file: phases, kernel milestones, gaps, failures, the console",
		UsageText: "bootrig report [RUN_DIR] [--junit FILE] [--json] [-o FILE]\n" +
			"bootrig report --compare OLD NEW\n\n" +
			"A run is a directory under STATE/runs that 'bootrig up' keeps (the last 20); RUN_DIR may be\n" +
			"its path, its name, 'last' (the default) or 'prev' (the one before), or a log file that\n" +
			"'bootrig log -o FILE' or 'bootrig console --log FILE' wrote. Examples:\n" +
			"   bootrig report                       # the last boot: prints the report's path\n" +
			"   bootrig report --compare prev last   # what changed since the boot before",
		Flags:  flags,
		Action: runReport,
	}
}

// runs are the board's run directories.
func runs(c *cli.Context, board string, keep int) report.Runs {
	return report.Runs{Dir: filepath.Join(stateDir(c, board), "runs"), Keep: keep}
}

// resolveRun is a run named on the command line: a directory, a run's
// name, "last" or "prev".
func resolveRun(rs report.Runs, name string) (string, error) {
	if name == "last" || name == "prev" || name == "" {
		dirs, err := rs.List()
		if err != nil {
			return "", err
		}
		n := 1
		if name == "prev" {
			n = 2
		}
		if len(dirs) < n {
			return "", fmt.Errorf("run %q: %s: %w", name, rs.Dir, report.ErrNoRuns)
		}
		return dirs[len(dirs)-n], nil
	}
	if _, err := os.Stat(name); err == nil {
		return name, nil
	}
	if st, err := os.Stat(filepath.Join(rs.Dir, name)); err == nil && st.IsDir() {
		return filepath.Join(rs.Dir, name), nil
	}
	return "", fmt.Errorf("run %q: no such directory or log file, nor a run in %s", name, rs.Dir)
}

func runReport(c *cli.Context) error {
	p, err := board(c)
	if err != nil {
		return err
	}
	rs := runs(c, p.Name, 0)
	want := 1
	if c.Bool("compare") {
		want = 2
	}
	args, err := argsAtMost(c, want)
	if err != nil {
		return err
	}
	if c.Bool("compare") {
		if len(args) != 2 {
			return usagef("report", "--compare wants two runs, OLD and NEW")
		}
		return compareRuns(c, rs, args[0], args[1])
	}
	dir, err := resolveRun(rs, append(args, "")[0])
	if err != nil {
		return err
	}
	r, err := report.Load(dir)
	if err != nil {
		return err
	}
	return writeReport(c, r, dir)
}

// writeReport writes r's HTML (and JUnit), then prints its path, or r as
// JSON with --json.
func writeReport(c *cli.Context, r *report.Report, dir string) error {
	out := c.String("output")
	switch st, err := os.Stat(dir); {
	case out != "":
	case err == nil && !st.IsDir(): // a log file: its report beside it
		out = strings.TrimSuffix(dir, filepath.Ext(dir)) + ".html"
	default:
		out = filepath.Join(dir, report.HTMLFile)
	}
	if err := writeWith(out, r.WriteHTML); err != nil {
		return err
	}
	if j := c.String("junit"); j != "" {
		if err := writeWith(j, r.WriteJUnit); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, r)
	}
	fmt.Fprintln(c.App.Writer, out)
	return nil
}

func compareRuns(c *cli.Context, rs report.Runs, oldName, newName string) error {
	var reps [2]*report.Report
	var dirs [2]string
	for i, name := range []string{oldName, newName} {
		dir, err := resolveRun(rs, name)
		if err != nil {
			return err
		}
		if reps[i], err = report.Load(dir); err != nil {
			return err
		}
		dirs[i] = dir
	}
	cmp := report.Compare(reps[0], reps[1])
	out := c.String("output")
	if out == "" {
		out = filepath.Join(dirs[1], report.CompareFile)
	}
	err := writeWith(out, func(w io.Writer) error {
		return cmp.WriteHTML(w, filepath.Base(dirs[0]), filepath.Base(dirs[1]))
	})
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, cmp)
	}
	fmt.Fprintln(c.App.Writer, out)
	return nil
}

// writeWith writes a file whole with write.
func writeWith(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".report-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	os.Chmod(f.Name(), 0o644)
	return os.Rename(f.Name(), path)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// upRun is the run directory a 'bootrig up' records.
type upRun struct {
	dir     string
	rec     report.Record
	runs    report.Runs
	compare string // the run to compare with, resolved before this one existed
}

// startRun makes the run directory of a boot, after resolving --compare
// (so that "last" is the run before this one).
func startRun(c *cli.Context, board, shellPrompt string) (*upRun, error) {
	rs := runs(c, board, c.Int("keep-runs"))
	r := &upRun{runs: rs, rec: report.Record{Board: board, Started: time.Now(), ShellPrompt: shellPrompt}}
	if name := c.String("compare"); name != "" {
		var err error
		if r.compare, err = resolveRun(rs, name); err != nil {
			return nil, fmt.Errorf("--compare: %w", err)
		}
	}
	var err error
	r.dir, err = rs.Create(r.rec.Started)
	return r, err
}

// command records a command run in the board's shell.
func (r *upRun) command(cmd report.Command) { r.rec.Commands = append(r.rec.Commands, cmd) }

// finish writes the record and the report, the JUnit file and the
// comparison when asked, and drops the oldest runs. It runs after the
// console is closed, so the log is complete.
func (r *upRun) finish(c *cli.Context) error {
	if err := r.rec.Save(r.dir); err != nil {
		return err
	}
	rep, err := report.Load(r.dir)
	if err != nil {
		return err
	}
	path := filepath.Join(r.dir, report.HTMLFile)
	if err := writeWith(path, rep.WriteHTML); err != nil {
		return err
	}
	if j := c.String("junit"); j != "" {
		if err := writeWith(j, rep.WriteJUnit); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	w := c.App.ErrWriter
	if r.compare != "" {
		if path, err = r.compareWith(rep, w); err != nil {
			return err
		}
	}
	if c.Bool("report") || r.compare != "" {
		fmt.Fprintf(w, "report: %s\n", path)
	}
	return r.runs.Prune()
}

func (r *upRun) compareWith(rep *report.Report, w io.Writer) (string, error) {
	old, err := report.Load(r.compare)
	if err != nil {
		return "", fmt.Errorf("--compare: %w", err)
	}
	cmp := report.Compare(old, rep)
	fmt.Fprintf(w, "compared with %s: %s, largest change: %s\n", r.compare, cmp.Total(), cmp.LargestChange())
	path := filepath.Join(r.dir, report.CompareFile)
	return path, writeWith(path, func(w io.Writer) error {
		return cmp.WriteHTML(w, filepath.Base(r.compare), filepath.Base(r.dir))
	})
}
