package uboot_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/lab/up"
	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/uboot"
	"github.com/bootrig/bootrig/uboot/ubootfake"
)

// dialectFor is the driver's dialect for a fake: the shipped profile of
// the board the fake imitates, with the fake's buffer size.
func dialectFor(t *testing.T, fd ubootfake.Dialect) uboot.Dialect {
	t.Helper()
	name := "qemu-arm"
	if fd.OldCountdown {
		name = "mini2440"
	}
	p, err := boards.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	d := up.Dialect(p)
	d.CBSize = fd.CBSize
	return d
}

type rig struct {
	board *ubootfake.Board
	sess  *serialcon.Session
	drv   *uboot.Driver
	raw   *syncBuf
}

func newRig(t *testing.T, fd ubootfake.Dialect, opts ...ubootfake.Option) *rig {
	t.Helper()
	b := ubootfake.New(fd, opts...)
	raw := &syncBuf{}
	s := serialcon.NewSession(b, serialcon.Options{Name: "fake:" + fd.Name, Raw: raw})
	t.Cleanup(func() { s.Close() })
	return &rig{board: b, sess: s, drv: uboot.New(s, dialectFor(t, fd)), raw: raw}
}

// syncBuf is a log the session's reader writes while the test reads it.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// bootargs is a random kernel command line of exactly n characters in
// words of 12-30, as long words as real ones (nfsroot=..., ip=...).
func bootargs(r *rand.Rand, n int) string {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789=,.:/_-"
	var b strings.Builder
	for b.Len() < n {
		w := 12 + r.IntN(19)
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		for i := 0; i < w && b.Len() < n; i++ {
			b.WriteByte(alpha[r.IntN(len(alpha))])
		}
	}
	s := strings.TrimRight(b.String()[:n], " ")
	for len(s) < n {
		s += "x"
	}
	return s
}

// TestSetenv240Every is the proof of loss-free typing: a 240-character
// bootargs goes into every dialect correctly 100 times out of 100, checked
// in the fake board's own memory, not through the driver.
func TestSetenv240Every(t *testing.T) {
	for _, fd := range []ubootfake.Dialect{
		ubootfake.Modern(), ubootfake.Mini2440(), ubootfake.SlowUART(),
		ubootfake.Truncating(), ubootfake.Resetting(), ubootfake.Noisy(),
	} {
		t.Run(fd.Name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, fd)
			ctx := ctxFor(t, 2*time.Minute)
			if _, err := r.drv.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(1, uint64(len(fd.Name))))
			for run := 0; run < 100; run++ {
				want := bootargs(rnd, 240)
				if err := r.drv.Setenv(ctx, "bootargs", want); err != nil {
					raw := r.raw.String()
					t.Fatalf("run %d: %v\nlast output: %q", run, err, raw[max(0, len(raw)-600):])
				}
				if got := r.board.Env()["bootargs"]; got != want {
					t.Fatalf("run %d: board has bootargs\n%q\nwant\n%q", run, got, want)
				}
			}
			rx, dropped, resets := r.board.Stats()
			t.Logf("%s: %d bytes typed, %d lost on the line, %d resets, %d boots seen", fd.Name, rx, dropped, resets, r.drv.Boots())
			if fd.LossOneIn > 0 || fd.ResetEvery > 0 || fd.MinGap > 0 {
				if dropped == 0 && resets == 0 {
					t.Errorf("the faulty line never faulted: the test proves nothing")
				}
			}
		})
	}
}

