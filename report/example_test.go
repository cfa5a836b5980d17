package report_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/bootrig/bootrig/report"
)

// A run directory's report: its phases, where it failed, and the files
// people and CI read.
func Example() {
	r, err := report.Load("testdata/no-init")
	if err != nil {
		panic(err)
	}
	for _, l := range r.Lanes[:3] {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s at %.3fs %s", l.Key, l.Start.S(), l.Detail)))
	}
	for _, f := range r.Failures {
		fmt.Printf("%s in %s at %.3fs\n", f.Class, f.Phase, f.At.S())
	}
	html, _ := os.CreateTemp("", "report-*.html")
	defer os.Remove(html.Name())
	if err := r.WriteHTML(html); err != nil { // one page, no network, no scripts
		panic(err)
	}
	html.Close()
	// Output:
	// U-Boot at 0.086s
	// autoboot at 0.601s
	// tftp uImage at 0.610s 1552640 bytes, 6.1 MiB/s (U-Boot: 6.1 MiB/s)
	// no-init in init at 2.721s
}
