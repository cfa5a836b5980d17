package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/serialcon"
)

func load(t *testing.T, name string) *Report {
	t.Helper()
	r, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func keys(ls []Lane) []string {
	var ks []string
	for _, l := range ls {
		ks = append(ks, l.Key)
	}
	return ks
}

func classes(fs []Failure) []string {
	var cs []string
	for _, f := range fs {
		cs = append(cs, f.Class+"@"+f.Phase)
	}
	return cs
}

func lane(t *testing.T, r *Report, key string) Lane {
	t.Helper()
	for _, l := range r.Lanes {
		if l.Key == key {
			return l
		}
	}
	t.Fatalf("no lane %q in %q", key, keys(r.Lanes))
	return Lane{}
}

func TestRecordedConsoles(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lanes    []string // in this order, among others
		failures []string // class@phase, the first ones
		gap      [2]string
	}{
		{"good", []string{"U-Boot", "autoboot", "tftp uImage", "Starting kernel", "kernel start to root mounted", "Linux version",
			"IP-Config", "NFS mount", "VFS: Mounted root", "init", "shell", "run 1: uname -a; false"},
			nil, [2]string{"", "[    0.000000] Booting Linux on physical CPU 0x0"}},
		{"tftp-timeout", []string{"U-Boot", "autoboot", "tftp uImage"},
			[]string{"tftp-timeout@tftp uImage", "retry-count-exceeded@tftp uImage", "wrong-image-format@tftp uImage"},
			[2]string{"Loading: *\bT T T T T T T T T T ", "Retry count exceeded; starting again"}},
		{"panic", []string{"Starting kernel", "VFS: Mounted root", "init"},
			[]string{"kernel-panic@init"}, [2]string{"", "[    0.000000] Booting Linux on physical CPU 0x0"}},
		{"no-init", []string{"Starting kernel", "VFS: Mounted root", "init"},
			[]string{"no-init@init"}, [2]string{"", "[    0.000000] Booting Linux on physical CPU 0x0"}},
		{"reset-loop", []string{"U-Boot", "autoboot", "U-Boot #2", "autoboot #2", "U-Boot #3"},
			[]string{"cpu-reset@autoboot", "board-reset@U-Boot #2", "cpu-reset@autoboot #2"}, [2]string{"", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := load(t, tc.name)
			ks := keys(r.Lanes)
			at := -1
			for _, k := range tc.lanes {
				i := slices.Index(ks, k)
				if i <= at {
					t.Fatalf("lane %q missing or out of order in %q", k, ks)
				}
				at = i
			}
			if got := classes(r.Failures); len(got) < len(tc.failures) || !slices.Equal(got[:len(tc.failures)], tc.failures) {
				t.Errorf("failures %q, want first %q", got, tc.failures)
			}
			if (len(tc.failures) == 0) != (r.Err == "") {
				t.Errorf("Err = %q with failures %q", r.Err, classes(r.Failures))
			}
			for _, f := range r.Failures {
				if f.Line < 0 || r.Lines[f.Line].At != f.At {
					t.Errorf("failure %s at %v not linked to its line (%d)", f.Class, f.At, f.Line)
				}
			}
			checkGaps(t, r)
			if g := r.Gaps[0]; tc.gap[1] != "" && (r.Lines[g.Before].Text != tc.gap[0] || r.Lines[g.After].Text != tc.gap[1]) {
				t.Errorf("longest gap %.3fs between %q and %q", (g.End - g.Start).S(), r.Lines[g.Before].Text, r.Lines[g.After].Text)
			}
		})
	}
}

// checkGaps: the gaps are the longest silences, each between the lines it names.
func checkGaps(t *testing.T, r *Report) {
	t.Helper()
	var all []Dur
	for i := 1; i < len(r.Lines); i++ {
		all = append(all, r.Lines[i].At-r.Lines[i-1].At)
	}
	slices.Sort(all)
	slices.Reverse(all)
	if len(r.Gaps) != min(topGaps, len(all)) {
		t.Fatalf("%d gaps", len(r.Gaps))
	}
	for i, g := range r.Gaps {
		if g.After != g.Before+1 || r.Lines[g.Before].At != g.Start || r.Lines[g.After].At != g.End || g.End-g.Start != all[i] {
			t.Errorf("gap %d %+v, want a silence of %v", i, g, all[i])
		}
	}
}

