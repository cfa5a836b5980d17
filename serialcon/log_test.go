package serialcon

import (
	"errors"
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

func TestReadLogReadsWhatLogWrote(t *testing.T) {
	start := time.Unix(0, 0)
	var b strings.Builder
	l := NewLog(&b, start)
	l.WriteAt([]byte("one\r\n\r\n"), start.Add(1500*time.Microsecond))
	l.WriteAt([]byte("two [#] x\n/ # "), start.Add(1234*time.Second+1*time.Microsecond))
	l.Close()
	lines, err := ReadLog(strings.NewReader(b.String()), "boot.log")
	if err != nil {
		t.Fatal(err)
	}
	want := []LogLine{
		{At: 1500 * time.Microsecond, Delta: 1500 * time.Microsecond, Text: "one"},
		{At: 1500 * time.Microsecond, Text: ""},
		{At: 1234000001 * time.Microsecond, Delta: 1233998501 * time.Microsecond, Text: "two [#] x"},
		{At: 1234000001 * time.Microsecond, Text: "/ # "},
	}
	if len(lines) != len(want) {
		t.Fatalf("lines %+v", lines)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, lines[i], want[i])
		}
	}
}

func TestReadLogNamesTheBadLine(t *testing.T) {
	_, err := ReadLog(strings.NewReader("[    0.100000 +0.100000] ok\nU-Boot 2023.01\n"), "x.log")
	if !errors.Is(err, ErrLogFormat) || !strings.Contains(err.Error(), "x.log:2:") {
		t.Fatalf("err = %v", err)
	}
}

// TestReadLogSkipsHeaders: a file of two appended sessions reads back
// as their lines.
func TestReadLogSkipsHeaders(t *testing.T) {
	text := LogHeader("/dev/ttyUSB0", time.Unix(0, 0)) + "[    0.000000 +0.000000] U-Boot\n" +
		LogHeader("/dev/ttyUSB0", time.Unix(60, 0)) + "[    0.100000 +0.100000] again\n"
	lines, err := ReadLog(strings.NewReader(text), "two.log")
	if err != nil || len(lines) != 2 || lines[1].Text != "again" {
		t.Errorf("ReadLog = %+v, %v", lines, err)
	}
}
