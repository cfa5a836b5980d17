package serialcon

import "regexp"

// reEscape matches terminal control sequences (ECMA-48): CSI (colours,
// cursor moves: ESC [ ... final byte), OSC (window titles: ESC ] ...
// BEL or ESC \) and the two-byte ESC sequences.
var reEscape = regexp.MustCompile("\x1b(?:\\[[0-?]*[ -/]*[@-~]|\\][^\x07\x1b]*(?:\x07|\x1b\\\\)|[@-Z\\\\-_])")

// PlainText is s without terminal control sequences: what a board's
// program wrote for a terminal (ls's colours), made fit for a file or a
// pipe, as `ls --color=auto` would have written it.
func PlainText(s string) string { return reEscape.ReplaceAllString(s, "") }
