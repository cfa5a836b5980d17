package nfsroot

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	nfs "github.com/willscott/go-nfs"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// BenchmarkRead1MiB is one client reading a file sequentially in 1 MiB
// READs over loopback TCP: the server's per-call cost for bulk data.
func BenchmarkRead1MiB(b *testing.B) {
	dir := b.TempDir()
	data := make([]byte, 64<<20)
	writeFile(b, filepath.Join(dir, "big.bin"), data)
	h := start(b, dir, nil)
	c := dial(b, h.addr)
	fh := c.mustLookup(c.mount("/"), "big.bin")
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for i := range b.N {
		if st, got := c.read(fh, uint64(i%64)<<20, 1<<20); st != nfs.NFSStatusOk || len(got) != 1<<20 {
			b.Fatal(st, len(got))
		}
	}
}

// BenchmarkRead4KiB is one client reading a file in 4 KiB READs, a new
// offset each time: the per-call cost of finding and opening the file.
func BenchmarkRead4KiB(b *testing.B) {
	dir := b.TempDir()
	writeFile(b, filepath.Join(dir, "sub", "dir", "f.bin"), make([]byte, 4<<20))
	h := start(b, dir, nil)
	c := dial(b, h.addr)
	fh := c.mustLookup(c.mount("/"), "sub", "dir", "f.bin")
	b.SetBytes(4 << 10)
	b.ResetTimer()
	for i := range b.N {
		if st, got := c.read(fh, uint64(i%1024)<<12, 4<<10); st != nfs.NFSStatusOk || len(got) != 4<<10 {
			b.Fatal(st, len(got))
		}
	}
}

// BenchmarkWrite1MiB is one client writing a file sequentially in 1 MiB
// UNSTABLE WRITEs over loopback TCP.
func BenchmarkWrite1MiB(b *testing.B) {
	dir := b.TempDir()
	writeFile(b, filepath.Join(dir, "big.bin"), nil)
	h := start(b, dir, nil)
	c := dial(b, h.addr)
	fh := c.mustLookup(c.mount("/"), "big.bin")
	data := make([]byte, 1<<20)
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for i := range b.N {
		if st := c.write(fh, uint64(i%64)<<20, data, unstable); st != nfs.NFSStatusOk {
			b.Fatal(st)
		}
	}
}

// BenchmarkReaddirplus10k lists a 10,000-entry directory with
// READDIRPLUS replies of 8 KiB (what libnfs asks for), again and again:
// what the server keeps of a listing it has made.
func BenchmarkReaddirplus10k(b *testing.B) { benchReaddirplus10k(b, false) }

// BenchmarkReaddirplus10kCold is BenchmarkReaddirplus10k with a file
// created on the host in the directory before each listing, so nothing
// the server kept of the directory may be used: the cost of a first
// listing.
func BenchmarkReaddirplus10kCold(b *testing.B) { benchReaddirplus10k(b, true) }

func benchReaddirplus10k(b *testing.B, cold bool) {
	dir := b.TempDir()
	for i := range 10000 {
		writeFile(b, filepath.Join(dir, "many", fmt.Sprintf("entry-%05d", i)), nil)
	}
	h := start(b, dir, nil)
	c := dial(b, h.addr)
	many := c.mustLookup(c.mount("/"), "many")
	b.ResetTimer()
	for i := range b.N {
		want := 10002
		if cold {
			b.StopTimer()
			writeFile(b, filepath.Join(dir, "many", fmt.Sprintf("new-%d", i)), nil)
			want += i + 1
			b.StartTimer()
		}
		if st, ents := c.readdirplus(many, 8192, 8192); st != nfs.NFSStatusOk || len(ents) != want {
			b.Fatal(st, len(ents))
		}
	}
}

// BenchmarkNull is the round trip of one NULL call: the transport's own
// cost per call.
func BenchmarkNull(b *testing.B) {
	h := start(b, b.TempDir(), nil)
	c := dial(b, h.addr)
	for range b.N {
		c.call(oncrpc.ProgNFS, 0, nil)
	}
}

