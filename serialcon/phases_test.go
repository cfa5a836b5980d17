package serialcon

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// feedLines feeds text to p one line per step from start.
func feedLines(p *Phases, start time.Time, text string, step time.Duration) time.Time {
	t := start
	for _, l := range strings.SplitAfter(text, "\n") {
		t = t.Add(step)
		p.Feed([]byte(l), t)
	}
	return t
}

// networkBoot are the phases of a boot over TFTP and NFS to the shell.
var networkBoot = []Phase{PhaseUBoot, PhaseAutoboot, PhaseTFTP, PhaseStart, PhaseLinux, PhaseNet, PhaseRoot, PhaseFreeing, PhaseInit, PhaseShell}

func TestPhasesOfANetworkBoot(t *testing.T) {
	data, err := os.ReadFile("testdata/boot-nfs.txt")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := NewPhases(start, nil)
	end := feedLines(p, start, string(data), 100*time.Millisecond)
	s := p.Summary(end)
	var got []Phase
	for _, st := range s.Steps {
		got = append(got, st.Phase)
	}
	if strings.Join(phaseNames(got), ",") != strings.Join(phaseNames(networkBoot), ",") {
		t.Fatalf("phases %v, want %v", got, networkBoot)
	}
	if err := s.Err(); err != nil {
		t.Errorf("a good boot has an error: %v", err)
	}
	tr := s.Transfers()
	if len(tr) != 1 || tr[0] != (Transfer{File: "uImage", Bytes: 1412216, Rate: "11.2 MiB/s", End: 2 * time.Second}) {
		t.Errorf("transfers %+v", tr)
	}
	if s.Steps[0].Start != 200*time.Millisecond || s.Steps[1].Start != 1100*time.Millisecond || s.Steps[0].Duration != 900*time.Millisecond {
		t.Errorf("U-Boot at %v for %v, autoboot at %v", s.Steps[0].Start, s.Steps[0].Duration, s.Steps[1].Start)
	}
	out := s.String()
	for _, w := range []string{"tftp uImage 1412216 bytes at 11.2 MiB/s", "Linux version", "shell", "total"} {
		if !strings.Contains(out, w) {
			t.Errorf("summary lacks %q:\n%s", w, out)
		}
	}
	t.Logf("\n%s", out)
}

func phaseNames(ps []Phase) []string {
	var s []string
	for _, p := range ps {
		s = append(s, string(p))
	}
	return s
}

func TestPhasesNameFailures(t *testing.T) {
	uboot := "U-Boot 2023.01\r\nHit any key to stop autoboot:  0\r\n"
	kernel := uboot + "Starting kernel ...\r\n\r\n[    0.000000] Linux version 6.1.0 #1\r\n"
	for _, tc := range []struct {
		name, text string
		want       error
	}{
		{"stuck in U-Boot", uboot + "=> ", ErrStuckInUBoot},
		{"stuck in TFTP", uboot + "TFTP from server 192.168.7.1; our IP address is 192.168.7.2\r\nLoading: T T T ", ErrStuckInUBoot},
		{"silent kernel", uboot + "Starting kernel ...\r\n\r\n", ErrNoKernelOutput},
		{"panic", kernel + "[    1.0] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,255)\r\n", ErrKernelPanic},
		{"no init", kernel + "[    1.0] Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.\r\n", ErrNoInit},
		{"requested init", kernel + "[    0.9] Kernel panic - not syncing: Requested init /sbin/nope failed (error -2).\r\n", ErrNoInit},
		{"no init alone", kernel + "[    1.0] No init found.\r\n", ErrNoInit},
		{"no console", kernel + "[    1.0] Warning: unable to open an initial console.\r\n", ErrNoConsole},
		{"nfs", kernel + "[   30.0] nfs: server 192.168.7.1 not responding, still trying\r\n", ErrNFSNotResponding},
		{"reset", kernel + "\r\nU-Boot 2023.01\r\n", ErrBoardReset},
		{"prompt in U-Boot is not a shell", "U-Boot 1.3.2-mini2440\r\nMINI2440 # ", ErrStuckInUBoot},
		{"U-Boot error", uboot + "## Error: \"bootcmd\" not defined\r\n", ErrUBootError},
		{"ramdisk", uboot + "Wrong Ramdisk Image Format\r\n", ErrRamdiskFormat},
		{"image", uboot + "Wrong Image Format for bootm command\r\nERROR: can't get kernel image!\r\n", ErrImageFormat},
		{"tftp timeout at the start", uboot + "TFTP from server 192.168.7.1; our IP address is 192.168.8.2; sending through gateway 192.168.7.1\r\nLoading: *\bT T T \r\n", ErrTFTPTimeout},
		{"tftp timeout", uboot + "TFTP from server 192.168.7.1; our IP address is 192.168.7.2\r\nLoading: T T T T \r\n", ErrTFTPTimeout},
		{"tftp timeout mid-transfer", uboot + "TFTP from server 192.168.7.1; our IP address is 192.168.7.2\r\nLoading: ######T #####\r\n", ErrTFTPTimeout},
		{"retry", uboot + "ARP Retry count exceeded; starting again\r\n", ErrRetryExceeded},
		{"tftp error", uboot + "TFTP error: 'File not found' (1)\r\n", ErrTFTPError},
		{"cpu reset", uboot + "=> reset\r\nresetting ...\r\n", ErrCPUReset},
		{"oops", kernel + "[    2.0] Internal error: Oops: 5 [#1] ARM\r\n", ErrOops},
		{"BUG", kernel + "[    2.0] BUG: scheduling while atomic: swapper/0/1/0x00000002\r\n", ErrKernelBug},
		{"unhandled fault", kernel + "[    2.0] Unhandled fault: alignment exception (0x001) at 0xc0001234\r\n", ErrUnhandledFault},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Unix(0, 0)
			p := NewPhases(start, nil)
			end := feedLines(p, start, tc.text, time.Second)
			err := p.Summary(end).Err()
			if !errors.Is(err, tc.want) {
				t.Fatalf("Err() = %v, want %v", err, tc.want)
			}
			var f Failure
			if !errors.As(err, &f) || f.At <= 0 {
				t.Errorf("failure has no time: %#v", err)
			}
		})
	}
}

