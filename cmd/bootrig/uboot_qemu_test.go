package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
	"github.com/bootrig/bootrig/lab"
)

// builtUBoot brings the board's U-Boot in the build cache up to date
// ($BOOTRIG_CACHE or ~/.cache/bootrig; about a minute cold, nothing to
// do after that) and returns the profile and the build's output dir.
func builtUBoot(t *testing.T, board string) (*boards.Profile, string) {
	t.Helper()
	p, err := boards.Lookup(board)
	if err != nil {
		t.Fatal(err)
	}
	cache := crossbuild.DefaultCache()
	out := crossbuild.DefaultOut(cache, board)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if _, err := crossbuild.Build(ctx, crossbuild.Config{Board: p, Target: crossbuild.TargetUBoot, Cache: cache, Out: out}); err != nil {
		t.Fatal(err)
	}
	return p, out
}

// powerOn starts the emulated board with no network and its state
// (where U-Boot keeps its environment: the flash bank, or qemu-arm's FAT
// disk) in state, and lets it run: its console is the returned pty, which
// bootrig then opens like a USB serial adapter.
func powerOn(t *testing.T, p *boards.Profile, out, state string) *lab.Machine {
	t.Helper()
	q, err := lab.FromBuild(p, state, "", out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := lab.Start(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.PowerOff(context.Background()) })
	if err := m.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFlashEnvRealUBoot: `bootrig uboot flash-env` on the U-Boot bootrig
// builds, as on a real board: it sets the environment at the prompt, runs
// saveenv, resets the board, catches the countdown and checks every
// variable with printenv (flash-env fails otherwise). Then the board is
// powered off and on, and `uboot env get` reads the saved bootargs back.
//
// qemu-arm-oldboot is the mini2440's dialect on U-Boot's own parser:
// 256-byte line, no hush, "MINI2440 # ". Its bootargs is 300 characters,
// so flash-env types it in pieces (_b0, _b1) joined by
// `setenv bootargs ${_b0} ${_b1}`. A 2023 U-Boot without hush expands a
// line into a CONFIG_SYS_CBSIZE buffer and cuts the join there (a 2009
// one had no bound); printenv shows the cut, and the driver then writes
// "bootargs=..." into the profile's script region with mw.l and reads it
// in with env import -t. So what this checks of the old dialect is the
// echo, the prompt, the 256-byte line, the simple parser's quoting and
// expansion, and that a long value still arrives whole and survives
// saveenv and a reset; how a 2009 U-Boot rejects an over-long line and
// its unbounded join are covered by uboot/ubootfake.
func TestFlashEnvRealUBoot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds U-Boot and boots it in QEMU")
	}
	for _, tt := range []struct {
		board string
		chars int // length of the bootargs to save
	}{
		{"qemu-arm", 0},
		{"qemu-arm-oldboot", 300},
	} {
		t.Run(tt.board, func(t *testing.T) {
			p, out := builtUBoot(t, tt.board)
			export := exportFor(t, p, tt.chars)
			l, err := p.Netboot(boards.Netboot{Export: export})
			if err != nil {
				t.Fatal(err)
			}
			want := p.Bootargs(l)
			state := t.TempDir()
			m := powerOn(t, p, out, state)
			o, e, code := runBootrig(t, "uboot", "flash-env", "--board", tt.board, "--port", m.ConsolePath(),
				"--rootfs", export, "--timeout", "15m")
			if code != 0 || !strings.Contains(o, "saved and verified after a reset") {
				t.Fatalf("flash-env: exit %d: %s%s", code, o, e)
			}
			if err := m.PowerOff(context.Background()); err != nil {
				t.Fatal(err)
			}
			m = powerOn(t, p, out, state)
			o, e, code = runBootrig(t, "uboot", "env", "get", "bootargs", "--board", tt.board, "--port", m.ConsolePath())
			if code != 0 || o != want+"\n" {
				t.Errorf("after a power cycle, bootargs is %q (exit %d, %s), want %q", o, code, e, want)
			}
		})
	}
}

// exportFor is a root filesystem path that makes the board's bootargs
// chars characters long; 0 for a short one.
func exportFor(t *testing.T, p *boards.Profile, chars int) string {
	t.Helper()
	export := "/srv/" + p.Name
	if chars == 0 {
		return export
	}
	l, err := p.Netboot(boards.Netboot{Export: export})
	if err != nil {
		t.Fatal(err)
	}
	pad := chars - len(p.Bootargs(l))
	if pad <= 0 {
		t.Fatalf("test setup: bootargs is %d characters already", len(p.Bootargs(l)))
	}
	return export + "/" + strings.Repeat("r", pad-1)
}
