package up

import (
	"context"
	"errors"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/internal/oncrpc"
	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/uboot"
	"github.com/bootrig/bootrig/uboot/ubootfake"
)

// These tests bring a board up on the fake U-Boot (uboot/ubootfake):
// what Start does once bootrig's servers run and the board is wired
// (bringUp), with the fake's console as the port and its power switch
// as the board's. The fake's kernel mounts its NFS root through the
// mount watch's hooks, as bootrig's servers see a kernel's calls.

// fakePower is the fake board's power switch.
type fakePower struct{ b *ubootfake.Board }

func (p fakePower) On(context.Context) error  { p.b.PowerOn(); return nil }
func (p fakePower) Off(context.Context) error { p.b.PowerOff(); return nil }

// text is what a user reads (the console shown live, bootrig's notes),
// written by the session's reader while the test reads it. onLine, if
// set, is called with each write.
type text struct {
	mu     sync.Mutex
	b      strings.Builder
	onLine func(string)
}

func (w *text) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.b.Write(p)
	f := w.onLine
	w.mu.Unlock()
	if f != nil {
		f(string(p))
	}
	return len(p), nil
}

func (w *text) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// The calls of a kernel's NFS root mount (fs/nfs/nfsroot.c with
// nfsroot=...,v3,tcp): it asks the portmapper over UDP where MOUNT and
// NFS are, then calls them over TCP.
var (
	askPortmap = [2]uint32{oncrpc.ProgPortmap, 2}
	callMount  = [2]uint32{oncrpc.ProgMount, 3}
	callNFS    = [2]uint32{oncrpc.ProgNFS, 3}
	nfsMount   = [][2]uint32{askPortmap, callMount, askPortmap, callNFS}
)

// mountWith is a fake kernel's NFS mount as bootrig's servers see it:
// their hooks (w's) get its calls (prog, vers), each TCP one on a
// connection of its own, and then it ends as end says: nil (mounted),
// an error (the kernel gives up), or errHang (no answer: it waits as
// long as the board is on).
func mountWith(w *Watch, calls [][2]uint32, end error) func(ctx context.Context, server, path string) error {
	h := w.Hooks()
	board := &net.TCPAddr{IP: net.IPv4(192, 168, 7, 2), Port: 800}
	return func(ctx context.Context, _, _ string) error {
		for _, c := range calls {
			if c[0] != oncrpc.ProgPortmap {
				h.Conn(board)
			}
			h.Call(oncrpc.Header{Prog: c[0], Vers: c[1]}, board)
		}
		if errors.Is(end, errHang) {
			<-ctx.Done()
			return ctx.Err()
		}
		return end
	}
}

var (
	errHang     = errors.New("no answer")
	errRefused  = errors.New("refused")
	uImage      = map[string]int{"uImage": 2 << 20}
	noSuchImage = map[string]int{"zImage": 2 << 20}
)

// fakeRig is one board on the fake U-Boot.
type fakeRig struct {
	p       *boards.Profile
	l       boards.Netboot
	fake    *ubootfake.Board
	watch   *Watch
	console text // the console as shown live (Config.Console)
	notes   text // bootrig's progress lines (Config.Notes)
}

// fakeSetup is how one test wires its fake board.
type fakeSetup struct {
	board   string                           // profile: qemu-arm (default) or mini2440
	saved   func(*fakeRig) map[string]string // the environment bank; nil: erased
	tftp    map[string]int                   // the TFTP server's files; nil: no server answers
	mount   [][2]uint32                      // the kernel's NFS calls (default nfsMount)
	mountTo error                            // how its mount ends (nil: mounted)
	panic   string                           // the kernel's panic instead of init
	ask     bool                             // init asks for Enter before the shell (askfirst)
	on      bool                             // the board is on (and past U-Boot) before up starts
}

