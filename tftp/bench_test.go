package tftp

import (
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
