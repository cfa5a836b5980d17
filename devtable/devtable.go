// Package devtable reads and writes device tables in the syntax of the
// Linux kernel's usr/gen_init_cpio: the list of directories, device
// nodes, symlinks and fifos a root filesystem needs that a user without
// root cannot create on the host.
//
//	dir /dev 755 0 0
//	nod /dev/console 600 0 0 c 5 1
//	slink /bin/sh busybox 777 0 0
//	pipe /run/initctl 600 0 0
//
// Start with [Parse] and [Default].
//
// It follows gen_init_cpio (Linux 6.1) in what a line says: `file NAME
// LOCATION MODE UID GID [LINK...]` names hard links after the fields, and
// LOCATION expands ${VAR} from the environment (see [Entry.Location]).
// Where gen_init_cpio silently writes something the kernel cannot use,
// Parse refuses it: a major above 4095 or a minor above 1048575 (the
// kernel's dev_t has 12 and 20 bits), a path given twice (gen_init_cpio
// writes both records, and the second replaces the first), extra fields
// after a non-file entry (gen_init_cpio ignores them), and negative or
// non-numeric ids.
package devtable

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Kind is what an entry creates.
type Kind int

// The entry kinds, named as gen_init_cpio names them.
const (
	File Kind = iota + 1
	Dir
	Nod
	Slink
	Pipe
	Sock
)

var kindNames = map[Kind]string{File: "file", Dir: "dir", Nod: "nod", Slink: "slink", Pipe: "pipe", Sock: "sock"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Entry is one line of a device table.
type Entry struct {
	Kind Kind
	Path string // absolute, clean: "/dev/console"
	// Mode holds the permission bits and fs.ModeSetuid, fs.ModeSetgid
	// and fs.ModeSticky; the type bits follow from Kind.
	Mode     fs.FileMode
	UID, GID uint32
	DevType  byte     // Nod: 'c' or 'b'
	Major    uint32   // Nod
	Minor    uint32   // Nod
	Target   string   // Slink: stored verbatim
	Source   string   // File: host path of the contents, as written (see Location)
	Links    []string // File: further names of the same file (hard links), absolute and clean
	Line     int      // line number in the parsed file; 0 if built in Go
}

// Location is a File's source with each ${VAR} replaced by getenv(VAR),
// unset variables by nothing, as gen_init_cpio does.
func (e Entry) Location(getenv func(string) string) string {
	return reVar.ReplaceAllStringFunc(e.Source, func(v string) string { return getenv(v[2 : len(v)-1]) })
}

var reVar = regexp.MustCompile(`\$\{[^}]*\}`)

// Device number limits of the kernel's dev_t (MINORBITS 20, 32 bits).
const (
	MaxMajor = 1<<12 - 1
	MaxMinor = 1<<20 - 1
)

// FileMode is the entry's full mode: permission and special bits plus
// the type bits of its Kind.
func (e Entry) FileMode() fs.FileMode {
	m := e.Mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	switch e.Kind {
	case Dir:
		m |= fs.ModeDir
	case Nod:
		m |= fs.ModeDevice
		if e.DevType == 'c' {
			m |= fs.ModeCharDevice
		}
	case Slink:
		m |= fs.ModeSymlink
	case Pipe:
		m |= fs.ModeNamedPipe
	case Sock:
		m |= fs.ModeSocket
	}
	return m
}

// ErrSyntax marks a line that is not a valid entry.
var ErrSyntax = errors.New("device table syntax error")

// Parse reads a device table; name is used in errors ("devices.txt:3:
// ..."). Blank lines and lines starting with # are skipped.
func Parse(r io.Reader, name string) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	n := 0
	first := map[string]int{} // path: the line that named it
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseLine(strings.Fields(line))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w: %v", name, n, ErrSyntax, err)
		}
		for _, p := range append([]string{e.Path}, e.Links...) {
			if at, dup := first[p]; dup {
				return nil, fmt.Errorf("%s:%d: %w: %s is already declared on line %d", name, n, ErrSyntax, p, at)
			}
			first[p] = n
		}
		e.Line = n
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// fields per kind, after the keyword: the positions of name, mode, uid, gid.
var layout = map[string]struct {
	kind  Kind
	n     int // fields including the keyword
	mode  int // index of mode
	extra int // index of the kind's extra field (target, source), 0 if none
}{
	"file":  {File, 6, 3, 2},
	"dir":   {Dir, 5, 2, 0},
	"nod":   {Nod, 8, 2, 0},
	"slink": {Slink, 6, 3, 2},
	"pipe":  {Pipe, 5, 2, 0},
	"sock":  {Sock, 5, 2, 0},
}