func newFakeRig(t *testing.T, s fakeSetup) *fakeRig {
	t.Helper()
	name := s.board
	if name == "" {
		name = "qemu-arm"
	}
	p, err := boards.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.Netboot(boards.Netboot{Export: "/srv/bootrig/rootfs"})
	if err != nil {
		t.Fatal(err)
	}
	r := &fakeRig{p: p, l: l, watch: NewWatch()}
	d := ubootfake.Modern()
	if name == "mini2440" {
		d = ubootfake.Mini2440()
	}
	d.CBSize = p.UBoot.CBSize // the fake's buffer is the profile's
	calls := s.mount
	if calls == nil {
		calls = nfsMount
	}
	opts := []ubootfake.Option{ubootfake.WithSecond(100 * time.Millisecond), ubootfake.WithTFTP(s.tftp),
		ubootfake.WithKernel(ubootfake.Kernel{MountNFS: mountWith(r.watch, calls, s.mountTo), Panic: s.panic, AskFirst: s.ask})}
	if s.saved != nil {
		opts = append(opts, ubootfake.WithSaved(s.saved(r)))
	}
	if !s.on {
		opts = append(opts, ubootfake.WithPowerOff())
	}
	r.fake = ubootfake.New(d, opts...)
	t.Cleanup(func() { r.fake.Close() })
	return r
}

// flashed is the environment bank as up writes it for an emulated board.
func flashed(r *fakeRig) map[string]string { return envMap(FlashEnv(r.p, r.l)) }

func envMap(vars []uboot.EnvVar) map[string]string {
	m := map[string]string{}
	for _, v := range vars {
		m[v.Name] = v.Value
	}
	return m
}

// config is the bring-up's configuration, as cmd/bootrig fills it.
func (r *fakeRig) config(typeEnv bool) Config {
	return Config{Board: r.p, Netboot: r.l, TypeEnv: typeEnv, BootTimeout: 30 * time.Second,
		MountWait: 500 * time.Millisecond, Console: &r.console, Notes: &r.notes}.withDefaults()
}

// bringUp brings the board up with power as its switch (default: the
// fake's own).
func (r *fakeRig) bringUp(t *testing.T, c Config, power powerSwitch) (*Board, error) {
	t.Helper()
	if power == nil {
		power = fakePower{r.fake}
	}
	b := newBoard(c)
	b.power, b.watch = power, r.watch
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return b, b.bringUp(ctx, r.fake, "fake:"+r.p.Name)
}

// runOn runs line in the board's shell as up --run does.
func runOn(t *testing.T, b *Board, line string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, code, err := b.Run(ctx, line)
	if err != nil {
		t.Fatalf("run %q: %v", line, err)
	}
	return out, code
}

func phases(s serialcon.Summary) []serialcon.Phase {
	var got []serialcon.Phase
	for _, st := range s.Steps {
		got = append(got, st.Phase)
	}
	return got
}

// TestFakeBootToShell: the emulated board's path with the environment
// flashed while off: power on, no key pressed, every phase in order, and
// --run's output and exit status; with an init that asks for Enter
// first, up presses it.
func TestFakeBootToShell(t *testing.T) {
	for _, tc := range []struct {
		name string
		ask  bool
	}{{"respawn", false}, {"askfirst", true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFakeRig(t, fakeSetup{saved: flashed, tftp: uImage, ask: tc.ask})
			b, err := r.bringUp(t, r.config(false), nil)
			if err != nil {
				t.Fatalf("%v\nconsole:\n%s", err, r.console.String())
			}
			want := []serialcon.Phase{serialcon.PhaseUBoot, serialcon.PhaseAutoboot, serialcon.PhaseTFTP, serialcon.PhaseStart,
				serialcon.PhaseLinux, serialcon.PhaseNet, serialcon.PhaseRoot, serialcon.PhaseFreeing, serialcon.PhaseInit, serialcon.PhaseShell}
			s := b.Summary()
			if got := phases(s); !slices.Equal(got, want) {
				t.Errorf("phases %v, want %v", got, want)
			}
			if err := s.Err(); err != nil {
				t.Errorf("boot failures: %v", err)
			}
			if ts := s.Transfers(); len(ts) != 1 || ts[0].File != "uImage" || ts[0].Bytes != int64(uImage["uImage"]) {
				t.Errorf("TFTP transfers %+v, want uImage, %d bytes", ts, uImage["uImage"])
			}
			for _, line := range []string{"Loading Environment from Flash... OK", "Hit any key to stop autoboot:  0"} {
				if !strings.Contains(r.console.String(), line) {
					t.Errorf("console lacks %q", line)
				}
			}
			if names := stepNames(b.Steps); !slices.Equal(names, []string{"power on", "boot"}) {
				t.Errorf("host steps %v, want power on, boot", names)
			}
			out, code := runOn(t, b, "cat /proc/cmdline; uname -m; false")
			if want := r.p.Bootargs(r.l) + "\narmv7l\n"; out != want || code != 1 {
				t.Errorf("run: exit %d, output %q; want exit 1, %q", code, out, want)
			}
		})
	}
}

