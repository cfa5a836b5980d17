package doctor

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/boards"
)

func aptDir(t *testing.T, files map[string]string) AptDir {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sources.list.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return AptDir(dir)
}

func TestDeriveDebSrc(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			name: "deb822",
			files: map[string]string{"sources.list.d/debian.sources": `Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`,
				// Another release and a disabled stanza are not copied.
				"sources.list.d/other.sources": "Types: deb\nURIs: http://x.example/\nSuites: trixie\nComponents: main\n\nTypes: deb\nEnabled: no\nURIs: http://y.example/\nSuites: bookworm\nComponents: main\n",
				// apt ignores files with other extensions.
				"sources.list.d/vendor.list.disabled": "deb http://z.example/ bookworm main\n",
			},
			want: `Types: deb-src
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

`,
		},
		{
			name: "one-line",
			files: map[string]string{"sources.list": "# deb http://old.example/ bookworm main\n" +
				"deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main contrib\n" +
				"deb-src http://mirror.example/debian trixie main\n"},
			want: "Types: deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main contrib\nSigned-By: /k.gpg\n\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := aptDir(t, tc.files)
			if got := d.DeriveDebSrc("bookworm"); got != tc.want {
				t.Errorf("DeriveDebSrc:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestHasDebSrc(t *testing.T) {
	if aptDir(t, map[string]string{"sources.list": "deb http://m.example/ bookworm main\n"}).HasDebSrc() {
		t.Error("HasDebSrc with only deb lines")
	}
	if !aptDir(t, map[string]string{"sources.list": "deb-src http://m.example/ bookworm main\n"}).HasDebSrc() {
		t.Error("!HasDebSrc with a deb-src line")
	}
	if !aptDir(t, map[string]string{"sources.list.d/a.sources": "Types: deb deb-src\nURIs: http://m.example/\n"}).HasDebSrc() {
		t.Error("!HasDebSrc with Types: deb deb-src")
	}
}

func TestInstallDryRunEnablesSources(t *testing.T) {
	d := aptDir(t, map[string]string{"sources.list": "deb http://m.example/ " + Codename() + " main\n"})
	var out strings.Builder
	in := Installer{Apt: d, Out: &out, DryRun: true}
	if err := in.Install(t.Context(), []string{"dpkg-dev", "u-boot-tools"}, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"enabling source packages", "apt-get update", "apt-get install -y -q dpkg-dev u-boot-tools"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(string(d), "sources.list.d", debSrcFile)); err == nil {
		t.Error("dry run wrote a file")
	}
}

func TestPlan(t *testing.T) {
	in := Installer{}
	root := in.Plan([]string{"a", "b"}, true)
	want := [][]string{{"apt-get", "update", "-q"}, {"apt-get", "install", "-y", "-q", "a", "b"}}
	if !reflect.DeepEqual(root, want) {
		t.Errorf("Plan(root) = %q, want %q", root, want)
	}
	user := in.Plan([]string{"a"}, false)
	if user[1][0] != "sudo" || user[1][len(user[1])-1] != "a" {
		t.Errorf("Plan(non-root) = %q, want sudo apt-get install ... a", user)
	}
}

func TestRequirements(t *testing.T) {
	packages := func(board string, extra ...Purpose) map[string]bool {
		p, err := boards.Catalog{}.Lookup(board)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, pkg := range Packages(Requirements(p, extra...)) {
			m[pkg] = true
		}
		return m
	}
	qemu := packages("qemu-arm", Test, Bench)
	for _, pkg := range []string{"gcc-arm-linux-gnueabi", "qemu-system-arm", "u-boot-qemu", "u-boot-tools", "linux-source-6.1",
		"libnfs-utils", "curl", "atftp", "tftp-hpa", "tftpd-hpa", "nfs-ganesha", "nfs-ganesha-vfs"} {
		if !qemu[pkg] {
			t.Errorf("qemu-arm with tests and benchmarks does not require %s", pkg)
		}
	}
	if built := packages("qemu-arm"); !built["dpkg-dev"] || built["u-boot-qemu"] {
		t.Errorf("qemu-arm builds its U-Boot: want dpkg-dev (apt-get source u-boot), not u-boot-qemu: %v", built)
	}
	if deb := packages("qemu-arm-debian"); !deb["u-boot-qemu"] || deb["mtools"] {
		t.Errorf("qemu-arm-debian boots Debian's U-Boot, its environment in flash: want u-boot-qemu, not mtools: %v", deb)
	}
	if built := packages("qemu-arm"); !built["dosfstools"] || !built["mtools"] {
		t.Errorf("qemu-arm keeps its environment in FAT: want dosfstools and mtools: %v", built)
	}
	if vx := packages("vexpress-a9", Test); !vx["dosfstools"] || !vx["mtools"] {
		t.Errorf("the lab's tests make a FAT disk whatever the board: want dosfstools and mtools with the tests: %v", vx)
	}
	mini := packages("mini2440")
	if mini["qemu-system-arm"] || mini["libnfs-utils"] {
		t.Errorf("mini2440 without --tests requires QEMU or test clients: %v", mini)
	}
	// The ARMv4T board's userland: musl from source, an ARMv4T libgcc,
	// and its CPU model to run it on; the ARMv7 board needs only the last.
	for _, pkg := range []string{"qemu-user-static", "gcc-arm-none-eabi", "dpkg-dev", "rsync"} {
		if !mini[pkg] {
			t.Errorf("mini2440 does not require %s", pkg)
		}
	}
	if !qemu["qemu-user-static"] || !qemu["gcc-arm-none-eabi"] || packages("qemu-arm")["gcc-arm-none-eabi"] {
		t.Errorf("qemu-arm: want qemu-user-static, and gcc-arm-none-eabi for the tests only: %v", qemu)
	}
	missing := Missing([]Requirement{
		{What: "here", Present: func() bool { return true }},
		{What: "gone", Present: anyCommand("bootrig-no-such-tool")},
	})
	if len(missing) != 1 || missing[0].What != "gone" {
		t.Errorf("Missing = %+v, want only 'gone'", missing)
	}
}

// TestUnpackPlan: lava-server is downloaded and unpacked, never
// installed (its scripts set up a database).
func TestUnpackPlan(t *testing.T) {
	want := [][]string{{"apt-get", "download", "-q", "lava-server"}, {"mkdir", "-p", "/d"}, {"dpkg-deb", "-x", "lava-server.deb", "/d"}}
	if got := UnpackPlan("lava-server", "lava-server.deb", "/d", true); !reflect.DeepEqual(got, want) {
		t.Errorf("UnpackPlan(root) = %q, want %q", got, want)
	}
	if got := UnpackPlan("lava-server", "x.deb", "/d", false); got[0][0] != "apt-get" || got[2][0] != "sudo" {
		t.Errorf("UnpackPlan(non-root) = %q, want sudo for the writes only", got)
	}
	p, err := boards.Catalog{}.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	reqs := Requirements(p, Test)
	if slices.Contains(Packages(reqs), "lava-server") {
		t.Errorf("Packages installs lava-server: %q", Packages(reqs))
	}
	if u := Unpacked(reqs); len(u) != 1 || u[0].Package != "lava-server" || u[0].Unpack != LAVAServer {
		t.Errorf("Unpacked = %+v, want lava-server into %s", u, LAVAServer)
	}
}
