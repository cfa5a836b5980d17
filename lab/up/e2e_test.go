package up_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/lab"
	"github.com/bootrig/bootrig/lab/up"
)

// inLab runs the calling test again in a new lab namespace and reports
// false; in that namespace it reports true, and the test goes on there.
func inLab(t *testing.T) bool {
	t.Helper()
	if lab.Inside() {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	code, err := lab.Reexec(ctx, []string{"-test.run=^" + t.Name() + "$", "-test.v", "-test.timeout=5m"},
		lab.Stdio{Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("in the lab namespace:\n%s", out.Bytes())
	if code != 0 {
		t.Fatalf("test in the lab namespace exited %d", code)
	}
	return false
}

func cacheDir(t *testing.T) string {
	if d := os.Getenv("BOOTRIG_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(d, "bootrig")
}

// config is a bring-up of qemu-arm from the build cache, with its state
// in a fresh directory.
func config(t *testing.T) up.Config {
	t.Helper()
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	cp := *p
	// TODO(portmap): drop once package portmap answers the kernel.
	cp.NFS.Options += ",port=2049,mountport=2049,mountproto=tcp"
	cache := cacheDir(t)
	out := filepath.Join(cache, "qemu-arm", "out")
	l, err := cp.Lab(boards.Lab{Export: filepath.Join(out, "rootfs")})
	if err != nil {
		t.Fatal(err)
	}
	lan, err := lab.LANFor(l)
	if err != nil {
		t.Fatal(err)
	}
	if err := lan.Setup(); err != nil {
		t.Fatal(err)
	}
	return up.Config{Board: &cp, Lab: l, Cache: cache, Out: out, State: t.TempDir(), Build: true,
		Notes: testWriter{t}}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

func start(t *testing.T, c up.Config) *up.Board {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b, err := up.Start(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return b
}

func TestBootToShell(t *testing.T) {
	if !inLab(t) {
		return
	}
	c := config(t)
	var log bytes.Buffer
	c.Log = &log
	b := start(t, c)
	t.Logf("host steps %v\n%s\n%s", b.Steps, b.Summary(), log.String())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, code, err := b.Run(ctx, "cat /proc/cmdline; uname -a; ls /; false")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exit %d output:\n%s", code, out)
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
}
