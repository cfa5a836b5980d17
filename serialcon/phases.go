package serialcon

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bootrig/bootrig/serialcon/patterns"
)

// Phase is a recognised stage of a boot.
type Phase string

// Boot phases in the order a network boot passes them.
const (
	PhaseUBoot    Phase = "U-Boot"          // a power-on's first banner (SPL's, or U-Boot proper's)
	PhaseAutoboot Phase = "autoboot"        // the countdown
	PhaseTFTP     Phase = "tftp"            // one transfer (see Step.Transfer)
	PhaseStart    Phase = "Starting kernel" // U-Boot hands over
	PhaseLinux    Phase = "Linux version"   // the kernel's first line
	PhaseNet      Phase = "IP-Config"       // the kernel has its network (nfsroot mounts next)
	PhaseRoot     Phase = "VFS: Mounted root"
	PhaseFreeing  Phase = "Freeing unused kernel memory"
	PhaseInit     Phase = "init"  // init started
	PhaseShell    Phase = "shell" // a shell prompt or login
)

// Failures recognised on the console. A [Failure] wraps one of them.
var (
	ErrStuckInUBoot     = errors.New("stuck in U-Boot: the kernel was never started")
	ErrNoKernelOutput   = errors.New("nothing after Starting kernel (wrong load address, console= or device tree?)")
	ErrKernelPanic      = errors.New("kernel panic")
	ErrNoInit           = errors.New("no working init found (check init= and the root filesystem)")
	ErrNoConsole        = errors.New("unable to open an initial console (no /dev/console in the root filesystem?)")
	ErrNFSNotResponding = errors.New("NFS server not responding")
	ErrBoardReset       = errors.New("board reset: U-Boot banner in the middle of the run")
	ErrUBootError       = errors.New("U-Boot reported an error")
	ErrRamdiskFormat    = errors.New("U-Boot: wrong ramdisk image format (the initrd is not a uImage, or bootm was given a bad address)")
	ErrImageFormat      = errors.New("U-Boot: no kernel image at bootm's address (the download failed, or a wrong address)")
	ErrRetryExceeded    = errors.New("U-Boot: retry count exceeded (no answer from the server)")
	ErrTFTPTimeout      = errors.New("TFTP timeout: the server did not answer U-Boot")
	ErrTFTPError        = errors.New("TFTP error from the server")
	ErrCPUReset         = errors.New("CPU reset")
	ErrOops             = errors.New("kernel oops")
	ErrKernelBug        = errors.New("kernel BUG")
	ErrUnhandledFault   = errors.New("unhandled fault in the kernel")
	ErrNoNetwork        = errors.New("U-Boot found no network interface (is the board's Ethernet chip supported, is the cable in?)")
	ErrBadImage         = errors.New("U-Boot rejected the image (bad checksum or magic: corrupt, or not a uImage for this board?)")
	ErrInitSIGILL       = errors.New("init died of SIGILL: the root filesystem's code is for a newer CPU than the board's " +
		"(fix: build it for the board's -march, as 'bootrig build --board B' does, and check it with qemu-arm-static -cpu MODEL)")
)

// classes are the failures' short names, as reports and CI show them.
var classes = map[error]string{
	ErrStuckInUBoot: "stuck-in-uboot", ErrNoKernelOutput: "no-kernel-output", ErrKernelPanic: "kernel-panic",
	ErrNoInit: "no-init", ErrNoConsole: "no-console", ErrNFSNotResponding: "nfs-not-responding",
	ErrBoardReset: "board-reset", ErrUBootError: "uboot-error", ErrRamdiskFormat: "wrong-ramdisk-format", ErrImageFormat: "wrong-image-format",
	ErrRetryExceeded: "retry-count-exceeded", ErrTFTPTimeout: "tftp-timeout", ErrTFTPError: "tftp-error",
	ErrCPUReset: "cpu-reset", ErrOops: "oops", ErrKernelBug: "kernel-bug", ErrUnhandledFault: "unhandled-fault",
	ErrNoNetwork: "no-network", ErrBadImage: "bad-image",
	ErrInitSIGILL: "init-sigill",
}

// Transfer is one TFTP download as U-Boot reports it.
type Transfer struct {
	File  string        // "uImage"
	Bytes int64         // from "Bytes transferred = N"
	Rate  string        // "3.5 MiB/s" as printed; "" for old U-Boots that print none
	End   time.Duration // since the start, at "Bytes transferred"; 0 before
}