// TestResetAsked: the reset that follows saveenv when bootrig proves the
// environment survives is not a failure; one more reset after it is.
func TestResetAsked(t *testing.T) {
	uboot := "U-Boot 2023.01\r\nHit any key to stop autoboot:  0\r\n=> "
	start := time.Unix(0, 0)
	p := NewPhases(start, nil)
	end := feedLines(p, start, uboot+"saveenv\r\nSaving Environment to Flash... done\r\nOK\r\n=> ", time.Second)
	p.ResetAsked()
	end = feedLines(p, end, "reset\r\nresetting ...\r\n\r\n"+uboot, time.Second)
	if fs := p.Summary(end).Failures; len(fs) != 0 {
		t.Fatalf("failures after the reset asked for: %v", fs)
	}
	end = feedLines(p, end, "reset\r\nresetting ...\r\n\r\n"+uboot, time.Second)
	var got []error
	for _, f := range p.Summary(end).Failures {
		got = append(got, f.Err)
	}
	if len(got) != 2 || got[0] != ErrCPUReset || got[1] != ErrBoardReset {
		t.Errorf("failures after a second reset, not asked for: %v, want CPU reset and board reset", got)
	}
}

func TestFailureClassesAreNamed(t *testing.T) {
	for err, want := range map[error]string{ErrKernelPanic: "kernel-panic", ErrTFTPTimeout: "tftp-timeout", errors.New("new kind"): "new kind"} {
		if got := (Failure{Err: err}).Class(); got != want {
			t.Errorf("Class of %v = %q, want %q", err, got, want)
		}
	}
}

func TestTableBarsFollowTheTimeAxis(t *testing.T) {
	s := Summary{Elapsed: 10 * time.Second, Steps: []Step{
		{Phase: PhaseUBoot, Start: 0, Duration: 5 * time.Second},
		{Phase: PhaseStart, Start: 5 * time.Second, Duration: 5 * time.Second},
		{Phase: PhaseShell, Start: 10 * time.Second},
	}}
	lines := strings.Split(s.Table(10), "\n")
	for i, want := range []string{"  █████", "       █████", "           █"} {
		if !strings.HasSuffix(lines[i+1], want) {
			t.Errorf("row %d %q does not end in %q", i, lines[i+1], want)
		}
	}
	if s.Table(0) != s.String() || strings.Contains(s.String(), "█") {
		t.Errorf("String has bars:\n%s", s)
	}
}

func TestPanicEndMarkerIsNotASecondFailure(t *testing.T) {
	start := time.Unix(0, 0)
	p := NewPhases(start, nil)
	end := feedLines(p, start, "[    1.1] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\r\n"+
		"[    1.2] ---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100 ]---\r\n", time.Second)
	if fs := p.Summary(end).Failures; len(fs) != 1 || !errors.Is(fs[0], ErrKernelPanic) {
		t.Errorf("failures %v", fs)
	}
}

// TestUBootFailuresOnlyInUBoot: a command's output after the kernel
// started is not taken for U-Boot's messages.
func TestUBootFailuresOnlyInUBoot(t *testing.T) {
	start := time.Unix(0, 0)
	p := NewPhases(start, nil)
	end := feedLines(p, start, "U-Boot 2023.01\r\nStarting kernel ...\r\n[    0.0] Linux version 6.1\r\n/ # echo T\r\nT\r\n## Error: x\r\nresetting ...\r\n", time.Second)
	if fs := p.Summary(end).Failures; len(fs) != 0 {
		t.Errorf("failures %v", fs)
	}
}

