package terminal

import (
	"reflect"
	"testing"
)

func TestKeys(t *testing.T) {
	send := func(s string) Event { return Event{Send: []byte(s)} }
	cmd := func(c Command, k byte) Event { return Event{Command: c, Key: k} }
	for _, tc := range []struct {
		name  string
		reads []string // what one Read each returned
		want  []Event
	}{
		{"plain keys", []string{"ls\r"}, []Event{send("ls\r")}},
		{"quit", []string{"ab\x1dqcd"}, []Event{send("ab"), cmd(Quit, 'q'), send("cd")}},
		{"quit upper case", []string{"\x1dQ"}, []Event{cmd(Quit, 'Q')}},
		{"break between keys", []string{"x\x1dby"}, []Event{send("x"), cmd(Break, 'b'), send("y")}},
		{"power cycle", []string{"\x1dr", "\x1dR"}, []Event{cmd(PowerCycle, 'r'), cmd(PowerCycle, 'R')}},
		{"literal Ctrl-]", []string{"a\x1d\x1db"}, []Event{send("a\x1db")}},
		{"escape split across reads", []string{"a\x1d", "qz"}, []Event{send("a"), cmd(Quit, 'q'), send("z")}},
		{"literal split across reads", []string{"\x1d", "\x1d"}, []Event{send("\x1d")}},
		{"help", []string{"\x1d?"}, []Event{cmd(ShowKeys, '?')}},
		{"unknown key dropped", []string{"a\x1dxb"}, []Event{send("a"), cmd(ShowKeys, 'x'), send("b")}},
		{"dot is no command", []string{"\x1d."}, []Event{cmd(ShowKeys, '.')}},
		{"escape at the end waits", []string{"a\x1d"}, []Event{send("a")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var k Keys
			var got []Event
			for _, r := range tc.reads {
				got = append(got, k.Feed([]byte(r))...)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("reads %q: events %+v, want %+v", tc.reads, got, tc.want)
			}
		})
	}
}

func FuzzKeys(f *testing.F) {
	f.Add([]byte("ls\x1d\x1d\x1dq"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Without Ctrl-] in the input, every byte goes to the board as is.
		var k Keys
		var sent []byte
		escapes := 0
		for _, ev := range k.Feed(b) {
			sent = append(sent, ev.Send...)
		}
		for _, c := range b {
			if c == Escape {
				escapes++
			}
		}
		if escapes == 0 && string(sent) != string(b) {
			t.Fatalf("Feed(%q) sent %q", b, sent)
		}
	})
}