// Failure is a failure seen on the console.
type Failure struct {
	Err  error         // one of the Err* sentinels
	At   time.Duration // since the start
	Line string        // the line that showed it; "" for a stall
}

func (f Failure) Error() string {
	if f.Line == "" {
		return fmt.Sprintf("at %.3fs: %v", f.At.Seconds(), f.Err)
	}
	return fmt.Sprintf("at %.3fs: %v: %q", f.At.Seconds(), f.Err, f.Line)
}

func (f Failure) Unwrap() error { return f.Err }

// Class is the failure's short name ("kernel-panic", "tftp-timeout"); a
// sentinel without one is named by its message.
func (f Failure) Class() string {
	if c, ok := classes[f.Err]; ok {
		return c
	}
	return fmt.Sprint(f.Err)
}

// Phases recognises boot phases and failures in console output. It is
// safe for concurrent use; a [Session] feeds it.
type Phases struct {
	mu       sync.Mutex
	start    time.Time
	shell    *regexp.Regexp
	steps    []Step
	failures []Failure
	lines    lines
	tftp     *Transfer
	stage    int  // the last U-Boot banner's stage (see bannerStage); 0 before one
	asked    bool // the next reset was asked for (ResetAsked)
}

// ResetAsked says the board's next reset is one its user asked for
// (bootrig typing U-Boot's reset after saveenv, to prove the environment
// survives): U-Boot's "resetting ..." and the power-on banner after it
// are then not failures. The banner ends it.
func (p *Phases) ResetAsked() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = true
}

// Step is a phase reached and how long it lasted.
type Step struct {
	Phase    Phase
	Start    time.Duration // since the start
	Duration time.Duration // until the next phase or the end
	Line     string
	Transfer *Transfer // for PhaseTFTP
}

// NewPhases tracks a boot that starts at start. shell is the board's shell
// prompt (recognised after the kernel started); nil for a default `[#$] $`.
func NewPhases(start time.Time, shell *regexp.Regexp) *Phases {
	if shell == nil {
		shell = patterns.Shell
	}
	return &Phases{start: start, shell: shell}
}

// lineRules say what each line pattern means for the boot; the patterns
// are the catalogue's.
var lineRules = []struct {
	re    *regexp.Regexp
	phase Phase
	err   error
	uboot bool // a U-Boot message: only before the kernel starts
	init  bool // only after init started and before a shell
}{
	{re: patterns.StartingKernel, phase: PhaseStart},
	{re: patterns.LinuxVersion, phase: PhaseLinux},
	{re: patterns.IPConfig, phase: PhaseNet},
	{re: patterns.MountedRoot, phase: PhaseRoot},
	{re: patterns.FreeingMemory, phase: PhaseFreeing},
	{re: patterns.InitStarted, phase: PhaseInit},
	{re: patterns.NoInit, err: ErrNoInit},
	{re: patterns.NoConsole, err: ErrNoConsole},
	{re: patterns.NFSNotResponding, err: ErrNFSNotResponding},
	{re: patterns.InitKilledBySIGILL, err: ErrInitSIGILL},
	{re: patterns.IllegalInstruction, err: ErrInitSIGILL, init: true},
	{re: patterns.KernelPanic, err: ErrKernelPanic},
	{re: patterns.UBootError, err: ErrUBootError, uboot: true},
	{re: patterns.RamdiskFormat, err: ErrRamdiskFormat, uboot: true},
	{re: patterns.ImageFormat, err: ErrImageFormat, uboot: true},
	{re: patterns.RetryExceeded, err: ErrRetryExceeded, uboot: true},
	{re: patterns.TFTPTimeout, err: ErrTFTPTimeout, uboot: true},
	{re: patterns.TFTPError, err: ErrTFTPError, uboot: true},
	{re: patterns.CPUReset, err: ErrCPUReset, uboot: true},
	{re: patterns.Oops, err: ErrOops},
	{re: patterns.KernelBug, err: ErrKernelBug},
	{re: patterns.UnhandledFault, err: ErrUnhandledFault},
	{re: patterns.NoEthernet, err: ErrNoNetwork, uboot: true},
	{re: patterns.BadImage, err: ErrBadImage, uboot: true},
}