// TestInitSIGILL: init dying of signal 4 on a board whose CPU is older
// than its root filesystem's code is named as such, not as a bare panic.
func TestInitSIGILL(t *testing.T) {
	composed, err := os.ReadFile("testdata/init-sigill.txt")
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := os.ReadFile("testdata/init-sigill-qemu.txt")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, console string
		want          error
		then          string // fed after console, e.g. after a prompt
	}{
		{"recorded: the emulated board's init dies of SIGILL", string(recorded), ErrInitSIGILL, ""},
		{"a mini2440's console", string(composed), ErrInitSIGILL, ""},
		{"core dumped (0x84)", "Run /linuxrc as init process\nKernel panic - not syncing: Attempted to kill init! exitcode=0x00000084\n", ErrInitSIGILL, ""},
		{"shell's message after init started", "Linux version 6.1.0\nRun /sbin/init as init process\nIllegal instruction\n", ErrInitSIGILL, ""},
		{"kernel's user_debug message", "Linux version 6.1.0\nRun /sbin/init as init process\n[    2.7] init (1): undefined instruction: pc=00010200\n", ErrInitSIGILL, ""},
		{"init killed by SIGSEGV is another panic", "Run /sbin/init as init process\nKernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b\n", ErrKernelPanic, ""},
		{"Illegal instruction in the shell is the user's", "Linux version 6.1.0\nRun /sbin/init as init process\n/ # ", nil, "./a.out\nIllegal instruction\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPhases(start, nil)
			end := feedLines(p, start, tc.console, 10*time.Millisecond)
			s := p.Summary(feedLines(p, end, tc.then, 10*time.Millisecond))
			err := s.Err()
			if tc.want == nil {
				if len(s.Failures) > 0 {
					t.Errorf("failures %v, want none", s.Failures)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Err() = %v, want %v", err, tc.want)
			}
			if tc.want == ErrInitSIGILL && !strings.Contains(err.Error(), "newer CPU than the board's") {
				t.Errorf("error %q does not explain the cause", err)
			}
			var f Failure
			if errors.As(err, &f) && tc.want == ErrInitSIGILL && f.Class() != "init-sigill" {
				t.Errorf("class %q, want init-sigill", f.Class())
			}
		})
	}
}

// TestSPLThenUBootIsOnePowerOn checks that a U-Boot whose SPL (or TPL,
// then SPL) prints a banner before U-Boot proper's is one power-on, and
// that a banner after U-Boot proper's, or a stage's own again, is a reset.
func TestSPLThenUBootIsOnePowerOn(t *testing.T) {
	boot, err := os.ReadFile("testdata/boot-spl.txt")
	if err != nil {
		t.Fatal(err)
	}
	const (
		tpl   = "\r\nU-Boot TPL 2023.01+dfsg-2 (Jan 11 2023 - 16:20:00 +0000)\r\n"
		spl   = "\r\nU-Boot SPL 2023.01+dfsg-2 (Jan 11 2023 - 16:20:00 +0000)\r\nDRAM: 1024 MiB\r\nTrying to boot from MMC1\r\n"
		uboot = "\r\n\r\nU-Boot 2023.01+dfsg-2 (Jan 11 2023 - 16:20:00 +0000) Allwinner Technology\r\n\r\nHit any key to stop autoboot:  0 \r\n"
	)
	for _, tc := range []struct {
		name       string
		text       string
		ubootSteps int
		resets     int
		good       bool // a boot to the shell without a failure
	}{
		{"SPL then U-Boot, booted", string(boot), 1, 0, true},
		{"TPL, SPL, U-Boot", tpl + spl + uboot, 1, 0, false},
		{"U-Boot alone", uboot, 1, 0, false},
		{"a reset after the shell", string(boot) + "\r\n" + string(boot), 2, 1, false},
		{"U-Boot resets into SPL", spl + uboot + "=> reset\r\nresetting ...\r\n" + spl + uboot, 2, 1, false},
		{"SPL resets", spl + spl + uboot, 2, 1, false},
		{"U-Boot without SPL resets", uboot + uboot, 2, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Unix(0, 0)
			p := NewPhases(start, nil)
			s := p.Summary(feedLines(p, start, tc.text, 100*time.Millisecond))
			var ubootSteps, resets int
			for _, st := range s.Steps {
				if st.Phase == PhaseUBoot {
					ubootSteps++
				}
			}
			for _, f := range s.Failures {
				if errors.Is(f, ErrBoardReset) {
					resets++
				}
			}
			if ubootSteps != tc.ubootSteps || resets != tc.resets {
				t.Errorf("%d U-Boot steps and %d board resets, want %d and %d; failures %v", ubootSteps, resets, tc.ubootSteps, tc.resets, s.Failures)
			}
			if s.Steps[0].Phase != PhaseUBoot || !strings.HasPrefix(s.Steps[0].Line, "U-Boot ") {
				t.Errorf("first step %+v, want U-Boot at the first banner", s.Steps[0])
			}
			if !tc.good {
				return
			}
			var got []Phase
			for _, st := range s.Steps {
				got = append(got, st.Phase)
			}
			if strings.Join(phaseNames(got), ",") != strings.Join(phaseNames(networkBoot), ",") || s.Err() != nil {
				t.Errorf("a good boot: phases %v, error %v; want %v and none", got, s.Err(), networkBoot)
			}
		})
	}
}