func stepNames(steps []HostStep) []string {
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	return names
}

// TestFakeRun: --run's output and exit status, one booted board for all
// the commands, each after the other's prompt.
func TestFakeRun(t *testing.T) {
	r := newFakeRig(t, fakeSetup{saved: flashed, tftp: uImage})
	b, err := r.bringUp(t, r.config(false), nil)
	if err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, r.console.String())
	}
	for _, tc := range []struct {
		line string
		out  string
		code int
	}{
		{"echo hello", "hello\n", 0},
		{"true", "", 0},
		{`printf 'no newline'; sh -c 'exit 7'`, "no newline", 7},
		{"echo bye; exit 3", "bye\n", 3},
		{"exit", "", 0},
		{"false; echo $?", "1\n", 0},
		{"nosuchcommand", "-sh: nosuchcommand: not found\n", 127},
		{"cat /nonexistent", "cat: can't open '/nonexistent': No such file or directory\n", 1},
		{`echo "a  b" 'c;d'`, "a  b c;d\n", 0},
	} {
		if out, code := runOn(t, b, tc.line); out != tc.out || code != tc.code {
			t.Errorf("run %q: exit %d, output %q; want exit %d, %q", tc.line, code, out, tc.code, tc.out)
		}
	}
	if _, _, err := b.Run(context.Background(), "echo a\necho b"); err == nil {
		t.Errorf("run of two lines: no error")
	}
}

// TestFakeTypedEnv: up --type-env stops the countdown, types the
// environment at the prompt and boots with it; where U-Boot saves,
// that is set, saveenv, reset and verify, unless the saved environment
// is already this one (then flash is not written).
func TestFakeTypedEnv(t *testing.T) {
	for _, tc := range []struct {
		name      string
		setup     fakeSetup
		note      string
		saveenvs  int  // saveenv commands the board ran
		savedWant bool // the board's flash holds the environment after
	}{
		{"erased bank: saveenv, reset, verified", fakeSetup{tftp: uImage}, "environment saved (saveenv) and verified after a reset", 1, true},
		{"saved already", fakeSetup{tftp: uImage, saved: func(r *fakeRig) map[string]string {
			env := maps.Clone(ubootfake.Modern().Defaults)
			maps.Copy(env, envMap(Env(r.p, r.l)))
			return env
		}}, "the saved environment is already this one", 0, true},
		{"mini2440: no hush, 256-byte line", fakeSetup{board: "mini2440", tftp: uImage}, "environment saved (saveenv) and verified after a reset", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFakeRig(t, tc.setup)
			b, err := r.bringUp(t, r.config(true), nil)
			if err != nil {
				t.Fatalf("%v\nconsole:\n%s", err, r.console.String())
			}
			if !strings.Contains(r.notes.String(), tc.note) {
				t.Errorf("notes %q, want %q", r.notes.String(), tc.note)
			}
			saveenvs := 0
			for _, l := range r.fake.Lines() {
				if l == "saveenv" {
					saveenvs++
				}
			}
			if saveenvs != tc.saveenvs {
				t.Errorf("the board ran saveenv %d times, want %d (lines: %q)", saveenvs, tc.saveenvs, r.fake.Lines())
			}
			saved := r.fake.Saved()
			for _, v := range Env(r.p, r.l) {
				if saved[v.Name] != v.Value {
					t.Errorf("flash holds %s=%q, want %q", v.Name, saved[v.Name], v.Value)
				}
			}
			if !slices.Contains(r.fake.Lines(), "run bootcmd") {
				t.Errorf("up did not boot from the prompt (lines: %q)", r.fake.Lines())
			}
			if err := b.Summary().Err(); err != nil {
				t.Errorf("boot summary: %v (the reset after saveenv was asked for)", err)
			}
			if out, _ := runOn(t, b, "cat /proc/cmdline"); out != r.p.Bootargs(r.l)+"\n" {
				t.Errorf("kernel command line %q, want %q", out, r.p.Bootargs(r.l)+"\n")
			}
		})
	}
}

