package servers

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRead reads an 8 MiB file with nfs-cat (in /etc: libnfs 4.0
// fails to mount / for a file at the top) and downloads it with
// curl over TFTP, from one board's servers and from a farm of one board
// on 127.0.0.1 (its connections and requests pass the mux), so the
// ratio farm/single is the mux's cost.
func BenchmarkRead(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 8<<20/16)
	for _, farm := range []bool{false, true} {
		bd := newBoard(b)
		os.WriteFile(filepath.Join(bd.rootfs, "etc", "big"), data, 0o644)
		os.WriteFile(filepath.Join(bd.tftpRoot, "big"), data, 0o644)
		cfg := bd.config(loopback, 0, 0, 0)
		cfg.NFS.NoPortmap = true
		name := "single"
		if farm {
			name = "farm"
			cfg.Boards = []Board{{Name: "b1", IP: loopback, TFTPRoot: bd.tftpRoot, Dir: bd.rootfs}}
		}
		r := start(b, cfg)
		b.Run(name+"/nfs-cat", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if got := run(b, "nfs-cat", nfsURL(r.Addrs.NFS, "/etc/big")); len(got) != len(data) {
					b.Fatalf("nfs-cat: %d bytes, want %d", len(got), len(data))
				}
			}
		})
		b.Run(name+"/curl-tftp", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if got := tftpGet(b, r.Addrs.TFTP, "big"); len(got) != len(data) {
					b.Fatalf("tftp: %d bytes, want %d", len(got), len(data))
				}
			}
		})
	}
}
