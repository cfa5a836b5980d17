package ubootfake

import (
	"fmt"
	"testing"
)

// The parsers follow U-Boot's: the simple one (run_command,
// process_macros, parse_line of 2009-era common/main.c) and hush.
func TestParse(t *testing.T) {
	env := map[string]string{"a": "one two", "k": "0x40400000"}
	for _, tc := range []struct {
		hush bool
		line string
		want string
	}{
		{false, "setenv x 'a  b'", `[[setenv x a b]]`},                                        // quotes removed, blanks split
		{false, "setenv bootcmd 'tftp 0x1 u; bootm'", `[[setenv bootcmd tftp 0x1 u; bootm]]`}, // ; quoted
		{false, "echo x; echo y", `[[echo x] [echo y]]`},
		{false, "echo ${a}$(k)", `[[echo one two0x40400000]]`},
		{false, "echo '${k}'", `[[echo ${k}]]`},
		{true, "setenv x 'a  b'", `[[setenv x a  b]]`},
		{true, `setenv x "${a} ${k}"`, `[[setenv x one two 0x40400000]]`},
		{true, `setenv x ${a}`, `[[setenv x one two]]`},
		{true, `setenv x '${k}; bootm'`, `[[setenv x ${k}; bootm]]`},
		{true, `echo a;echo b`, `[[echo a] [echo b]]`},
	} {
		b := &Board{env: env}
		var got [][]string
		if tc.hush {
			got = b.parseHush(tc.line)
		} else {
			got = b.parseSimple(tc.line)
		}
		if s := fmt.Sprint(got); s != tc.want {
			t.Errorf("hush=%v %q: %s, want %s", tc.hush, tc.line, s, tc.want)
		}
	}
}
