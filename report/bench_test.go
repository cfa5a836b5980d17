package report

import (
	"io"
	"testing"
)

// BenchmarkLoad reads and lays out the recorded good boot.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		r, err := Load("testdata/good")
		if err != nil {
			b.Fatal(err)
		}
		if err := r.WriteHTML(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
