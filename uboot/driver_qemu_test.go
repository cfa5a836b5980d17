package uboot_test

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/lab/up"
	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/uboot"
)

// qemuBoard powers on Debian's qemu_arm U-Boot (profile qemu-arm-debian) in QEMU and opens its
// console pty through serialcon, like a USB serial adapter. flash is
// the second pflash bank's file, "" for none.
func qemuBoard(t *testing.T, ctx context.Context, flash string) (*uboot.Driver, *serialcon.Session, *syncBuf) {
	t.Helper()
	p, err := boards.Lookup("qemu-arm-debian")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	q := lab.FromProfile(p, dir, "")
	q.Flash = flash
	q.SerialLog = ""
	m, err := lab.Start(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		m.PowerOff(ctx)
	})
	port, err := serialcon.Open(ctx, m.ConsolePath())
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuf{}
	s := serialcon.NewSession(port, serialcon.Options{Name: m.ConsolePath(), Raw: log})
	t.Cleanup(func() { s.Close() })
	if err := m.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	return uboot.New(s, up.Dialect(p)), s, log
}

// TestQEMUSetenv300: sync with the real U-Boot, set a 300-character
// bootargs and read it back; then again with the console buffer taken as
// 256 bytes, so the value goes in split through hush's "${_b0} ${_b1}".
func TestQEMUSetenv300(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	drv, sess, log := qemuBoard(t, ctx, "")
	if _, err := drv.Sync(ctx); err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, log)
	}
	rnd := rand.New(rand.NewPCG(300, 2026))
	want := bootargs(rnd, 300)
	if err := drv.Setenv(ctx, "bootargs", want); err != nil {
		t.Fatal(err)
	}
	got, err := drv.Getenv(ctx, "bootargs")
	if err != nil || got != want {
		t.Fatalf("bootargs read back %q, %v; want %q", got, err, want)
	}

	d := drv.Dialect()
	d.CBSize = 256
	if lines, err := d.SetenvLines("bootargs", want); err != nil || len(lines) < 3 {
		t.Fatalf("a 300-character value on a 256-byte console: %q, %v; want a split", lines, err)
	}
	want2 := strings.ToUpper(want)
	if err := uboot.New(sess, d).Setenv(ctx, "bootargs", want2); err != nil {
		t.Fatal(err)
	}
	got, err = drv.Getenv(ctx, "bootargs")
	if err != nil || got != want2 {
		t.Fatalf("split bootargs read back %q, %v; want %q", got, err, want2)
	}
	if _, err := drv.Getenv(ctx, "_b0"); !errors.Is(err, uboot.ErrNotDefined) {
		t.Errorf("helper _b0 left behind: %v", err)
	}
}

// TestQEMUFlashedEnvironment: the persistence path on the real U-Boot.
// saveenv cannot work on Debian 12's QEMU (QEMU issue 2343: "Flash buffer
// write timeout"), so the environment is written from the host into the
// second pflash bank: the default environment captured with printenv,
// merged with a new bootargs, as an image mkenvimage -s 0x40000 would make.
// At power-on U-Boot must load it and show the bootargs at the prompt.
func TestQEMUFlashedEnvironment(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	drv, _, log := qemuBoard(t, ctx, "")
	if _, err := drv.Sync(ctx); err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, log)
	}
	env, err := drv.Printenv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if env["bootcmd"] == "" || env["kernel_addr_r"] == "" {
		t.Fatalf("printenv of the default environment looks wrong: %v", env)
	}
	want := bootargs(rand.New(rand.NewPCG(7, 7)), 300)
	merged := maps.Clone(env)
	merged["bootargs"] = want
	p, _ := boards.Lookup("qemu-arm-debian")
	img, err := uboot.EnvImage{Size: int(p.QEMU.EnvSize), Pad: uboot.ErasedByte}.Marshal(uboot.SortedEnv(merged))
	if err != nil {
		t.Fatal(err)
	}
	flash := filepath.Join(t.TempDir(), "flash1.img")
	if err := lab.WriteFlash(flash, int64(p.QEMU.FlashSize), img); err != nil {
		t.Fatal(err)
	}

	drv2, _, log2 := qemuBoard(t, ctx, flash)
	seen, err := drv2.Sync(ctx)
	if err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, log2)
	}
	if !strings.Contains(log2.String(), "Loading Environment from Flash... OK") || strings.Contains(seen, "using default environment") {
		t.Fatalf("U-Boot did not take the flashed environment:\n%s", seen)
	}
	got, err := drv2.Getenv(ctx, "bootargs")
	if err != nil || got != want {
		t.Fatalf("bootargs after power-on %q, %v; want %q\nconsole:\n%s", got, err, want, log2)
	}
	// U-Boot's reset command, and back at the prompt: the flashed
	// environment is loaded again (no "bad CRC, using default").
	if err := drv2.Reset(ctx); err != nil {
		t.Fatalf("reset: %v\nconsole:\n%s", err, log2)
	}
	if got, err := drv2.Getenv(ctx, "bootargs"); err != nil || got != want {
		t.Fatalf("bootargs after reset %q, %v", got, err)
	}
	after, err := drv2.Printenv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if k != "bootargs" && after[k] != v && k != "fdtcontroladdr" {
			t.Errorf("after power-on %s=%q, default was %q", k, after[k], v)
		}
	}
}
