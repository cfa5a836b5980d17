package lab

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/bootrig/bootrig/boards"
)

// ErrLowMemory is returned by CheckMemory when the host has less memory
// available than a board's QEMU would take.
var ErrLowMemory = errors.New("not enough free memory for another board")

// MemInfo is where the kernel says how much memory is available.
const MemInfo = "/proc/meminfo"

// CheckMemory says whether the host (its meminfo file) has memory for
// one more board of QEMU memory size mem (a -m value: "128M", or MiB).
func CheckMemory(meminfo, mem string) error {
	need, err := qemuMemory(mem)
	if err != nil {
		return err
	}
	f, err := os.Open(meminfo)
	if err != nil {
		return fmt.Errorf("free memory: %w", err)
	}
	defer f.Close()
	avail, err := memAvailable(f)
	if err != nil {
		return fmt.Errorf("free memory: %s: %w", meminfo, err)
	}
	if avail < need {
		return fmt.Errorf("%w: the board takes %d MiB (-m %s), the host has %d MiB available (MemAvailable in %s)",
			ErrLowMemory, need>>20, mem, avail>>20, meminfo)
	}
	return nil
}

// qemuMemory is a -m value in bytes: a size with a suffix, else MiB.
func qemuMemory(mem string) (uint64, error) {
	if mem == "" {
		mem = "128M" // QEMU's default
	}
	if n, err := strconv.ParseUint(mem, 10, 64); err == nil {
		return n << 20, nil
	}
	s, err := boards.ParseSize(mem)
	if err != nil {
		return 0, fmt.Errorf("qemu memory: %w", err)
	}
	return uint64(s), nil
}

// memAvailable is MemAvailable from a /proc/meminfo text, in bytes.
func memAvailable(r io.Reader) (uint64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("MemAvailable %q: %w", f[1], err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no MemAvailable line")
}
