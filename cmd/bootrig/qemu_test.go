package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/lab"

	"github.com/bootrig/bootrig/internal/bootrigtest"
)

// realUBoot powers on Debian's qemu_arm U-Boot in QEMU, without a network
// card, and returns its console pty (the --port a user would give) and
// QEMU's log of every byte on the line. With running false the CPU stays
// stopped: a board that is not powered, on a port that stays silent.
func realUBoot(t *testing.T, running bool) (port, serialLog string) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots U-Boot in QEMU")
	}
	bootrigtest.Binary(t)                      // before power-on: the countdown does not wait for go build
	p, err := boards.Lookup("qemu-arm-debian") // Debian's U-Boot binary: no build needed
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q := lab.FromProfile(p, t.TempDir(), "")
	m, err := lab.Start(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.PowerOff(ctx)
		if t.Failed() {
			log, _ := os.ReadFile(q.SerialLog)
			t.Logf("QEMU: %s %q\nconsole:\n%s", q.Binary, q.Args(), log)
		}
	})
	if running {
		if err := m.Resume(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return m.ConsolePath(), q.SerialLog
}
