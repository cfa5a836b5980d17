package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// TestReportInBrowser: a real boot that panics (init is /bin/false) makes
// a report that headless Chromium loads: a lane per phase, the panic
// marked with its class, the timeline's bars linked to console lines.
func TestReportInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the emulated board")
	}
	state, rootfs := t.TempDir(), rootfsCopy(t)
	profile := profileWith(t, "  init: /sbin/init", "  init: /bin/false")
	r := runBootrig(t, "up", "--quiet", "--no-build", "--board-file", profile, "--state", state, "--rootfs", rootfs,
		"--report", "--junit", filepath.Join(state, "junit.xml"), "--run", "true")
	if r.code != 1 || !strings.Contains(r.stderr, "kernel panic") {
		t.Fatalf("a boot with init=/bin/false: exit %d", r.code)
	}
	path := reportPath(t, r.stderr)
	doc := dumpDOM(t, path)
	lanes := map[string]string{} // label -> the console line its bar links to
	ids := map[string]bool{}
	var failures []string
	walk(doc, func(n *html.Node) {
		switch {
		case n.Data == "g" && attr(n, "class") == "lane":
			lanes[label(n)] = firstLink(n)
		case n.Data == "g" && attr(n, "class") == "failure":
			failures = append(failures, attr(n, "data-class"))
		case n.Data == "tr" && attr(n, "id") != "":
			ids[attr(n, "id")] = true
		}
	})
	for _, want := range []string{"U-Boot", "autoboot", "tftp uImage", "Starting kernel", "Linux version", "NFS mount", "VFS: Mounted root", "init"} {
		if !hasPrefixKey(lanes, want) {
			t.Errorf("no lane %q among %q", want, slices.Collect(maps.Keys(lanes)))
		}
	}
	if len(failures) != 1 || failures[0] != "kernel-panic" {
		t.Errorf("failure marks %q, want one kernel-panic", failures)
	}
	for name, link := range lanes {
		if !ids[strings.TrimPrefix(link, "#")] {
			t.Errorf("lane %q links to %q, not a console line", name, link)
		}
	}
	if !strings.Contains(text(doc), "Attempted to kill init!") {
		t.Error("the console log is not in the page")
	}
	// CI's view: junitparser reads the failing phase and its class.
	const script = `
import sys
from junitparser import JUnitXml, Failure
for suite in JUnitXml.fromfile(sys.argv[1]):
    for case in suite:
        for r in case.result:
            if isinstance(r, Failure):
                print(case.name, r.type)
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, filepath.Join(state, "junit.xml")).Output()
	if got, want := string(out), "init kernel-panic\nshell kernel-panic\n"; err != nil || got != want {
		t.Errorf("junitparser: failed cases %q, %v; want %q", got, err, want)
	}
}

// TestCompareSlowTFTP: two real boots, the second from a cache whose
// uImage has 16 MiB of zeros appended (U-Boot fetches them all, bootm
// ignores them: the header says how long the kernel is); comparing them
// names the transfer as the phase that changed most.
func TestCompareSlowTFTP(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the emulated board")
	}
	state, rootfs := t.TempDir(), rootfsCopy(t)
	if r := runBootrig(t, "up", "--quiet", "--no-build", "--state", state, "--rootfs", rootfs, "--run", "true"); r.code != 0 {
		t.Fatalf("first boot: exit %d", r.code)
	}
	big := bigImageCache(t, 16<<20)
	r := runBootrigEnv(t, []string{"BOOTRIG_CACHE=" + big}, "up", "--quiet", "--no-build", "--state", state, "--rootfs", rootfs,
		"--compare", "last", "--run", "true")
	if r.code != 0 || !strings.Contains(r.stderr, "largest change: tftp uImage +") {
		t.Errorf("up --compare last: exit %d", r.code)
	}
	out := runBootrig(t, "report", "--state", state, "--compare", "prev", "last", "--json")
	var cmp struct {
		Largest string
		Rows    []struct {
			Key, Status string
			Delta       float64
		}
	}
	if err := json.Unmarshal([]byte(out.stdout), &cmp); err != nil {
		t.Fatalf("report --compare --json: %v: %s", err, out.stdout)
	}
	if cmp.Largest != "tftp uImage" {
		t.Errorf("largest change %q, want tftp uImage: %+v", cmp.Largest, cmp.Rows)
	}
	for _, d := range cmp.Rows {
		if d.Status != "changed" {
			t.Errorf("lane %s %s between two boots of one board", d.Key, d.Status)
		}
	}
}

// bigImageCache is a cache whose qemu-arm uImage is the built one with
// pad zero bytes appended.
func bigImageCache(t *testing.T, pad int) string {
	t.Helper()
	cache := t.TempDir()
	out := filepath.Join(cache, "qemu-arm", "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"uImage", "rootfs.devtable", "u-boot.bin"} {
		data, err := os.ReadFile(filepath.Join(buildOut(t), name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "uImage" {
			data = append(data, make([]byte, pad)...)
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return cache
}

// profileWith is the qemu-arm profile with one line's start replaced.
func profileWith(t *testing.T, old, new string) string {
	t.Helper()
	data, err := os.ReadFile("../boards/profiles/qemu-arm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("\n"+old)) {
		t.Fatalf("the qemu-arm profile has no line %q", old)
	}
	path := filepath.Join(t.TempDir(), "qemu-arm.yaml")
	if err := os.WriteFile(path, bytes.Replace(data, []byte("\n"+old), []byte("\n"+new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func reportPath(t *testing.T, stderr string) string {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if p, ok := strings.CutPrefix(l, "report: "); ok {
			return p
		}
	}
	t.Fatal("up --report printed no report path")
	return ""
}

// dumpDOM loads path in headless Chromium and parses the DOM it built.
func dumpDOM(t *testing.T, path string) *html.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "chromium", chromiumArgs(t, "--dump-dom", "file://"+path)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// chromiumArgs run it headless, as root, with nothing reaching out.
func chromiumArgs(t *testing.T, args ...string) []string {
	return append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}, args...)
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// label is the text of the first <text> element in n.
func label(n *html.Node) string {
	l := ""
	walk(n, func(c *html.Node) {
		if l == "" && c.Data == "text" && c.FirstChild != nil {
			l = c.FirstChild.Data
		}
	})
	return l
}

// text is all the text in n.
func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return b.String()
}

// firstLink is the href of the first link in n.
func firstLink(n *html.Node) string {
	href := ""
	walk(n, func(c *html.Node) {
		if href == "" && c.Data == "a" {
			href = attr(c, "href")
		}
	})
	return href
}

func hasPrefixKey(m map[string]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}
