package uboot

import (
	"bytes"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"testing"
)

const benchSize = 16 << 20

// BenchmarkWrap16MiB wraps a 16 MiB payload into a uImage on disk (in the
// page cache): read, CRC, write, seek back for the header. Compare with
// BenchmarkCRC32_16MiB and BenchmarkCopy16MiB, its two halves.
func BenchmarkWrap16MiB(b *testing.B) {
	payload := random(1, benchSize)
	f := benchFile(b)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			b.Fatal(err)
		}
		if _, err := Write(f, Header{Type: TypeKernel, Arch: ArchARM}, bytes.NewReader(payload)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrap16MiBNoDisk is BenchmarkWrap16MiB without the file: the
// writer's own cost.
func BenchmarkWrap16MiBNoDisk(b *testing.B) {
	payload := random(1, benchSize)
	var w seekDiscard
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Write(&w, Header{Type: TypeKernel, Arch: ArchARM}, bytes.NewReader(payload)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCRC32_16MiB is the anchor: hash/crc32 over the same data.
func BenchmarkCRC32_16MiB(b *testing.B) {
	payload := random(1, benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		crc32.ChecksumIEEE(payload)
	}
}

// BenchmarkCopy16MiB is the other anchor: the same bytes copied into the
// same kind of file, no CRC.
func BenchmarkCopy16MiB(b *testing.B) {
	payload := random(1, benchSize)
	f := benchFile(b)
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := f.WriteAt(payload, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func benchFile(b *testing.B) *os.File {
	f, err := os.Create(filepath.Join(b.TempDir(), "bench.img"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}
