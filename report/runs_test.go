package report

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRunsKeepTheNewest(t *testing.T) {
	runs := Runs{Dir: filepath.Join(t.TempDir(), "runs"), Keep: 3}
	if _, err := runs.Last(); !errors.Is(err, ErrNoRuns) {
		t.Fatalf("Last of none: %v", err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var made []string
	for i := range 5 {
		d, err := runs.Create(t0.Add(time.Duration(i) * time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, d)
	}
	twin, err := runs.Create(t0.Add(4 * time.Minute)) // the same millisecond
	if err != nil || twin == made[4] {
		t.Fatalf("second run in one millisecond: %s, %v", twin, err)
	}
	os.Mkdir(filepath.Join(runs.Dir, "notes"), 0o755) // not a run
	if err := runs.Prune(); err != nil {
		t.Fatal(err)
	}
	got, err := runs.List()
	if err != nil || len(got) != 3 || got[0] != made[3] || got[1] != made[4] || got[2] != twin {
		t.Fatalf("after prune %q, %v", got, err)
	}
	if last, _ := runs.Last(); last != twin {
		t.Errorf("Last = %s", last)
	}
	if _, err := os.Stat(filepath.Join(runs.Dir, "notes")); err != nil {
		t.Errorf("prune removed a directory that is no run: %v", err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rec := Record{Board: "qemu-arm", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ShellPrompt: `[#$] $`,
		Commands: []Command{{Line: "true", Start: Dur(5 * time.Second), End: Dur(5250 * time.Millisecond), Exit: 0}}}
	if err := rec.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := LoadRecord(dir)
	if err != nil || got.Board != rec.Board || !got.Started.Equal(rec.Started) || len(got.Commands) != 1 || got.Commands[0] != rec.Commands[0] {
		t.Fatalf("loaded %+v, %v", got, err)
	}
}

func TestLoadSaysWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no boot.log: %v", err)
	}
	os.WriteFile(filepath.Join(dir, LogFile), []byte("U-Boot 2023.01\n"), 0o644)
	if _, err := Load(dir); err == nil {
		t.Error("a raw log loaded")
	}
	os.WriteFile(filepath.Join(dir, RecordFile), []byte(`{"board": 3}`), 0o644)
	if _, err := Load(dir); err == nil {
		t.Error("a bad run.json loaded")
	}
}