// stages rank U-Boot's banners in the order one power-on prints them:
// TPL, VPL, SPL (patterns.SPLBanner), then U-Boot proper.
var stages = map[string]int{"TPL": 1, "VPL": 2, "SPL": 3}

const properStage = 4

// bannerStage is the rank of the U-Boot stage whose banner l is, 0 for
// no banner.
func bannerStage(l string) int {
	if m := patterns.SPLBanner.FindStringSubmatch(l); m != nil {
		return stages[m[1]]
	}
	if patterns.UBootBanner.MatchString(l) {
		return properStage
	}
	return 0
}

// Final says whether the failure ends the boot: nothing after it can
// recover. An NFS server that is not responding can come back.
func (f Failure) Final() bool { return !errors.Is(f.Err, ErrNFSNotResponding) }

// Failed is the first final failure seen so far, nil for none: a wait
// for the shell can end at once on it.
func (p *Phases) Failed() *Failure { return p.FailedSince(0) }

// FailedSince is the first final failure seen at or after d since the
// start: output a command's wait must not blame on it (what an earlier
// session left in the port's buffer) comes before d.
func (p *Phases) FailedSince(d time.Duration) *Failure {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.failures {
		if f.Final() && f.At >= d {
			return &f
		}
	}
	return nil
}

// Feed takes console bytes that arrived at t.
func (p *Phases) Feed(b []byte, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines.feed(b, t, func(text []byte, at time.Time) {
		p.onLine(strings.TrimRight(string(text), "\r"), at.Sub(p.start))
	})
	// Prompts end without a newline: the countdown and the shell are
	// recognised on the unfinished line.
	line, at := p.lines.partial, p.lines.at.Sub(p.start)
	if len(line) > 0 && !p.last(PhaseAutoboot) && patterns.Autoboot.Match(line) {
		p.mark(PhaseAutoboot, at, string(line))
	}
	if len(line) > 0 && p.reached(PhaseStart, PhaseLinux) && !p.reached(PhaseShell) {
		l := string(line)
		if p.shell.MatchString(l) || patterns.Login.MatchString(l) {
			p.mark(PhaseShell, at, l)
		}
	}
}

func (p *Phases) onLine(l string, at time.Duration) {
	if st := bannerStage(l); st > 0 {
		p.banner(st, at, l)
		return
	}
	switch {
	case patterns.Autoboot.MatchString(l):
		if !p.last(PhaseAutoboot) {
			p.mark(PhaseAutoboot, at, l)
		}
		return
	case patterns.TFTPStart.MatchString(l):
		p.tftp = &Transfer{}
		p.mark(PhaseTFTP, at, l)
		p.steps[len(p.steps)-1].Transfer = p.tftp
		return
	}
	if p.tftp != nil {
		if m := patterns.TFTPFile.FindStringSubmatch(l); m != nil {
			p.tftp.File = m[1]
		} else if m := patterns.TFTPRate.FindStringSubmatch(l); m != nil {
			p.tftp.Rate = m[1]
		} else if m := patterns.TFTPBytes.FindStringSubmatch(l); m != nil {
			p.tftp.Bytes, _ = strconv.ParseInt(m[1], 10, 64)
			p.tftp.End = at
			p.tftp = nil
		}
	}
	if patterns.PanicTraceEnd.MatchString(l) { // repeats the panic line: not a second failure
		return
	}
	for _, r := range lineRules {
		if !r.re.MatchString(l) || (r.uboot && p.reached(PhaseStart)) || (r.init && (!p.reached(PhaseInit) || p.reached(PhaseShell))) {
			continue
		}
		if r.err != nil {
			if !(p.asked && r.err == ErrCPUReset) {
				p.failures = append(p.failures, Failure{Err: r.err, At: at, Line: l})
			}
		} else if !p.reached(r.phase) {
			p.mark(r.phase, at, l)
		}
		return
	}
}

// banner takes the banner of a U-Boot stage. A later stage of the same
// power-on (SPL after TPL, U-Boot proper after SPL, nothing reached in
// between) continues its U-Boot step; any other banner is a power-on,
// and every power-on after the first a board reset.
func (p *Phases) banner(stage int, at time.Duration, l string) {
	if p.stage > 0 && stage > p.stage && p.last(PhaseUBoot) {
		p.stage = stage
		return
	}
	if p.stage > 0 && !p.asked {
		p.failures = append(p.failures, Failure{Err: ErrBoardReset, At: at, Line: l})
	}
	p.stage, p.asked = stage, false
	p.mark(PhaseUBoot, at, l)
}

