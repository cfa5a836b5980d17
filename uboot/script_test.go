package uboot

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestScriptMatchesMkimage: Script's boot.scr is byte for byte what
// mkimage -T script makes from the same commands, one per line.
func TestScriptMatchesMkimage(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", fmt.Sprint(epoch))
	for _, c := range []struct {
		name string
		cmds []string
	}{
		{"bootargs", []string{"setenv bootargs console=ttySAC0,115200 root=/dev/nfs nfsroot=192.168.1.113:/srv/mini2440,v3,tcp ip=192.168.1.244:192.168.1.113:192.168.1.1:255.255.255.0:mini2440:eth0:off " + strings.Repeat("x", 120), "saveenv"}},
		{"one", []string{"bootm 0x32000000"}},
		{"aligned", []string{"abc"}}, // 4 bytes with the newline
		{"hush", []string{"if tftp ${loadaddr} uImage; then", "  bootm ${loadaddr}", "fi"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Script(c.cmds, "bootrig "+c.name)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			src := writeFiles(t, dir, []byte(strings.Join(c.cmds, "\n")+"\n"))[0]
			out := filepath.Join(dir, "boot.scr")
			if _, err := mkimage(t, "-A", "arm", "-O", "linux", "-T", "script", "-C", "none", "-n", "bootrig "+c.name, "-d", src, out); err != nil {
				t.Fatal(err)
			}
			if want := readFile(t, out); !bytes.Equal(got, want) {
				t.Fatalf("Script differs from mkimage -T script:\nours   %x\ntheirs %x", got, want)
			}
			img, err := Verify(bytes.NewReader(got))
			if err != nil {
				t.Fatal(err)
			}
			if img.Type != TypeScript || len(img.Parts) != 1 || int(img.Parts[0]) != len(strings.Join(c.cmds, "\n"))+1 {
				t.Errorf("Verify: type %v parts %v", img.Type, img.Parts)
			}
			if !img.Time.Equal(time.Unix(epoch, 0)) {
				t.Errorf("time %v, want SOURCE_DATE_EPOCH %d", img.Time, epoch)
			}
		})
	}
}

func TestScriptErrors(t *testing.T) {
	for _, cmds := range [][]string{nil, {"echo a\x00b"}} {
		if _, err := Script(cmds, "x"); !errors.Is(err, ErrBadScript) {
			t.Errorf("Script(%q): %v, want ErrBadScript", cmds, err)
		}
	}
}
