package boards

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Default is the board used when none is named: the emulated one.
const Default = "qemu-arm"

//go:embed profiles/*.yaml
var shipped embed.FS

// ErrUnknownBoard is returned by Lookup for a name no profile has.
var ErrUnknownBoard = errors.New("unknown board")

// ErrInvalid marks a profile that does not load or validate.
var ErrInvalid = errors.New("invalid board profile")

// FieldError is a problem with one field of one profile file.
type FieldError struct {
	File  string // where the profile came from
	Field string // dotted YAML path: "uboot.cbsize"
	Line  int    // 0 when unknown
	Msg   string
}

func (e *FieldError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field == "" {
		return fmt.Sprintf("board profile %s: %s", loc, e.Msg)
	}
	return fmt.Sprintf("board profile %s: field %s: %s", loc, e.Field, e.Msg)
}

// Unwrap makes every FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Catalog finds profiles: the shipped ones plus a user directory.
type Catalog struct {
	// UserDir holds user profiles (*.yaml); "" for none. A user profile
	// replaces a shipped one of the same name.
	UserDir string
}

// DefaultUserDir is ~/.config/bootrig/boards (or $XDG_CONFIG_HOME's).
func DefaultUserDir() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "bootrig", "boards")
}

// Lookup returns the profile named name from the shipped profiles and the
// default user directory.
func Lookup(name string) (*Profile, error) {
	return Catalog{UserDir: DefaultUserDir()}.Lookup(name)
}

// Lookup returns the profile named name.
func (c Catalog) Lookup(name string) (*Profile, error) {
	all, err := c.All()
	if err != nil {
		return nil, err
	}
	for _, p := range all {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(all))
	for i, p := range all {
		names[i] = p.Name
	}
	return nil, fmt.Errorf("%w %q (known: %s; add one as %s)", ErrUnknownBoard, name,
		strings.Join(names, ", "), filepath.Join(c.UserDir, name+".yaml"))
}

// All loads every profile, sorted by name. A user profile that does not
// load is an error: it is better to say so than to silently use another.
func (c Catalog) All() ([]*Profile, error) {
	byName := map[string]*Profile{}
	entries, _ := fs.Glob(shipped, "profiles/*.yaml")
	for _, e := range entries {
		data, err := shipped.ReadFile(e)
		if err != nil {
			return nil, err
		}
		p, err := Parse("embedded:"+filepath.Base(e), data)
		if err != nil {
			return nil, err
		}
		byName[p.Name] = p
	}
	if c.UserDir != "" {
		files, _ := filepath.Glob(filepath.Join(c.UserDir, "*.yaml"))
		for _, f := range files {
			p, err := LoadFile(f)
			if err != nil {
				return nil, err
			}
			byName[p.Name] = p
		}
	}
	out := make([]*Profile, 0, len(byName))
	for _, p := range byName {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// LoadFile reads and validates the profile at path.
func LoadFile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("board profile %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a profile; source names it in errors.
// Unknown fields are errors.
func Parse(source string, data []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{File: source, Msg: "file is empty"}
		}
		return nil, yamlError(source, data, err)
	}
	p.Source = source
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

var (
	yamlLine   = regexp.MustCompile(`line (\d+): (.*)`)
	quotedWord = regexp.MustCompile(`"([^"]*)"`)
)

// yamlError turns yaml.v3's message into a FieldError with file, line and
// the dotted path of the field.
func yamlError(source string, data []byte, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	fe := &FieldError{File: source, Msg: msg}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		fmt.Sscan(m[1], &fe.Line)
		fe.Msg = m[2]
	} else if m := quotedWord.FindStringSubmatch(msg); m != nil {
		// An error from a standard type (an IP address) has no line:
		// find the value it quotes.
		fe.Line = lineOfValue(&root, m[1])
	}
	if i := strings.Index(fe.Msg, "field "); i >= 0 && strings.Contains(fe.Msg, "not found in type") {
		fe.Msg = "unknown field (check its spelling and the field list in boards/profile.go)"
	}
	if fe.Line > 0 {
		fe.Field = keyPathAt(&root, fe.Line, "")
	}
	return fe
}

// keyPathAt returns the dotted path of the mapping key or value on line.
func keyPathAt(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if p := keyPathAt(c, line, prefix); p != "" {
				return p
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := strings.TrimPrefix(prefix+"."+k.Value, ".")
			if k.Line == line || (v.Kind == yaml.ScalarNode && v.Line == line) {
				return path
			}
			if p := keyPathAt(v, line, path); p != "" {
				return p
			}
		}
	}
	return ""
}

// lineOfValue returns the line of the first scalar whose value is v.
func lineOfValue(n *yaml.Node, v string) int {
	if n.Kind == yaml.ScalarNode && n.Value == v {
		return n.Line
	}
	for _, c := range n.Content {
		if l := lineOfValue(c, v); l > 0 {
			return l
		}
	}
	return 0
}
