package serialcon

import "testing"

func TestPlainText(t *testing.T) {
	for in, want := range map[string]string{
		"\x1b[1;34mbin\x1b[m  \x1b[0;0metc\x1b[0m": "bin  etc", // busybox ls
		"plain\ttext\n":           "plain\ttext\n",
		"\x1b]0;title\x07after":   "after",
		"\x1b]2;title\x1b\\after": "after",
		"\x1b[2J\x1b[Hhome":       "home",
		"\x1bMup":                 "up",
		"100% [=====>    ]":       "100% [=====>    ]",
	} {
		if got := PlainText(in); got != want {
			t.Errorf("PlainText(%q) = %q, want %q", in, got, want)
		}
	}
}
