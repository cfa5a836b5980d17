package report

import (
	"cmp"
	"slices"
)

// topGaps is how many gaps a report shows.
const topGaps = 5

// gaps are the n longest silences between consecutive lines, longest
// first.
func gaps(lines []Line, n int) []Gap {
	var gs []Gap
	for i := 1; i < len(lines); i++ {
		if d := lines[i].At - lines[i-1].At; d > 0 {
			gs = append(gs, Gap{Start: lines[i-1].At, End: lines[i].At, Before: i - 1, After: i})
		}
	}
	slices.SortStableFunc(gs, func(a, b Gap) int { return cmp.Compare(b.End-b.Start, a.End-a.Start) })
	return gs[:min(n, len(gs))]
}
