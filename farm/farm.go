// Package farm reads a farm file: the boards one `bootrig serve --farm`
// serves at once, each by its IP address, each with its own root
// filesystem and TFTP directory. Start from [Load].
//
//	boards:
//	  - name: bench-1
//	    profile: mini2440
//	    ip: 192.168.1.244
//	    mac: 08:08:11:18:12:27     # optional, shown, not matched on
//	    rootfs: /srv/bench-1        # exported to this board alone
//	    tftp: /srv/bench-1-boot     # optional; default: the profile's build output
//
// Relative paths are taken from the farm file's directory. Every error
// names the file and line.
package farm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/bootrig/bootrig/boards"
)

// Board is one board of a farm.
type Board struct {
	Name    string
	Profile *boards.Profile
	IP      netip.Addr       // the board's address: it alone mounts RootFS
	MAC     net.HardwareAddr // nil when not given
	RootFS  string           // absolute
	TFTP    string           // absolute; "" for the profile's build output
	Line    int              // where the board starts in the file
}

// Error is a problem at one line of a farm file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("farm %s:%d: %s", e.File, e.Line, e.Msg) }

// Lookup finds a board profile by name (boards.Catalog.Lookup).
type Lookup func(name string) (*boards.Profile, error)

// Load reads and checks the farm file at path.
func Load(path string, lookup Lookup) ([]Board, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("farm: %w", err)
	}
	return Parse(path, data, lookup)
}

// Parse reads a farm file's data; file names it in errors and is where
// relative paths start from.
func Parse(file string, data []byte, lookup Lookup) ([]Board, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, &Error{file, 1, "the file is empty: it lists boards under boards:"}
	} else if err != nil {
		return nil, yamlError(file, err)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{file, root.Line, "want a mapping with boards:"}
	}
	var list *yaml.Node
	for i := 0; i < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "boards" {
			return nil, &Error{file, k.Line, fmt.Sprintf("unknown field %q (a farm file has boards:)", k.Value)}
		}
		list = v
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, &Error{file, root.Line, "boards: wants a list of boards (- name: ..., profile: ..., ip: ..., rootfs: ...)"}
	}
	p := parser{file: file, dir: filepath.Dir(file), lookup: lookup}
	var out []Board
	for _, n := range list.Content {
		b, err := p.board(n)
		if err != nil {
			return nil, err
		}
		if err := p.unique(b, out); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

var reLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError is yaml.v3's syntax error at its line.
func yamlError(file string, err error) error {
	e := &Error{File: file, Line: 1, Msg: err.Error()}
	if m := reLine.FindStringSubmatch(err.Error()); m != nil {
		fmt.Sscan(m[1], &e.Line)
		e.Msg = m[2]
	}
	return e
}

type parser struct {
	file, dir string
	lookup    Lookup
}

func (p parser) errf(line int, format string, args ...any) error {
	return &Error{p.file, line, fmt.Sprintf(format, args...)}
}

// board reads one entry of boards:.
func (p parser) board(n *yaml.Node) (Board, error) {
	b := Board{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return b, p.errf(n.Line, "a board is a mapping (name:, profile:, ip:, rootfs:)")
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !knownField[k.Value] {
			return b, p.errf(k.Line, "unknown field %q (a board has name, profile, ip, mac, rootfs, tftp)", k.Value)
		}
		if fields[k.Value] != nil {
			return b, p.errf(k.Line, "%s: given twice", k.Value)
		}
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			return b, p.errf(v.Line, "%s: wants a value", k.Value)
		}
		fields[k.Value] = v
	}
	for _, f := range []string{"name", "profile", "ip", "rootfs"} {
		if fields[f] == nil {
			return b, p.errf(n.Line, "board %s: no %s:%s", value(fields, "name"), f, hints[f])
		}
	}
	b.Name = fields["name"].Value
	if !reName.MatchString(b.Name) {
		return b, p.errf(fields["name"].Line, "board name %q: letters, digits, '.', '_' and '-' only", b.Name)
	}
	var err error
	for _, step := range []func(Board, map[string]*yaml.Node) (Board, error){p.profile, p.addrs} {
		if b, err = step(b, fields); err != nil {
			return b, err
		}
	}
	b.RootFS = p.path(fields["rootfs"].Value)
	if n := fields["tftp"]; n != nil {
		b.TFTP = p.path(n.Value)
	}
	return b, nil
}

var (
	knownField = map[string]bool{"name": true, "profile": true, "ip": true, "mac": true, "rootfs": true, "tftp": true}
	hints      = map[string]string{
		"ip":     " bootrig tells boards apart by their IP address (it runs no DHCP server to learn it from a MAC)",
		"rootfs": " each board mounts a root filesystem of its own",
	}
	reName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
)

// value is a field's value, "" for a missing one.
func value(fields map[string]*yaml.Node, name string) string {
	if n := fields[name]; n != nil {
		return n.Value
	}
	return ""
}

func (p parser) profile(b Board, fields map[string]*yaml.Node) (Board, error) {
	n := fields["profile"]
	prof, err := p.lookup(n.Value)
	if err != nil {
		return b, p.errf(n.Line, "board %s: profile: %v", b.Name, err)
	}
	b.Profile = prof
	return b, nil
}

func (p parser) addrs(b Board, fields map[string]*yaml.Node) (Board, error) {
	n := fields["ip"]
	ip, err := netip.ParseAddr(n.Value)
	if err != nil || ip.Zone() != "" || ip.IsUnspecified() {
		return b, p.errf(n.Line, "board %s: ip %q is not a board's IP address", b.Name, n.Value)
	}
	b.IP = ip.Unmap()
	if n := fields["mac"]; n != nil {
		if b.MAC, err = net.ParseMAC(n.Value); err != nil || len(b.MAC) != 6 {
			return b, p.errf(n.Line, "board %s: mac %q is not an Ethernet address (08:08:11:18:12:27)", b.Name, n.Value)
		}
	}
	return b, nil
}

// path is name from the farm file's directory.
func (p parser) path(name string) string {
	if !filepath.IsAbs(name) {
		name = filepath.Join(p.dir, name)
	}
	abs, _ := filepath.Abs(name)
	return abs
}

// unique refuses a board whose name, IP or root filesystem an earlier
// one has: two boards on one export would share its ownership store.
func (p parser) unique(b Board, before []Board) error {
	for _, o := range before {
		switch {
		case o.Name == b.Name:
			return p.errf(b.Line, "board %s: the name of the board at line %d too", b.Name, o.Line)
		case o.IP == b.IP:
			return p.errf(b.Line, "board %s: ip %s is board %s's too (line %d)", b.Name, b.IP, o.Name, o.Line)
		case o.RootFS == b.RootFS:
			return p.errf(b.Line, "board %s: rootfs %s is board %s's too (line %d): each board mounts its own", b.Name, b.RootFS, o.Name, o.Line)
		}
	}
	return nil
}