func TestGoodBootLanes(t *testing.T) {
	r := load(t, "good")
	tftp := lane(t, r, "tftp uImage")
	if !strings.HasPrefix(tftp.Detail, "1552640 bytes, ") || !strings.Contains(tftp.Detail, "MiB/s (U-Boot: 7.4 MiB/s)") {
		t.Errorf("tftp detail %q", tftp.Detail)
	}
	if want := "Bytes transferred = 1552640 (17b100 hex)"; r.lineText(tftp.End) != want {
		t.Errorf("tftp lane ends at %v, want at %q", tftp.End, want)
	}
	for key, first := range map[string]string{
		"U-Boot":                       "U-Boot 2023.01",
		"Starting kernel":              "Starting kernel ...",
		"kernel start to root mounted": "Starting kernel ...",
		"NFS mount":                    "[    0.420419] IP-Config: Complete:",
		"shell":                        "qemu-arm:/# echo",
	} {
		if l := lane(t, r, key); !strings.HasPrefix(r.Lines[l.Line].Text, first) {
			t.Errorf("lane %s links to %q, want %q", key, r.Lines[l.Line].Text, first)
		}
	}
	run := lane(t, r, "run 1: uname -a; false")
	if !run.Failed || run.Detail != "exit status 1" {
		t.Errorf("command lane %+v", run)
	}
	if root := lane(t, r, "kernel start to root mounted"); root.End != lane(t, r, "VFS: Mounted root").Start {
		t.Errorf("kernel lane ends at %v", root.End)
	}
}

func (r *Report) lineText(at Dur) string {
	for _, l := range r.Lines {
		if l.At == at && strings.HasPrefix(l.Text, "Bytes") {
			return l.Text
		}
	}
	return ""
}

// TestKernelAlignment: every stamped line arrives at or after printk +
// offset, one exactly at it, and the milestones sit at printk + offset.
func TestKernelAlignment(t *testing.T) {
	for _, name := range []string{"good", "panic", "no-init"} {
		r := load(t, name)
		exact := 0
		for _, l := range r.Lines {
			p, ok := printk(l.Text)
			if !ok {
				continue
			}
			switch d := l.At - (Dur(p) + r.Kernel.Offset); {
			case d < 0:
				t.Errorf("%s: %q arrived %v before it was printed", name, l.Text, -d)
			case d == 0:
				exact++
			}
		}
		if exact == 0 || r.Kernel.Lines < 50 {
			t.Errorf("%s: offset %v fits no line exactly (%d stamped lines)", name, r.Kernel.Offset, r.Kernel.Lines)
		}
		if r.Kernel.Offset < lane(t, r, "Starting kernel").Start {
			t.Errorf("%s: kernel time 0 at %v, before Starting kernel", name, r.Kernel.Offset)
		}
		var names []string
		for _, m := range r.Milestones {
			names = append(names, m.Name)
			if m.At != m.Printk+r.Kernel.Offset || m.At > m.Seen {
				t.Errorf("%s: milestone %+v", name, m)
			}
		}
		if !slices.Contains(names, "VFS: Mounted root") || !slices.Contains(names, "Linux version") {
			t.Errorf("%s: milestones %q", name, names)
		}
	}
}