// BenchmarkRoundTrip is one client making the small calls of a
// recursive listing (nfs-ls -R) one at a time on one connection over
// loopback TCP: the transport's cost per call and the procedure's own.
func BenchmarkRoundTrip(b *testing.B) {
	dir := b.TempDir()
	writeFile(b, filepath.Join(dir, "bin", "busybox"), make([]byte, 4096))
	if err := os.Symlink("busybox", filepath.Join(dir, "bin", "ls")); err != nil {
		b.Fatal(err)
	}
	h := start(b, dir, &Server{Log: slog.New(slog.DiscardHandler)})
	c := dial(b, h.addr)
	bin := c.mustLookup(c.mount("/"), "bin")
	ls := c.mustLookup(bin, "ls")
	for _, bc := range []struct {
		name string
		call func() nfs.NFSStatus
	}{
		{"NULL", func() nfs.NFSStatus { c.call(oncrpc.ProgNFS, 0, nil); return nfs.NFSStatusOk }},
		{"GETATTR", func() nfs.NFSStatus { st, _ := c.getattr(bin); return st }},
		{"LOOKUP", func() nfs.NFSStatus { st, _ := c.lookup(bin, "ls"); return st }},
		{"READLINK", func() nfs.NFSStatus { st, _ := c.readlink(ls); return st }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				if st := bc.call(); st != nfs.NFSStatusOk {
					b.Fatal(st)
				}
			}
		})
	}
}

// BenchmarkHandleMAC is the cost the handle MAC adds to each handle the
// server makes (every LOOKUP, CREATE and READDIRPLUS entry) and checks
// (every call).
func BenchmarkHandleMAC(b *testing.B) {
	x := openExport(b, b.TempDir(), ExportOptions{})
	defer x.Close()
	for i := range b.N {
		if _, _, err := x.parseHandle(x.makeHandle(fileKey{1, uint64(i)}, 3)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReaddirplusCall is the server's own work for one 8 KiB
// READDIRPLUS reply (about 45 entries) from the middle of a kept
// 10,000-entry listing, without the network.
func BenchmarkReaddirplusCall(b *testing.B) {
	dir := b.TempDir()
	for i := range 10000 {
		writeFile(b, filepath.Join(dir, "many", fmt.Sprintf("entry-%05d", i)), nil)
	}
	h := start(b, dir, &Server{Log: slog.New(slog.DiscardHandler)})
	c := dial(b, h.addr)
	many := c.mustLookup(c.mount("/"), "many")
	_, ents := c.readdirplus(many, 8192, 8192)
	rec := c.callMsg(1, oncrpc.ProgNFS, 3, uint32(nfs.NFSProcedureReadDirPlus), args(func(e *encoder) {
		e.Opaque(many)
		e.Uint64(ents[5000].cookie)
		e.Fixed(make([]byte, 8))
		e.Uint32(8192)
		e.Uint32(8192)
	}))
	benchHandle(b, h.srv, rec, 8000)
}

// BenchmarkLookupCall is the server's own work for one LOOKUP of a
// directory two levels down, without the network.
func BenchmarkLookupCall(b *testing.B) {
	dir := b.TempDir()
	writeFile(b, filepath.Join(dir, "usr", "share", "misc", "f"), nil)
	h := start(b, dir, &Server{Log: slog.New(slog.DiscardHandler)})
	c := dial(b, h.addr)
	share := c.mustLookup(c.mount("/"), "usr", "share")
	rec := c.callMsg(1, oncrpc.ProgNFS, 3, uint32(nfs.NFSProcedureLookup), args(func(e *encoder) {
		e.Opaque(share)
		e.String("misc")
	}))
	benchHandle(b, h.srv, rec, 200)
}

// benchHandle times the server's handling of the call rec, whose reply
// must be at least minLen bytes long, without the network.
func benchHandle(b *testing.B, srv *Server, rec []byte, minLen int) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 700}
	b.ResetTimer()
	for range b.N {
		reply := srv.handle(rec, addr)
		if len(reply) < minLen {
			b.Fatalf("reply of %d bytes", len(reply))
		}
		oncrpc.Recycle(reply)
	}
}

// BenchmarkMountConn is what a libnfs client does before its first NFS
// call: a new connection, MOUNT's NULL and MNT, and the connection
// closed.
func BenchmarkMountConn(b *testing.B) {
	dir := b.TempDir()
	writeFile(b, filepath.Join(dir, "rootfs", "bin", "busybox"), nil)
	h := start(b, dir, &Server{Log: slog.New(slog.DiscardHandler)})
	for range b.N {
		c := dial(b, h.addr)
		c.call(oncrpc.ProgMount, 0, nil)
		if len(c.mount(filepath.Join(dir, "rootfs"))) == 0 {
			b.Fatal("no handle")
		}
		c.c.Close()
	}
}
