package crossbuild

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/bootrig/bootrig/devtable"
)

// genInitCpio compiles the kernel's usr/gen_init_cpio.c (Debian's
// linux-source, unpacked in the build cache or straight from its tarball)
// and returns the program.
func genInitCpio(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "gen_init_cpio.c")
	if m, _ := filepath.Glob(filepath.Join(DefaultCache(), "src", "linux-source-*", "usr", "gen_init_cpio.c")); len(m) > 0 {
		data, err := os.ReadFile(m[0])
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(src, data, 0o644)
	} else {
		tarball, err := defaultKernelTarball()
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("tar", "-xJOf", tarball, "--wildcards", "*/usr/gen_init_cpio.c").Output()
		if err != nil || len(out) == 0 {
			t.Fatalf("gen_init_cpio.c from %s: %v", tarball, err)
		}
		os.WriteFile(src, out, 0o644)
	}
	bin := filepath.Join(dir, "gen_init_cpio")
	if out, err := exec.Command("gcc", "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc gen_init_cpio.c: %v: %s", err, out)
	}
	return bin
}

// listing is GNU cpio's verbose listing of an archive, without dates,
// sorted: what a user compares.
func listing(t *testing.T, archive []byte) []string {
	t.Helper()
	cmd := exec.Command("cpio", "-itvn", "--quiet")
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	cmd.Stdin = bytes.NewReader(archive)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio -itvn: %v", err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		i := 4 // perms, links, uid, gid, then size or "maj, min"
		if strings.HasSuffix(f[i], ",") {
			i++
		}
		lines = append(lines, strings.Join(append(f[:i+1], f[i+4:]...), " ")) // drop "Jan 1 1970"
	}
	sort.Strings(lines)
	return lines
}

// TestInitramfsLikeGenInitCpio: the same device table through the
// kernel's gen_init_cpio and through bootrig gives the same archive
// members: ${VAR} in a file's location, hard links after it (one inode,
// the data once), nodes, symlinks, fifos, sockets.
func TestInitramfsLikeGenInitCpio(t *testing.T) {
	gen := genInitCpio(t)
	bb := t.TempDir()
	if err := os.WriteFile(filepath.Join(bb, "busybox"), []byte("\x7fELF busybox\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BB_OUT", bb)
	table := `dir /bin 755 0 0
dir /sbin 755 0 0
dir /dev 755 0 0
dir /run 755 0 0
file /bin/busybox ${BB_OUT}/busybox 755 0 0 /bin/sh /sbin/init
slink /bin/ls busybox 777 0 0
nod /dev/console 600 0 0 c 5 1
nod /dev/mtdblock0 640 0 6 b 31 0
pipe /run/initctl 600 0 0
sock /run/sock 755 0 0
`
	list := filepath.Join(t.TempDir(), "list")
	os.WriteFile(list, []byte(table), 0o644)
	theirs, err := exec.Command(gen, "-t", "0", list).Output()
	if err != nil {
		t.Fatalf("gen_init_cpio: %v", err)
	}
	entries, err := devtable.Parse(strings.NewReader(table), "list")
	if err != nil {
		t.Fatal(err)
	}
	var ours bytes.Buffer
	if err := writeCPIO(&ours, "", entries); err != nil {
		t.Fatal(err)
	}
	want, got := genInitCpioQuirks(listing(t, theirs)), listing(t, ours.Bytes())
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("bootrig's archive lists\n%s\ngen_init_cpio's\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The hard links come out as one file with the data.
	x := t.TempDir()
	cmd := exec.Command("cpio", "-id", "--quiet", "--no-absolute-filenames", "bin/*", "sbin/*")
	cmd.Dir, cmd.Stdin = x, bytes.NewReader(ours.Bytes())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -id: %v: %s", err, out)
	}
	a, _ := os.Stat(filepath.Join(x, "bin/busybox"))
	b, _ := os.Stat(filepath.Join(x, "sbin/init"))
	if data, _ := os.ReadFile(filepath.Join(x, "bin/sh")); a == nil || b == nil || !os.SameFile(a, b) || string(data) != "\x7fELF busybox\n" {
		t.Errorf("hard links: bin/busybox and sbin/init the same file: %v; bin/sh holds %q", a != nil && b != nil && os.SameFile(a, b), data)
	}
}

// genInitCpioQuirks undoes where bootrig follows GNU cpio rather than
// gen_init_cpio, neither of which the kernel minds: gen_init_cpio stores
// a symlink's target with its NUL (size + 1) and gives fifos and sockets
// a link count of 2, as it does directories.
func genInitCpioQuirks(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		f := strings.Fields(l)
		switch l[0] {
		case 'l':
			n, _ := strconv.Atoi(f[4])
			f[4] = strconv.Itoa(n - 1)
		case 'p', 's':
			f[1] = "1"
		}
		out[i] = strings.Join(f, " ")
	}
	return out
}

// TestInitramfsKeepsFifos: a fifo in the tree (any user can make one)
// goes into the archive as a fifo, not nowhere.
func TestInitramfsKeepsFifos(t *testing.T) {
	dir := testTree(t)
	if err := syscall.Mkfifo(filepath.Join(dir, "etc", "initctl"), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeCPIO(&buf, dir, nil); err != nil {
		t.Fatal(err)
	}
	if l := strings.Join(listing(t, buf.Bytes()), "\n"); !strings.Contains(l, "prw------- 1 0 0 0 etc/initctl") {
		t.Errorf("the fifo is not in the archive:\n%s", l)
	}
}
