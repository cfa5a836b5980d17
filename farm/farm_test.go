package farm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/boards"
)

const good = `# two boards on one bench
boards:
  - name: b1
    profile: qemu-arm
    ip: 127.0.0.2
    mac: 52:54:00:12:34:56
    rootfs: b1/rootfs
  - name: b2
    profile: mini2440
    ip: 127.0.0.3
    rootfs: /srv/b2
    tftp: /srv/b2-boot
`

func TestParse(t *testing.T) {
	bs, err := Parse("/etc/bench/farm.yaml", []byte(good), boards.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 {
		t.Fatalf("%d boards, want 2", len(bs))
	}
	b1, b2 := bs[0], bs[1]
	if b1.Name != "b1" || b1.Profile.Name != "qemu-arm" || b1.IP.String() != "127.0.0.2" || b1.MAC.String() != "52:54:00:12:34:56" ||
		b1.RootFS != "/etc/bench/b1/rootfs" || b1.TFTP != "" || b1.Line != 3 {
		t.Errorf("b1: %+v", b1)
	}
	if b2.Profile.Name != "mini2440" || b2.MAC != nil || b2.RootFS != "/srv/b2" || b2.TFTP != "/srv/b2-boot" || b2.Line != 8 {
		t.Errorf("b2: %+v", b2)
	}
}

// TestParseErrors: each mistake is named at its line.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, change, with string
		line               int
		msg                string
	}{
		{"unknown profile", "profile: mini2440", "profile: mini2441", 9, `board b2: profile: unknown board`},
		{"bad ip", "ip: 127.0.0.3", "ip: 127.0.0.300", 10, `ip "127.0.0.300" is not`},
		{"no ip, a mac", "    ip: 127.0.0.2\n", "", 3, "board b1: no ip: bootrig tells boards apart by their IP"},
		{"bad mac", "52:54:00:12:34:56", "52:54:00:12:34", 6, `mac "52:54:00:12:34" is not`},
		{"same ip", "127.0.0.3", "127.0.0.2", 8, "board b2: ip 127.0.0.2 is board b1's too (line 3)"},
		{"same name", "name: b2", "name: b1", 8, "the name of the board at line 3"},
		{"same rootfs", "/srv/b2", "/etc/bench/b1/rootfs", 8, "rootfs /etc/bench/b1/rootfs is board b1's too"},
		{"no rootfs", "    rootfs: /srv/b2\n", "", 8, "board b2: no rootfs:"},
		{"unknown field", "    tftp:", "    tfpt:", 12, `unknown field "tfpt"`},
		{"field twice", "    tftp: /srv/b2-boot\n", "    tftp: /srv/b2-boot\n    tftp: /srv/x\n", 13, "tftp: given twice"},
		{"bad name", "name: b1", "name: b/1", 3, `board name "b/1"`},
		{"not yaml", "ip: 127.0.0.3", "ip: 127.0.0.3: x", 10, "mapping values are not allowed"},
		{"no boards", good, "boards: []\n", 1, "boards: wants a list"},
		{"top-level typo", "boards:", "board:", 2, `unknown field "board"`},
	}
	for _, tc := range tests {
		data := strings.Replace(good, tc.change, tc.with, 1)
		_, err := Parse("/etc/bench/farm.yaml", []byte(data), boards.Lookup)
		var fe *Error
		if !errors.As(err, &fe) || fe.Line != tc.line || !strings.Contains(err.Error(), tc.msg) ||
			!strings.HasPrefix(err.Error(), "farm /etc/bench/farm.yaml:") {
			t.Errorf("%s: %v; want line %d and %q", tc.name, err, tc.line, tc.msg)
		}
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "farm.yaml")
	if _, err := Load(path, boards.Lookup); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a missing farm file: %v, want an error naming it", err)
	}
	os.WriteFile(path, nil, 0o644)
	if _, err := Load(path, boards.Lookup); err == nil || !strings.Contains(err.Error(), path+":1: the file is empty") {
		t.Errorf("an empty farm file: %v", err)
	}
	os.WriteFile(path, []byte(good), 0o644)
	bs, err := Load(path, boards.Lookup)
	if err != nil || len(bs) != 2 || bs[0].RootFS != filepath.Join(filepath.Dir(path), "b1", "rootfs") {
		t.Errorf("Load: %v, %v; want b1's rootfs beside the file", bs, err)
	}
}
