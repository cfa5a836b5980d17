package up

import (
	"errors"
	"testing"
)

func TestParseFree(t *testing.T) {
	// busybox 1.35 free, as the qemu-arm board prints it.
	const busybox = "              total        used        free      shared  buff/cache   available\n" +
		"Mem:         124244        5800      114104        2300        4340      113204\n" +
		"Swap:             0           0           0\n"
	got, err := ParseFree(busybox)
	want := Memory{Total: 124244 << 10, Used: 5800 << 10, Free: 114104 << 10, Shared: 2300 << 10, BuffCache: 4340 << 10, Available: 113204 << 10}
	if err != nil || got != want {
		t.Errorf("ParseFree(busybox) = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"", "free: not found\n", "Mem: 1 2 3\n", "Mem: 1 2 x 4 5 6\n"} {
		if _, err := ParseFree(bad); !errors.Is(err, ErrFree) {
			t.Errorf("ParseFree(%q) = %v, want ErrFree", bad, err)
		}
	}
}
