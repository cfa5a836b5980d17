package lab

import (
	"context"
	"fmt"
	"hash/crc32"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/serialcon"
)

// TestUBootTFTPWindow: Debian's U-Boot (2023.01) fetches a file from
// bootrig's TFTP server lock-step and with tftpwindowsize 4 and 16
// (RFC 7440), byte-exact by its own crc32; the phase table's rate of
// each transfer is logged, so the gain shows. Then a window of 16 with
// the board paused for 1.5 s in the middle of the transfer (a host too
// busy to run it): the server's resends pile up while it sleeps, and
// U-Boot must still get every byte (its virtio-net stops receiving for
// good once 32 packets wait for it).
func TestUBootTFTPWindow(t *testing.T) {
	if !inLab(t) {
		return
	}
	p, l, lan := qemuArmLAN(t)
	root := t.TempDir()
	data := writeBlob(t, filepath.Join(root, "blob.bin"), 6<<20+321, 3)
	var logs strings.Builder // read once the server has stopped
	t.Cleanup(func() { t.Logf("TFTP server log:\n%s", logs.String()) })
	startTestTFTPLog(t, l.ServerIP, root, slog.New(slog.NewTextHandler(&logs, nil)))
	q := FromProfile(p, t.TempDir(), lan.Tap)
	if err := EnsureFlash(q.Flash, int64(p.QEMU.FlashSize)); err != nil {
		t.Fatal(err)
	}
	_, con := bootUBoot(t, q)
	con.send(t, "setenv ipaddr %s; setenv serverip %s; setenv netmask %s; setenv tftpblocksize 1468\n", l.BoardIP, l.ServerIP, l.Netmask)
	con.wait(t, "(?m)^=> $", 10*time.Second)
	want := fmt.Sprintf("==> %08x", crc32.ChecksumIEEE(data))
	// 64 is left out: in this lab U-Boot with a window of 64 stalls after
	// some 30 blocks and gives up ("T T T ... Retry count exceeded").
	for _, window := range []string{"", "4", "16"} {
		con.send(t, "setenv tftpwindowsize %s; tftp ${kernel_addr_r} blob.bin\n", window)
		out := con.wait(t, "(?m)^=> $", 90*time.Second)
		ph := serialcon.NewPhases(time.Now(), nil)
		ph.Feed([]byte(out), time.Now())
		tr := ph.Summary(time.Now()).Transfers()
		if len(tr) != 1 || tr[0].Bytes != int64(len(data)) {
			t.Fatalf("window %q: tftp did not transfer %d bytes (%+v):\n%s", window, len(data), tr, out)
		}
		con.send(t, "crc32 ${kernel_addr_r} ${filesize}\n")
		if out := con.wait(t, "(?m)^=> $", 10*time.Second); !strings.Contains(out, want) {
			t.Errorf("window %q: U-Boot's crc32 of the file: want %s in\n%s", window, want, out)
		}
		t.Logf("tftpwindowsize %-2s blksize 1468: %s at %s", cmpOr(window, "unset (lock-step)"), tr[0].File, tr[0].Rate)
	}
	con.send(t, "setenv tftpwindowsize 16; tftp ${kernel_addr_r} blob.bin\n")
	con.wait(t, "Loading: .*#", 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := QMPCommand(ctx, q.QMP, "stop"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // the board starved: what is measured is what it finds when it runs again
	if err := QMPCommand(ctx, q.QMP, "cont"); err != nil {
		t.Fatal(err)
	}
	if out := con.wait(t, "(?m)^=> $", 90*time.Second); !strings.Contains(out, fmt.Sprintf("Bytes transferred = %d", len(data))) {
		t.Fatalf("board paused mid-transfer: U-Boot did not get the whole file:\n%s", out)
	}
	con.send(t, "crc32 ${kernel_addr_r} ${filesize}\n")
	if out := con.wait(t, "(?m)^=> $", 10*time.Second); !strings.Contains(out, want) {
		t.Errorf("board paused mid-transfer: U-Boot's crc32 of the file: want %s in\n%s", want, out)
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
