package crossbuild

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ErrStep marks a failed build command; the error names the phase and
// the full log.
var ErrStep = errors.New("build step failed")

// runner runs plan steps, keeping their full output in a log and showing
// progress: a bar on a terminal, else one line per phase.
type runner struct {
	Log     io.Writer // every line of every step's output
	LogPath string    // named in errors
	Out     io.Writer // progress, for people (stderr)
	Bar     bool      // draw a progress bar (Out is a terminal)
	// Tail is how many of a failed step's last output lines go to Out.
	Tail int
}

// Run runs one step and returns the number of objects it compiled.
func (r *runner) Run(ctx context.Context, s step) (int, error) {
	if len(s.Args) == 0 {
		return 0, fmt.Errorf("%s: empty command", s.Phase)
	}
	start := time.Now()
	fmt.Fprintf(r.Log, "### %s\n### cd %s && %s %s\n", s.Phase, s.Dir, strings.Join(s.Env, " "), strings.Join(s.Args, " "))
	cmd := exec.CommandContext(ctx, s.Args[0], s.Args[1:]...)
	stopGroupOnCancel(cmd)
	cmd.Dir = s.Dir
	cmd.Env = mergeEnv(os.Environ(), s.Env)
	if s.Answer {
		cmd.Stdin = newlines{}
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	prog := &progress{out: r.Out, bar: r.Bar, phase: s.Phase, want: s.Objects, tail: max(r.Tail, 1)}
	done := make(chan error, 1)
	go func() { done <- prog.copy(pr, r.Log) }()
	if !r.Bar || s.Objects == 0 {
		fmt.Fprintf(r.Out, "%s ...\n", s.Phase)
	}
	err := cmd.Run()
	pw.Close()
	<-done
	prog.finish()
	if err != nil {
		fmt.Fprintf(r.Out, "--- last %d lines of %s ---\n%s", len(prog.last), r.LogPath, strings.Join(prog.last, ""))
		return prog.n, fmt.Errorf("%s: %s: %w: %v (full log: %s)", s.Phase, strings.Join(s.Args, " "), ErrStep, err, r.LogPath)
	}
	if s.Objects > 0 {
		fmt.Fprintf(r.Out, "%s: %d objects in %s\n", s.Phase, prog.n, time.Since(start).Round(100*time.Millisecond))
	}
	return prog.n, nil
}

// stopWait is how long a cancelled step has, after SIGTERM, to exit
// (make removes the target it was writing) before its first process is
// killed and its output closed.
const stopWait = 5 * time.Second

// stopGroupOnCancel runs cmd in a process group of its own and, when its
// context is done, sends SIGTERM to the whole group. Killing only the
// top make was not enough: an out-of-tree kernel build is a make that
// runs a second make (and that one the compilers), which went on
// compiling with the output pipe open, so Run waited for it and the
// board's build lock stayed taken after an interrupted build.
func stopGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = stopWait
}

// mergeEnv returns base with add's keys replaced or appended.
func mergeEnv(base, add []string) []string {
	keys := map[string]bool{}
	for _, kv := range add {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	var out []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !keys[k] {
			out = append(out, kv)
		}
	}
	return append(out, add...)
}

// newlines reads as an endless stream of "\n": the default answer to
// every kconfig question.
type newlines struct{}

func (newlines) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '\n'
	}
	return len(p), nil
}

// progress follows make's output: it counts compiled objects (kbuild's
// "  CC  path" lines) and keeps the last lines for a failure report.
type progress struct {
	out   io.Writer
	bar   bool
	phase string
	want  int
	n     int
	tail  int
	last  []string
	drawn bool
}

func (p *progress) copy(r io.Reader, log io.Writer) error {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			io.WriteString(log, line)
			p.line(line)
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func (p *progress) line(l string) {
	if len(p.last) == p.tail {
		p.last = p.last[1:]
	}
	p.last = append(p.last, l)
	if !isObjectLine(l) {
		return
	}
	p.n++
	if p.bar && p.want > 0 {
		p.draw()
	}
}

// isObjectLine reports whether a kbuild output line announces a compiled
// object: "  CC      kernel/fork.o", "  AS      arch/arm/kernel/entry.o".
func isObjectLine(l string) bool {
	f := strings.Fields(l)
	if len(f) != 2 || !strings.HasPrefix(l, "  ") {
		return false
	}
	switch f[0] {
	case "CC", "AS", "HOSTCC":
		return strings.HasSuffix(f[1], ".o")
	}
	return false
}

func (p *progress) draw() {
	const width = 40
	want := max(p.want, p.n+1)
	filled := p.n * width / want
	fmt.Fprintf(p.out, "\r%-18s [%s%s] %d/~%d", p.phase, strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.n, p.want)
	p.drawn = true
}

func (p *progress) finish() {
	if p.drawn {
		fmt.Fprint(p.out, "\r\033[K")
	}
}