func (p *Phases) mark(ph Phase, at time.Duration, line string) {
	p.steps = append(p.steps, Step{Phase: ph, Start: at, Line: line})
}

func (p *Phases) reached(phs ...Phase) bool {
	for _, s := range p.steps {
		for _, ph := range phs {
			if s.Phase == ph {
				return true
			}
		}
	}
	return false
}

func (p *Phases) last(ph Phase) bool { return len(p.steps) > 0 && p.steps[len(p.steps)-1].Phase == ph }

// Summary is the phases reached up to end, with durations, and the
// failures seen.
func (p *Phases) Summary(end time.Time) Summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Summary{Elapsed: end.Sub(p.start), Steps: append([]Step(nil), p.steps...), Failures: append([]Failure(nil), p.failures...)}
	for i := range s.Steps {
		next := s.Elapsed
		if i+1 < len(s.Steps) {
			next = s.Steps[i+1].Start
		}
		s.Steps[i].Duration = next - s.Steps[i].Start
		if t := s.Steps[i].Transfer; t != nil {
			c := *t
			s.Steps[i].Transfer = &c
		}
	}
	return s
}

// Summary is what a boot reached.
type Summary struct {
	Elapsed  time.Duration
	Steps    []Step
	Failures []Failure
}

// Reached says whether the boot got to ph.
func (s Summary) Reached(ph Phase) bool {
	for _, st := range s.Steps {
		if st.Phase == ph {
			return true
		}
	}
	return false
}

// Last is the last phase reached, "" for none.
func (s Summary) Last() Phase {
	if len(s.Steps) == 0 {
		return ""
	}
	return s.Steps[len(s.Steps)-1].Phase
}

// Transfers are the TFTP downloads seen.
func (s Summary) Transfers() []Transfer {
	var ts []Transfer
	for _, st := range s.Steps {
		if st.Transfer != nil {
			ts = append(ts, *st.Transfer)
		}
	}
	return ts
}

// Err explains a boot that did not reach the shell: the first failure
// seen, or where it stalled (ErrStuckInUBoot, ErrNoKernelOutput). It is
// nil once the shell was reached without failures.
func (s Summary) Err() error {
	if len(s.Failures) > 0 {
		return s.Failures[0]
	}
	if s.Reached(PhaseShell) {
		return nil
	}
	at := s.Elapsed
	switch s.Last() {
	case PhaseStart:
		return Failure{Err: ErrNoKernelOutput, At: at}
	case PhaseUBoot, PhaseAutoboot, PhaseTFTP:
		return Failure{Err: ErrStuckInUBoot, At: at}
	}
	return nil
}

// String is a table of phases with their start and duration, then the
// failures.
func (s Summary) String() string { return s.Table(0) }

// Table is String with a bar column width characters wide when width > 0:
// each phase's bar starts and ends where the phase does on a time axis
// from power-on to the end.
func (s Summary) Table(width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-30s %10s %10s\n", "phase", "at", "took")
	for _, st := range s.Steps {
		name := string(st.Phase)
		if t := st.Transfer; t != nil {
			name = fmt.Sprintf("tftp %s %d bytes", t.File, t.Bytes)
			if t.Rate != "" {
				name += " at " + t.Rate
			}
		}
		fmt.Fprintf(&b, "%-30s %9.3fs %9.3fs", name, st.Start.Seconds(), st.Duration.Seconds())
		if width > 0 {
			b.WriteString("  " + bar(st.Start, st.Duration, s.Elapsed, width))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-30s %9.3fs\n", "total", s.Elapsed.Seconds())
	if err := s.Err(); err != nil {
		fmt.Fprintf(&b, "failed: %v\n", err)
	}
	for i, f := range s.Failures {
		if i > 0 {
			fmt.Fprintf(&b, "also: %v\n", f)
		}
	}
	return b.String()
}

// bar draws [start, start+d) of a total-long axis in width characters:
// blanks up to the start, then at least one block.
func bar(start, d, total time.Duration, width int) string {
	if total <= 0 {
		return ""
	}
	from := int(int64(width) * int64(start) / int64(total))
	n := int(int64(width) * int64(d) / int64(total))
	from = min(from, width-1)
	n = max(1, min(n, width-from))
	return strings.Repeat(" ", from) + strings.Repeat("█", n)
}
