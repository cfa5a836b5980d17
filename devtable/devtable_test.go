package devtable

import (
	"bytes"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `# a comment
dir /dev 755 0 0

nod /dev/console 600 0 0 c 5 1
nod /dev/mtdblock0 640 0 6 b 31 0
slink /bin/ash busybox 777 0 0
slink /lib /usr/lib 777 0 0
pipe /run/initctl 600 0 0
sock /run/s 755 1000 1000
file /init /home/me/init 4755 0 0
file /bin/busybox ${OUT}/busybox 755 0 0 /bin/sh /sbin/init
`
	got, err := Parse(strings.NewReader(in), "t.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Kind: Dir, Path: "/dev", Mode: 0755, Line: 2},
		{Kind: Nod, Path: "/dev/console", Mode: 0600, DevType: 'c', Major: 5, Minor: 1, Line: 4},
		{Kind: Nod, Path: "/dev/mtdblock0", Mode: 0640, GID: 6, DevType: 'b', Major: 31, Line: 5},
		{Kind: Slink, Path: "/bin/ash", Target: "busybox", Mode: 0777, Line: 6},
		{Kind: Slink, Path: "/lib", Target: "/usr/lib", Mode: 0777, Line: 7},
		{Kind: Pipe, Path: "/run/initctl", Mode: 0600, Line: 8},
		{Kind: Sock, Path: "/run/s", Mode: 0755, UID: 1000, GID: 1000, Line: 9},
		{Kind: File, Path: "/init", Source: "/home/me/init", Mode: 0755 | fs.ModeSetuid, Line: 10},
		{Kind: File, Path: "/bin/busybox", Source: "${OUT}/busybox", Links: []string{"/bin/sh", "/sbin/init"}, Mode: 0755, Line: 11},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse:\n got %+v\nwant %+v", got, want)
	}
	// Round trip through Write.
	var buf bytes.Buffer
	if err := Write(&buf, got); err != nil {
		t.Fatal(err)
	}
	again, err := Parse(&buf, "round-trip")
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		again[i].Line, got[i].Line = 0, 0
	}
	if !reflect.DeepEqual(again, got) {
		t.Fatalf("round trip:\n got %+v\nwant %+v\ntext:\n%s", again, got, buf.String())
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"blk /dev/x 600 0 0", `t.txt:1: device table syntax error: unknown type "blk"`},
		{"nod /dev/x 600 0 0 c 5", "nod takes 7 fields, got 6"},
		{"nod /dev/x 600 0 0 x 5 1", `device type "x"`},
		{"dir /dev 9z9 0 0", `mode "9z9"`},
		{"dir /dev 755 root 0", `uid "root" is not a number`},
		{"dir ../etc 755 0 0", `has '..'`},
		{"dir / 755 0 0", "names the root itself"},
		{"dir /a 755 0 0 extra", "dir takes 4 fields, got 5"},
		{"nod /dev/x 600 0 0 c 5000 1", "device 5000,1: the kernel takes majors up to 4095 and minors up to 1048575"},
		{"nod /dev/x 600 0 0 c 1 1048576", "minors up to 1048575"},
		{"dir /dev 755 0 0\ndir /dev 755 0 0", "t.txt:2: device table syntax error: /dev is already declared on line 1"},
		{"file /bin/a /a 755 0 0 /bin/b\nslink /bin/b a 777 0 0", "t.txt:2: device table syntax error: /bin/b is already declared on line 1"},
		{"file /bin/a /a 755 0 0 ../b", "hard link: path \"../b\" has '..'"},
	} {
		_, err := Parse(strings.NewReader(tc.line), "t.txt")
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an ErrSyntax containing %q", tc.line, err, tc.want)
		}
	}
}

func TestDefault(t *testing.T) {
	for _, tc := range []struct {
		console    string
		maj, minor uint32
	}{{"ttySAC0", 204, 64}, {"ttyAMA0", 204, 64}, {"ttyS1", 4, 65}, {"ttyUSB0", 188, 0}} {
		byPath := map[string]Entry{}
		for _, e := range Default(tc.console) {
			byPath[e.Path] = e
		}
		con := byPath["/dev/console"]
		if con.Kind != Nod || con.DevType != 'c' || con.Major != 5 || con.Minor != 1 {
			t.Errorf("%s: /dev/console = %+v, want c 5 1", tc.console, con)
		}
		if n := byPath["/dev/null"]; n.Major != 1 || n.Minor != 3 {
			t.Errorf("%s: /dev/null = %+v, want c 1 3", tc.console, n)
		}
		s := byPath["/dev/"+tc.console]
		if s.Major != tc.maj || s.Minor != tc.minor {
			t.Errorf("/dev/%s = %d:%d, want %d:%d", tc.console, s.Major, s.Minor, tc.maj, tc.minor)
		}
		if m := byPath["/tmp"].FileMode(); m != fs.ModeDir|fs.ModeSticky|0777 {
			t.Errorf("/tmp mode %v, want drwxrwxrwt", m)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("nod /dev/console 600 0 0 c 5 1\n")
	f.Add("slink /bin/sh busybox 777 0 0\nfile /a /b 644 0 0\n")
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := Parse(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, entries); err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(&buf, "again"); err != nil {
			t.Fatalf("written table does not parse: %v\n%s", err, buf.String())
		}
	})
}

// TestLocation: ${VAR} in a file's location expands as gen_init_cpio's
// cpio_replace_env does: from the environment, unset to nothing.
func TestLocation(t *testing.T) {
	env := map[string]string{"OUT": "/build/out", "B": "busybox"}
	for src, want := range map[string]string{
		"${OUT}/${B}":    "/build/out/busybox",
		"/plain/path":    "/plain/path",
		"${UNSET}/x":     "/x",
		"$OUT/x":         "$OUT/x", // only the braced form, as gen_init_cpio
		"${OUT}${OUT}/x": "/build/out/build/out/x",
	} {
		if got := (Entry{Kind: File, Source: src}).Location(func(k string) string { return env[k] }); got != want {
			t.Errorf("Location(%q) = %q, want %q", src, got, want)
		}
	}
}
