package ratelog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestOneLinePerCausePerInterval(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	l := &Logger{Log: slog.New(slog.NewTextHandler(&buf, nil)), Every: 10 * time.Second, Now: func() time.Time { return now }}
	step := func(d time.Duration, n int, msg string) {
		now = now.Add(d)
		for range n {
			l.Warn(msg, "client", "10.0.0.1:5")
		}
	}
	step(0, 1000, "bad datagram")
	step(time.Second, 5, "refused")
	step(5*time.Second, 100, "bad datagram") // 6 s: still held back
	step(4*time.Second, 1, "bad datagram")   // 10 s: a line, saying 1099 were held back
	step(0, 3, "refused")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{`msg="bad datagram" client=10.0.0.1:5`, `msg=refused client=10.0.0.1:5`,
		`msg="bad datagram" client=10.0.0.1:5 suppressed=1099`}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], w) {
			t.Errorf("line %d: %q, want it to end in %q", i, lines[i], w)
		}
	}
}

func TestZeroAndNilLoggersDiscard(t *testing.T) {
	var l *Logger
	l.Warn("x")
	(&Logger{}).Info("x")
}
