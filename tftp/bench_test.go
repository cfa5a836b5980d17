package tftp

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDownload fetches 8 MiB over loopback per iteration with the
// real clients: curl lock-step and atftp with a window, both sent by the
// Server's own sender. Beside the wall time it reports the server's CPU
// time per download (server-cpu-ns/op: the test process's, which the
// clients, its children, are not part of), which a busy machine
// disturbs less. With -cpuprofile it shows where the server's time
// per block goes; bench/tftp.sh compares with tftpd-hpa.
func BenchmarkDownload(b *testing.B) {
	root := b.TempDir()
	const size = 8 << 20
	writeRandom(b, filepath.Join(root, "f"), size)
	h := serve(b, &Server{Root: root})
	out := filepath.Join(b.TempDir(), "out")
	atftp := atftpWindowArgs(h.addr, h.addr.Addr().String(), h.addr.Port(), "f", 1468, 16, out)
	for _, c := range []struct {
		name string
		argv []string
	}{
		{"curl-512", curlArgs(h.addr, "f", 512, out)},
		{"curl-1468", curlArgs(h.addr, "f", 1468, out)},
		{"curl-8192", curlArgs(h.addr, "f", 8192, out)},
		{"atftp-1468-window-16", slices.DeleteFunc(atftp, func(s string) bool { return s == "--trace" })},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			cpu := cpuTime(b)
			for b.Loop() {
				if code, msg := run(b, c.argv); code != 0 {
					b.Fatalf("%v: exit %d: %s", c.argv, code, msg)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "server-cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time (user and system) the test process has used,
// its children not counted.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSendBlock sends the blocks of an 8 MiB file in turn to a
// loopback socket that reads nothing, so that the kernel drops what its
// buffer cannot take after the sender has paid for it: the sender's own
// cost per block, without a client's round trips, read from the file
// (pread, or the read-ahead buffer) against sent from its mapping. A
// pass over the file maps it afresh, as a transfer does, so that the
// page faults the first touch of each mapped page takes are counted.
func BenchmarkSendBlock(b *testing.B) {
	const size = 8 << 20
	path := filepath.Join(b.TempDir(), "f")
	writeRandom(b, path, size)
	for _, blksize := range []int{512, 1468, 8192} {
		for _, mapped := range []bool{false, true} {
			from := map[bool]string{false: "read", true: "map"}[mapped]
			b.Run(fmt.Sprintf("blksize=%d/from=%s", blksize, from), func(b *testing.B) {
				_, conn := loopbackPair(b)
				w := benchSender(b, path, conn, blksize)
				blocks := uint64(size / blksize)
				b.SetBytes(int64(blksize))
				cpu := cpuTime(b)
				for n := uint64(0); b.Loop(); {
					if n = n%blocks + 1; n == 1 {
						w.unmap()
						if mapped {
							w.mapped = mapFile(w.t.file, w.t.size)
						}
					}
					if err := w.sendBlock(n); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
				if mapped && w.fromMap < b.N*9/10 {
					b.Fatalf("%d of %d blocks were sent from the mapping", w.fromMap, b.N)
				}
			})
		}
	}
}

// benchSender is a window sender of the file at path on conn, as a
// download with blksize would have.
func benchSender(b *testing.B, path string, conn *blockingConn, blksize int) *windowSender {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	t := &transfer{file: f, size: fi.Size()}
	w := (&Server{}).newWindowSender(conn, t, map[string]string{"blksize": fmt.Sprint(blksize)})
	b.Cleanup(func() {
		w.unmap()
		f.Close()
	})
	return w
}