func TestJUnit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		failed map[string]string // test case -> failure type
	}{
		{"good", map[string]string{"run 1: uname -a; false": "exit-status"}},
		{"tftp-timeout", map[string]string{"tftp uImage": "tftp-timeout", "shell": "tftp-timeout"}},
		{"panic", map[string]string{"init": "kernel-panic", "shell": "kernel-panic"}},
		{"no-init", map[string]string{"init": "no-init", "shell": "no-init"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := load(t, tc.name)
			var b bytes.Buffer
			if err := r.WriteJUnit(&b); err != nil {
				t.Fatal(err)
			}
			var doc junitSuites
			if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, c := range doc.Suites[0].Cases {
				if c.Failure != nil {
					got[c.Name] = c.Failure.Type
				}
			}
			if !mapsEqual(got, tc.failed) || doc.Failures != len(tc.failed) {
				t.Errorf("failed cases %v (%d), want %v", got, doc.Failures, tc.failed)
			}
			checkWithJunitparser(t, b.Bytes(), len(doc.Suites[0].Cases), tc.failed)
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// checkWithJunitparser reads the XML with Debian's python3-junitparser,
// as CI's tools would, and checks the cases and failures it finds; the
// failing phases carry the console lines around the failure.
func checkWithJunitparser(t *testing.T, data []byte, cases int, failed map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const script = `
import json, sys
from junitparser import JUnitXml, Failure
out = []
for suite in JUnitXml.fromfile(sys.argv[1]):
    for case in suite:
        fs = [r for r in case.result if isinstance(r, Failure)]
        out.append({"name": case.name, "time": case.time,
                    "type": fs[0].type if fs else "", "text": fs[0].text or "" if fs else ""})
print(json.dumps(out))
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, path).Output()
	if err != nil {
		t.Fatalf("junitparser: %v", err)
	}
	var got []struct{ Name, Type, Text string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != cases {
		t.Errorf("junitparser read %d cases, want %d", len(got), cases)
	}
	for _, c := range got {
		if c.Type != failed[c.Name] {
			t.Errorf("junitparser: case %q failure %q, want %q", c.Name, c.Type, failed[c.Name])
		}
		if c.Type != "" && c.Type != "exit-status" && c.Name != "shell" && !strings.Contains(c.Text, "> [") {
			t.Errorf("junitparser: case %q has no console lines: %q", c.Name, c.Text)
		}
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	r := load(t, "panic")
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script", "http://", "https://", "<link"} {
		if strings.Contains(strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("report has %q", bad)
		}
	}
	for _, want := range []string{`data-class="kernel-panic"`, `<tr id="l117" class="failure">`, `href="#l37"`} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %s", want)
		}
	}
}

func TestCompareFindsTheChangedPhase(t *testing.T) {
	old := load(t, "good")
	slow := load(t, "good")
	// The same boot with a transfer 2 s slower: every later lane shifts.
	shift := Dur(2 * time.Second)
	tftp := lane(t, slow, "tftp uImage")
	for i := range slow.Lanes {
		l := &slow.Lanes[i]
		if l.Start > tftp.Start {
			l.Start += shift
		}
		if l.End >= tftp.End {
			l.End += shift
		}
	}
	slow.Lanes = append(slow.Lanes, Lane{Key: "tftp initrd", Start: tftp.End, End: tftp.End + shift/10})
	slow.Elapsed += shift
	c := Compare(old, slow)
	if c.Largest != "tftp uImage" {
		t.Errorf("largest change %q", c.Largest)
	}
	status := map[string]string{}
	for _, d := range c.Rows {
		status[d.Key] = d.Status
		if d.Key == "tftp uImage" && d.Delta != shift {
			t.Errorf("tftp delta %v", d.Delta)
		}
	}
	if status["tftp initrd"] != "appeared" || status["shell"] != "changed" {
		t.Errorf("statuses %v", status)
	}
	back := Compare(slow, old)
	if back.Largest != "tftp uImage" || !slices.ContainsFunc(back.Rows, func(d Delta) bool { return d.Key == "tftp initrd" && d.Status == "vanished" }) {
		t.Errorf("reverse comparison: largest %q, rows %+v", back.Largest, back.Rows)
	}
	var b bytes.Buffer
	if err := c.WriteHTML(&b, "old", "new"); err != nil || !strings.Contains(b.String(), `id="largest">tftp uImage<`) {
		t.Errorf("comparison page: %v", err)
	}
}

func TestInitcalls(t *testing.T) {
	r := load(t, "initcalls")
	if len(r.Initcalls) == 0 {
		t.Fatal("no initcalls over the threshold")
	}
	for _, ic := range r.Initcalls {
		text := r.Lines[ic.Line].Text
		p, _ := printk(text)
		if ic.Took < Dur(InitcallThreshold) || !strings.Contains(text, " returned ") || ic.Start+ic.Took != Dur(p)+r.Kernel.Offset {
			t.Errorf("initcall %+v from %q", ic, text)
		}
	}
	if r.Err != "" || len(load(t, "good").Initcalls) != 0 {
		t.Errorf("err %q, or initcalls without initcall_debug", r.Err)
	}
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil || !strings.Contains(b.String(), `class="bar initcall"`) {
		t.Errorf("no initcall lane: %v", err)
	}
}

// TestSPLBootIsOnePowerOn lays out a board whose SPL prints its banner
// before U-Boot proper's (serialcon/testdata/boot-spl.txt): one U-Boot
// lane, no board reset.
func TestSPLBootIsOnePowerOn(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "serialcon", "testdata", "boot-spl.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var log []serialcon.LogLine
	for i, l := range strings.Split(string(data), "\n") {
		log = append(log, serialcon.LogLine{At: time.Duration(i) * 100 * time.Millisecond, Delta: 100 * time.Millisecond, Text: strings.TrimSuffix(l, "\r")})
	}
	r, err := New(Record{Board: "orangepi-pc"}, log)
	if err != nil {
		t.Fatal(err)
	}
	ks := keys(r.Lanes)
	if slices.Contains(ks, "U-Boot #2") || !slices.Contains(ks, "U-Boot") || !slices.Contains(ks, "shell") {
		t.Errorf("lanes %q, want one U-Boot lane and the shell", ks)
	}
	if len(r.Failures) != 0 || r.Err != "" {
		t.Errorf("failures %q (%s), want none", classes(r.Failures), r.Err)
	}
	if u := lane(t, r, "U-Boot"); !strings.HasPrefix(r.Lines[u.Line].Text, "U-Boot SPL ") {
		t.Errorf("U-Boot lane starts at %q, want the SPL banner", r.Lines[u.Line].Text)
	}
}