func TestSyncFromEveryState(t *testing.T) {
	t.Run("countdown", func(t *testing.T) {
		r := newRig(t, ubootfake.Mini2440())
		if _, err := r.drv.Sync(ctxFor(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if r.drv.Boots() != 1 {
			t.Errorf("saw %d boots, want 1", r.drv.Boots())
		}
	})
	t.Run("half-typed line", func(t *testing.T) {
		r := newRig(t, ubootfake.Modern())
		ctx := ctxFor(t, 30*time.Second)
		if _, err := r.drv.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		r.sess.Send("setenv junk half")
		if _, err := r.drv.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		out, err := r.drv.Run(ctx, "echo hello")
		if err != nil || out != "hello\n" {
			t.Fatalf("echo hello = %q, %v", out, err)
		}
		if _, ok := r.board.Env()["junk"]; ok {
			t.Errorf("the half-typed setenv ran")
		}
	})
	t.Run("linux", func(t *testing.T) {
		// A saved environment that boots over TFTP at once.
		r := newRig(t, ubootfake.Modern(), ubootfake.WithTFTP(map[string]int{"uImage": 1 << 20}),
			ubootfake.WithSaved(map[string]string{"bootdelay": "0", "ipaddr": "192.168.7.2", "serverip": "192.168.7.1",
				"bootcmd": "tftp 0x40400000 uImage; bootm 0x40400000"}))
		ctx := ctxFor(t, 30*time.Second)
		// Let it autoboot: wait for the shell without pressing keys.
		if _, err := r.sess.Expect(ctx, regexp.MustCompile(`/ # $`)); err != nil {
			t.Fatal(err)
		}
		_, err := r.drv.Sync(ctx)
		if !errors.Is(err, uboot.ErrLinuxRunning) {
			t.Fatalf("Sync in Linux: %v, want ErrLinuxRunning", err)
		}
	})
	t.Run("silent", func(t *testing.T) {
		s := serialcon.NewSession(silentPort{make(chan struct{})}, serialcon.Options{Name: "/dev/ttySILENT"})
		defer s.Close()
		d := uboot.New(s, uboot.Dialect{})
		_, err := d.Sync(ctxFor(t, 1500*time.Millisecond))
		if !errors.Is(err, serialcon.ErrTimeout) || !strings.Contains(err.Error(), "nothing received") || !strings.Contains(err.Error(), "/dev/ttySILENT") {
			t.Fatalf("Sync on a silent board: %v", err)
		}
	})
}

type silentPort struct{ closed chan struct{} }

func (p silentPort) Read([]byte) (int, error)    { <-p.closed; return 0, errors.New("closed") }
func (p silentPort) Write(b []byte) (int, error) { return len(b), nil }
func (p silentPort) Close() error                { close(p.closed); return nil }

func TestRunErrors(t *testing.T) {
	r := newRig(t, ubootfake.Modern())
	ctx := ctxFor(t, 30*time.Second)
	if _, err := r.drv.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := r.drv.Run(ctx, "frobnicate")
	var ce *uboot.CommandError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "Unknown command 'frobnicate'") {
		t.Errorf("unknown command: %v", err)
	}
	if _, err := r.drv.Getenv(ctx, "nosuchvar"); !errors.Is(err, uboot.ErrNotDefined) {
		t.Errorf("Getenv of an unset variable: %v, want ErrNotDefined", err)
	}
	if _, err := r.drv.Run(ctx, "setenv"); !errors.Is(err, uboot.ErrCommand) || !strings.Contains(err.Error(), "usage") {
		t.Errorf("setenv without arguments: %v, want usage", err)
	}
	long := strings.Repeat("x", 1100)
	if _, err := r.drv.Run(ctx, "echo "+long); !errors.Is(err, uboot.ErrLineTooLong) {
		t.Errorf("a line over CBSIZE: %v, want ErrLineTooLong", err)
	}
	if err := r.drv.Setenv(ctx, "x", "it's"); !errors.Is(err, uboot.ErrUnquotable) {
		t.Errorf("a single quote: %v, want ErrUnquotable", err)
	}
}

func TestEchoErrorShowsBoth(t *testing.T) {
	fd := ubootfake.Modern()
	fd.Name, fd.LossOneIn = "hopeless", 3 // loses a third of everything
	r := newRig(t, fd)
	ctx := ctxFor(t, time.Minute)
	r.drv.Retries = 1
	r.drv.EchoTimeout = 200 * time.Millisecond
	// Sync works: Ctrl-C and the interrupt key are one byte each.
	if _, err := r.drv.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := r.drv.Run(ctx, "setenv bootargs console=ttyAMA0,115200")
	var ee *uboot.EchoError
	if !errors.As(err, &ee) {
		t.Fatalf("typing on a hopeless line: %v, want an EchoError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "sent ") || !strings.Contains(msg, "echoed ") {
		t.Errorf("error does not show sent and echoed text: %s", msg)
	}
}

// TestPersistMini2440: set, verify, saveenv, reset, verify, on the
// mini2440 dialect; then a board booting with a lost environment is named.
func TestPersistMini2440(t *testing.T) {
	r := newRig(t, ubootfake.Mini2440())
	ctx := ctxFor(t, time.Minute)
	if _, err := r.drv.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	p, _ := boards.Lookup("mini2440")
	l, err := p.Netboot(boards.Netboot{Export: "/srv/rootfs"})
	if err != nil {
		t.Fatal(err)
	}
	vars := []uboot.EnvVar{
		{Name: "bootargs", Value: p.Bootargs(l)},
		{Name: "bootcmd", Value: p.Bootcmd(l)},
		{Name: "ipaddr", Value: l.BoardIP.String()},
		{Name: "serverip", Value: l.ServerIP.String()},
	}
	if err := r.drv.Persist(ctx, vars); err != nil {
		t.Fatal(err)
	}
	saved := r.board.Saved()
	for _, v := range vars {
		if saved[v.Name] != v.Value {
			t.Errorf("flash has %s=%q, want %q", v.Name, saved[v.Name], v.Value)
		}
	}
	if r.drv.Boots() != 2 {
		t.Errorf("saw %d boots, want 2 (power-on and reset)", r.drv.Boots())
	}
}

func TestResetWithDefaultEnvironment(t *testing.T) {
	fd := ubootfake.Modern()
	fd.SaveMessage = "" // saveenv fails, as on Debian 12's QEMU
	r := newRig(t, fd)
	ctx := ctxFor(t, time.Minute)
	if _, err := r.drv.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.drv.Saveenv(ctx); !errors.Is(err, uboot.ErrSaveFailed) || !strings.Contains(err.Error(), "Flash buffer write timeout") {
		t.Errorf("failing saveenv: %v", err)
	}
	if err := r.drv.Reset(ctx); !errors.Is(err, uboot.ErrDefaultEnvironment) {
		t.Errorf("reset into the default environment: %v", err)
	}
}

func TestSetenvLines(t *testing.T) {
	long := strings.TrimSpace(strings.Repeat("abcdefghij ", 30)) // 329 chars, 30 words
	for _, tc := range []struct {
		name  string
		d     uboot.Dialect
		value string
		want  []string
		err   error
	}{
		{"fits", uboot.Dialect{CBSize: 256}, "a b", []string{"setenv x 'a b'"}, nil},
		{"delete", uboot.Dialect{CBSize: 256}, "", []string{"setenv x"}, nil},
		{"dollar kept", uboot.Dialect{CBSize: 256}, "tftp ${kernel_addr_r} uImage; bootm", []string{"setenv x 'tftp ${kernel_addr_r} uImage; bootm'"}, nil},
		{"split hush", uboot.Dialect{CBSize: 256, Hush: true}, long, []string{
			"setenv _b0 '" + long[:230] + "'", "setenv _b1 '" + long[231:] + "'",
			`setenv x "${_b0} ${_b1}"`, "setenv _b0; setenv _b1"}, nil},
		{"too many words without hush", uboot.Dialect{CBSize: 256}, long, nil, uboot.ErrLineTooLong},
		{"split without hush", uboot.Dialect{CBSize: 64, MaxArgs: 64}, strings.Repeat("abcdefghij ", 6) + "end", []string{
			"setenv _b0 'abcdefghij abcdefghij abcdefghij abcdefghij'", "setenv _b1 'abcdefghij abcdefghij end'",
			"setenv x ${_b0} ${_b1}", "setenv _b0; setenv _b1"}, nil},
		{"mid-word", uboot.Dialect{CBSize: 40, Hush: true}, strings.Repeat("z", 30), []string{
			"setenv _b0 '" + strings.Repeat("z", 24) + "'", "setenv _b1 'zzzzzz'", `setenv x "${_b0}${_b1}"`, "setenv _b0; setenv _b1"}, nil},
		{"quote", uboot.Dialect{}, "it's", nil, uboot.ErrUnquotable},
		{"newline", uboot.Dialect{}, "a\nb", nil, uboot.ErrUnquotable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.d.SetenvLines("x", tc.value)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Errorf("lines\n%q\nwant\n%q", got, tc.want)
			}
			for _, l := range got {
				if max := tc.d.CBSize - 2; tc.d.CBSize > 0 && len(l) > max {
					t.Errorf("line of %d > %d: %q", len(l), max, l)
				}
			}
		})
	}
}

// TestVerifyCatchesTruncation: told the wrong buffer size, the driver types
// a line the truncating console cuts without a bell; printenv catches it.
func TestVerifyCatchesTruncation(t *testing.T) {
	fd := ubootfake.Truncating()
	b := ubootfake.New(fd)
	s := serialcon.NewSession(b, serialcon.Options{Name: "fake:truncating"})
	defer s.Close()
	d := dialectFor(t, fd)
	d.CBSize = 1024 // wrong: the board holds 254 characters
	drv := uboot.New(s, d)
	ctx := ctxFor(t, 30*time.Second)
	if _, err := drv.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	want := bootargs(rand.New(rand.NewPCG(3, 3)), 300)
	err := drv.Setenv(ctx, "bootargs", want)
	var ve *uboot.VerifyError
	if !errors.As(err, &ve) || len(ve.Got) >= len(want) {
		t.Fatalf("Setenv on a truncating console: %v, want a VerifyError", err)
	}
}
