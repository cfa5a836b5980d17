package up

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bootrig/bootrig/boards"
)

// ErrRAMRoot is a kernel that could not start from its root in RAM.
var ErrRAMRoot = errors.New("the kernel could not start from its root in RAM")

// ramRootError explains a kernel that gave up with its root in RAM: no
// NFS server to ask, only the console's phases.
func (b *Board) ramRootError() error {
	if err := b.Summary().Err(); err != nil {
		return fmt.Errorf("%w (--root %s): %w", ErrRAMRoot, b.cfg.Netboot.Root, err)
	}
	return fmt.Errorf("%w (--root %s)", ErrRAMRoot, b.cfg.Netboot.Root)
}

// Memory is the board's RAM as busybox free reports it, in bytes.
type Memory struct {
	Total     int64 `json:"total"`
	Used      int64 `json:"used"`
	Free      int64 `json:"free"`
	Shared    int64 `json:"shared"` // tmpfs and shmem: a RAM root's files are here
	BuffCache int64 `json:"buff_cache"`
	Available int64 `json:"available"`
}

// ErrFree marks output of free that is not what busybox prints.
var ErrFree = errors.New("unexpected output of free")

// ParseFree reads the Mem: line of free (busybox and procps: KiB, the
// columns total used free shared buff/cache available).
func ParseFree(out string) (Memory, error) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 7 || f[0] != "Mem:" {
			continue
		}
		var v [6]int64
		for i := range v {
			n, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				return Memory{}, fmt.Errorf("%w: %q: %v", ErrFree, line, err)
			}
			v[i] = n << 10
		}
		return Memory{Total: v[0], Used: v[1], Free: v[2], Shared: v[3], BuffCache: v[4], Available: v[5]}, nil
	}
	return Memory{}, fmt.Errorf("%w: no Mem: line with 6 columns in %q", ErrFree, out)
}

// Memory runs free in the board's shell and returns what it says.
func (b *Board) Memory(ctx context.Context) (Memory, error) {
	out, code, err := b.Run(ctx, "free")
	if err != nil {
		return Memory{}, err
	}
	if code != 0 {
		return Memory{}, fmt.Errorf("free on the board: exit status %d: %s", code, out)
	}
	return ParseFree(out)
}

// Name is the board's profile name.
func (b *Board) Name() string { return b.cfg.Board.Name }

// Root is how the board's root reaches it.
func (b *Board) Root() boards.Root { return b.cfg.Netboot.Root }