func parseLine(f []string) (Entry, error) {
	l, ok := layout[f[0]]
	if !ok {
		return Entry{}, fmt.Errorf("unknown type %q (want file, dir, nod, slink, pipe or sock)", f[0])
	}
	if len(f) < l.n || (len(f) > l.n && l.kind != File) {
		return Entry{}, fmt.Errorf("%s takes %d fields, got %d", f[0], l.n-1, len(f)-1)
	}
	e := Entry{Kind: l.kind}
	var err error
	if e.Path, err = cleanPath(f[1]); err != nil {
		return e, err
	}
	if e.Mode, err = parseMode(f[l.mode]); err != nil {
		return e, err
	}
	if e.UID, err = parseID("uid", f[l.mode+1]); err != nil {
		return e, err
	}
	if e.GID, err = parseID("gid", f[l.mode+2]); err != nil {
		return e, err
	}
	switch l.kind {
	case Slink:
		e.Target = f[2]
	case File:
		e.Source = f[2]
		for _, l := range f[l.n:] {
			p, err := cleanPath(l)
			if err != nil {
				return e, fmt.Errorf("hard link: %w", err)
			}
			e.Links = append(e.Links, p)
		}
	case Nod:
		if f[5] != "c" && f[5] != "b" {
			return e, fmt.Errorf("device type %q: want c or b", f[5])
		}
		e.DevType = f[5][0]
		if e.Major, err = parseID("major", f[6]); err != nil {
			return e, err
		}
		if e.Minor, err = parseID("minor", f[7]); err != nil {
			return e, err
		}
		if e.Major > MaxMajor || e.Minor > MaxMinor {
			return e, fmt.Errorf("device %d,%d: the kernel takes majors up to %d and minors up to %d", e.Major, e.Minor, MaxMajor, MaxMinor)
		}
	}
	return e, nil
}

func cleanPath(p string) (string, error) {
	if p == "" || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("bad path %q", p)
	}
	c := path.Clean("/" + p)
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("path %q has '..'", p)
		}
	}
	if c == "/" {
		return "", fmt.Errorf("path %q names the root itself", p)
	}
	return c, nil
}

func parseMode(s string) (fs.FileMode, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 07777 {
		return 0, fmt.Errorf("mode %q: want octal like 755 or 4755", s)
	}
	m := fs.FileMode(v & 0777)
	if v&04000 != 0 {
		m |= fs.ModeSetuid
	}
	if v&02000 != 0 {
		m |= fs.ModeSetgid
	}
	if v&01000 != 0 {
		m |= fs.ModeSticky
	}
	return m, nil
}

// UnixMode is the 12 permission and special bits as in chmod(2).
func UnixMode(m fs.FileMode) uint32 {
	v := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 04000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 02000
	}
	if m&fs.ModeSticky != 0 {
		v |= 01000
	}
	return v
}

func parseID(what, s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", what, s)
	}
	return uint32(v), nil
}

// Write writes entries in gen_init_cpio syntax, one per line.
func Write(w io.Writer, entries []Entry) error {
	bw := bufio.NewWriter(w)
	for _, e := range entries {
		if _, err := fmt.Fprintln(bw, e.String()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// String is the entry as a device table line.
func (e Entry) String() string {
	ids := fmt.Sprintf("%o %d %d", UnixMode(e.Mode), e.UID, e.GID)
	switch e.Kind {
	case File:
		return strings.TrimSpace(fmt.Sprintf("file %s %s %s %s", e.Path, e.Source, ids, strings.Join(e.Links, " ")))
	case Slink:
		return fmt.Sprintf("slink %s %s %s", e.Path, e.Target, ids)
	case Nod:
		return fmt.Sprintf("nod %s %s %c %d %d", e.Path, ids, e.DevType, e.Major, e.Minor)
	}
	return fmt.Sprintf("%s %s %s", e.Kind, e.Path, ids)
}

// Default is the table a root filesystem needs to boot with its console
// on consoleDev ("ttySAC0", "ttyAMA0"): /dev with console, null, zero,
// tty and the serial device, plus the mount points init expects.
func Default(consoleDev string) []Entry {
	dir := func(p string, mode fs.FileMode) Entry { return Entry{Kind: Dir, Path: p, Mode: mode} }
	chr := func(p string, mode fs.FileMode, maj, min uint32) Entry {
		return Entry{Kind: Nod, Path: p, Mode: mode, DevType: 'c', Major: maj, Minor: min}
	}
	t := []Entry{
		dir("/dev", 0755),
		chr("/dev/console", 0600, 5, 1),
		chr("/dev/null", 0666, 1, 3),
		chr("/dev/zero", 0666, 1, 5),
		chr("/dev/tty", 0666, 5, 0),
		chr("/dev/random", 0666, 1, 8),
		chr("/dev/urandom", 0666, 1, 9),
		dir("/dev/pts", 0755),
		dir("/proc", 0555),
		dir("/sys", 0555),
		dir("/tmp", 0777|fs.ModeSticky),
		dir("/root", 0700),
	}
	if maj, min, ok := SerialDevice(consoleDev); ok {
		t = append(t, chr("/dev/"+consoleDev, 0600, maj, min))
	}
	return t
}

// SerialDevice returns the major and minor numbers of a serial console
// device the kernel names consoleDev, as Documentation/admin-guide/devices.txt
// lists them.
func SerialDevice(consoleDev string) (major, minor uint32, ok bool) {
	for _, d := range []struct {
		prefix       string
		major, first uint32
	}{
		{"ttyS", 4, 64}, {"ttyAMA", 204, 64}, {"ttySAC", 204, 64}, {"ttyUSB", 188, 0},
	} {
		if n, err := strconv.ParseUint(strings.TrimPrefix(consoleDev, d.prefix), 10, 32); err == nil && strings.HasPrefix(consoleDev, d.prefix) {
			return d.major, d.first + uint32(n), true
		}
	}
	return 0, 0, false
}
