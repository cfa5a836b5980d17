package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestFlagsFirst(t *testing.T) {
	cmds := newApp(nil, nil, nil).Commands
	for _, tc := range []struct{ in, want string }{
		{"bootrig boards show mini2440 --json", "bootrig boards show --json -- mini2440"},
		{"bootrig build kernel --board mini2440 --out /o", "bootrig build --board mini2440 --out /o -- kernel"},
		{"bootrig -v build kernel -b mini2440", "bootrig -v build -b mini2440 -- kernel"},
		{"bootrig initramfs dir out.gz --uimage --devtable t", "bootrig initramfs --uimage --devtable t -- dir out.gz"},
		{"bootrig uboot env get bootcmd --port unix:/s", "bootrig uboot env get --port unix:/s -- bootcmd"},
		{"bootrig uboot mkenv -s 0x40000 -o out -", "bootrig uboot mkenv -s 0x40000 -o out -- -"},
		{"bootrig up --run ls -l", "bootrig up --run ls -l"}, // -l: an unknown flag, for cli to report
		{"bootrig up --run=true --keep", "bootrig up --run=true --keep"},
		{"bootrig initramfs dir -- -odd-name", "bootrig initramfs -- dir -odd-name"},
		{"bootrig bootargs --board mini2440", "bootrig bootargs --board mini2440"},
		{"bootrig nosuch a --b", "bootrig nosuch a --b"},
		{"bootrig help up", "bootrig help up"},
		{"bootrig boards", "bootrig boards"},
	} {
		got := flagsFirst(cmds, strings.Fields(tc.in))
		if want := strings.Fields(tc.want); !reflect.DeepEqual(got, want) {
			t.Errorf("flagsFirst(%q)\n got %q\nwant %q", tc.in, got, want)
		}
	}
}

// TestFlagsAfterArguments runs the built binary with flags typed after
// a command's arguments, as people type them.
func TestFlagsAfterArguments(t *testing.T) {
	out, stderr, code := runBootrig(t, "boards", "show", "mini2440", "--json")
	if code != 0 || !strings.Contains(out, `"name": "mini2440"`) {
		t.Errorf("boards show mini2440 --json: exit %d, %s\n%s", code, stderr, out)
	}
	_, stderr, code = runBootrig(t, "boards", "show", "mini2440", "--no-such-flag")
	if code != 2 || !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("an unknown flag after the argument: exit %d, %q", code, stderr)
	}
}
