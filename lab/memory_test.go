package lab

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckMemory(t *testing.T) {
	for _, tc := range []struct {
		name, meminfo, mem string
		wantErr            error
		wantMsg            string
	}{
		{"enough", "MemTotal: 24000000 kB\nMemAvailable: 1048576 kB\n", "128M", nil, ""},
		{"exactly", "MemAvailable: 131072 kB\n", "128M", nil, ""},
		{"short", "MemTotal: 24000000 kB\nMemAvailable: 102400 kB\n", "128M", ErrLowMemory, "takes 128 MiB (-m 128M), the host has 100 MiB available"},
		{"MiB without suffix", "MemAvailable: 102400 kB\n", "512", ErrLowMemory, "takes 512 MiB"},
		{"gigabytes", "MemAvailable: 1048576 kB\n", "2G", ErrLowMemory, "takes 2048 MiB"},
		{"no MemAvailable", "MemTotal: 1 kB\n", "128M", nil, "no MemAvailable line"},
		{"bad size", "MemAvailable: 1 kB\n", "lots", nil, "qemu memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "meminfo")
			if err := os.WriteFile(path, []byte(tc.meminfo), 0o644); err != nil {
				t.Fatal(err)
			}
			err := CheckMemory(path, tc.mem)
			switch {
			case tc.wantMsg == "" && err != nil:
				t.Fatalf("CheckMemory: %v", err)
			case tc.wantMsg != "" && (err == nil || !strings.Contains(err.Error(), tc.wantMsg)):
				t.Fatalf("CheckMemory: %v, want %q", err, tc.wantMsg)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("CheckMemory: %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestCheckMemoryHost: this host's /proc/meminfo parses.
func TestCheckMemoryHost(t *testing.T) {
	if err := CheckMemory(MemInfo, "1M"); err != nil {
		t.Fatal(err)
	}
}