// TestFakeAutoboot: up --type-env on a board that is past U-Boot when
// up opens its console. A power switch that leaves a board that is on
// as it is: U-Boot's countdown was missed, and up says so. A board
// whose reset the user presses: up waits for it, and boots when the user
// presses it late, after up found Linux on the console.
func TestFakeAutoboot(t *testing.T) {
	// The board's saved environment boots it after 2 s, as a real
	// board's does.
	inLinux := func(t *testing.T) *fakeRig {
		r := newFakeRig(t, fakeSetup{on: true, tftp: uImage, saved: func(r *fakeRig) map[string]string {
			return envMap(withBootDelay(FlashEnv(r.p, r.l), 2))
		}})
		readUntil(t, r.fake, "/ # ")
		return r
	}
	t.Run("missed", func(t *testing.T) {
		t.Parallel()
		r := inLinux(t)
		_, err := r.bringUp(t, r.config(true), nil)
		if !errors.Is(err, uboot.ErrLinuxRunning) || !strings.Contains(err.Error(), "reset or power-cycle") {
			t.Fatalf("bring-up of a board in Linux: %v, want ErrLinuxRunning", err)
		}
	})
	t.Run("reset pressed late", func(t *testing.T) {
		t.Parallel()
		r := inLinux(t)
		presses := 0
		r.notes.onLine = func(s string) {
			if strings.Contains(s, "press") && strings.Contains(s, "reset") {
				if presses++; presses == 2 { // the user is too slow the first time
					r.fake.PowerOff()
					r.fake.PowerOn()
				}
			}
		}
		b, err := r.bringUp(t, r.config(true), resetButton{notes: &r.notes, board: r.p.Name, port: "fake"})
		if err != nil {
			t.Fatalf("%v\nnotes:\n%s\nconsole:\n%s", err, r.notes.String(), r.console.String())
		}
		if presses != 2 {
			t.Errorf("bootrig asked for reset %d times, want 2:\n%s", presses, r.notes.String())
		}
		if out, _ := runOn(t, b, "cat /proc/cmdline"); out != r.p.Bootargs(r.l)+"\n" {
			t.Errorf("kernel command line %q, want %q", out, r.p.Bootargs(r.l)+"\n")
		}
	})
}

// readUntil reads the board's console until want arrives.
func readUntil(t *testing.T, b *ubootfake.Board, want string) {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	for !strings.HasSuffix(string(got), want) {
		n, err := b.Read(buf)
		if err != nil {
			t.Fatalf("console: %v after %q", err, got)
		}
		got = append(got, buf[:n]...)
	}
}

