package serialcon

import (
	"strings"
	"testing"
	"time"
)

func TestLogStampsLines(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	l := NewLog(&b, start)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	l.WriteAt([]byte("U-Boot 2023.01\r\n\r\nDRAM:"), at(12345678*time.Microsecond))
	l.WriteAt([]byte("  128 MiB\r\n"), at(12346000*time.Microsecond)) // continues the line begun before
	l.WriteAt([]byte("=> "), at(13*time.Second))
	if got, want := b.String(), ""+
		"[   12.345678 +12.345678] U-Boot 2023.01\n"+
		"[   12.345678 +0.000000] \n"+
		"[   12.345678 +0.000000] DRAM:  128 MiB\n"; got != want {
		t.Fatalf("log:\n%s\nwant:\n%s", got, want)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "[   13.000000 +0.654322] => \n") {
		t.Errorf("Close did not write the partial line: %q", b.String())
	}
}