// TestFakeBootFailures: a boot that fails is explained: the error a
// user reads names the cause, and the console's failure class is the
// one serialcon's phases give it.
func TestFakeBootFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   fakeSetup
		typeEnv bool
		want    []error // all wrapped by the error
		class   string  // the failure's class on the console, "" for none
		text    string  // in the error
	}{
		{"no uImage on the server", fakeSetup{saved: flashed, tftp: noSuchImage}, false,
			[]error{ErrTFTPFailed, serialcon.ErrTFTPError}, "tftp-error", "could not fetch uImage from 192.168.7.1:69"},
		// The reset of saveenv's proof comes before: not the download's failure.
		{"--type-env, no uImage on the server", fakeSetup{tftp: noSuchImage}, true,
			[]error{ErrTFTPFailed, serialcon.ErrTFTPError}, "tftp-error", "could not fetch uImage from 192.168.7.1:69"},
		{"no TFTP server", fakeSetup{saved: flashed}, false,
			[]error{ErrTFTPFailed, serialcon.ErrTFTPTimeout}, "tftp-timeout", "could not fetch uImage"},
		{"no init", fakeSetup{saved: flashed, tftp: uImage, panic: "No working init found.  Try passing init= option to kernel."}, false,
			[]error{serialcon.ErrNoInit}, "no-init", "no working init"},
		{"init for another CPU", fakeSetup{saved: flashed, tftp: uImage, panic: "Attempted to kill init! exitcode=0x00000004"}, false,
			[]error{serialcon.ErrInitSIGILL}, "init-sigill", "SIGILL"},
		{"NFS server never reached", fakeSetup{saved: flashed, tftp: uImage, mount: [][2]uint32{}, mountTo: errHang}, false,
			[]error{ErrMountFailed, ErrNFSUnreachable}, "", "never reached bootrig's NFS server at 192.168.7.1"},
		{"portmapper asked, no MOUNT", fakeSetup{saved: flashed, tftp: uImage, mount: [][2]uint32{askPortmap}, mountTo: errRefused}, false,
			[]error{ErrMountFailed, ErrNFSNoMount}, "", "v3,tcp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFakeRig(t, tc.setup)
			_, err := r.bringUp(t, r.config(tc.typeEnv), nil)
			if err == nil {
				t.Fatalf("the boot succeeded\nconsole:\n%s", r.console.String())
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not wrap %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q does not say %q", err, tc.text)
			}
			var f serialcon.Failure
			switch {
			case tc.class == "" && errors.As(err, &f):
				t.Errorf("error %q has failure class %s, want none", err, f.Class())
			case tc.class != "" && !errors.As(err, &f):
				t.Errorf("error %q has no failure class, want %s", err, tc.class)
			case tc.class != "" && f.Class() != tc.class:
				t.Errorf("failure class %s, want %s (%v)", f.Class(), tc.class, err)
			}
		})
	}
}

// TestFakeWiring: the power switches other than the fake's own. A power
// command that fails stops the bring-up with its error; an attached
// board, which runs already, is woken at its shell with no power-on.
func TestFakeWiring(t *testing.T) {
	t.Run("power command fails", func(t *testing.T) {
		r := newFakeRig(t, fakeSetup{saved: flashed, tftp: uImage})
		_, err := r.bringUp(t, r.config(true), commandPower{"false"})
		if err == nil || !strings.Contains(err.Error(), `power command ["false"]: exit status 1`) {
			t.Fatalf("bring-up with a failing power command: %v", err)
		}
	})
	t.Run("attached", func(t *testing.T) {
		r := newFakeRig(t, fakeSetup{on: true, saved: flashed, tftp: uImage})
		readUntil(t, r.fake, "/ # ")
		c := r.config(false)
		c.Attach = true
		b := newBoard(c)
		b.watch = r.watch
		t.Cleanup(func() { b.Close(context.Background()) })
		if err := b.bringUp(context.Background(), r.fake, "fake"); err != nil {
			t.Fatal(err)
		}
		if names := stepNames(b.Steps); !slices.Equal(names, []string{"attach"}) {
			t.Errorf("host steps %v, want attach", names)
		}
		if out, code := runOn(t, b, "echo attached"); out != "attached\n" || code != 0 {
			t.Errorf("run on the attached board: exit %d, %q", code, out)
		}
	})
}
