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
	"reflect"
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
	// Warn is told about each user profile that does not load, unless it
	// is the board asked for (then it is Lookup's error): one broken file
	// must not take every other board down. nil drops the warnings.
	Warn func(error)
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

// Lookup returns the profile named name. A user profile file for name
// (NAME.yaml, or a file whose name: is NAME) that does not load is the
// error; other broken files are warnings.
func (c Catalog) Lookup(name string) (*Profile, error) {
	byName, broken, err := c.load()
	if err != nil {
		return nil, err
	}
	for _, b := range broken {
		if b.names[name] {
			return nil, b.err
		}
	}
	c.warn(broken)
	if p, ok := byName[name]; ok {
		return p, nil
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("%w %q (known: %s; add one as %s)", ErrUnknownBoard, name,
		strings.Join(names, ", "), filepath.Join(c.UserDir, name+".yaml"))
}

// All loads every profile that loads, sorted by name; the user profiles
// that do not are warnings.
func (c Catalog) All() ([]*Profile, error) {
	byName, broken, err := c.load()
	if err != nil {
		return nil, err
	}
	c.warn(broken)
	out := make([]*Profile, 0, len(byName))
	for _, p := range byName {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// brokenFile is a user profile that does not load, and the board names
// it may have been meant for.
type brokenFile struct {
	names map[string]bool
	err   error
}

// load reads the shipped profiles (which must load) and the user ones.
func (c Catalog) load() (map[string]*Profile, []brokenFile, error) {
	byName := map[string]*Profile{}
	entries, _ := fs.Glob(shipped, "profiles/*.yaml")
	for _, e := range entries {
		data, err := shipped.ReadFile(e)
		if err != nil {
			return nil, nil, err
		}
		p, err := Parse("embedded:"+filepath.Base(e), data)
		if err != nil {
			return nil, nil, err
		}
		byName[p.Name] = p
	}
	if c.UserDir == "" {
		return byName, nil, nil
	}
	var broken []brokenFile
	files, _ := filepath.Glob(filepath.Join(c.UserDir, "*.yaml"))
	for _, f := range files {
		p, err := LoadFile(f)
		if err != nil {
			broken = append(broken, brokenFile{names: meantFor(f), err: err})
			continue
		}
		byName[p.Name] = p
	}
	return byName, broken, nil
}

// meantFor is the board names a profile file stands for: its file name
// and, if it can be read at all, its name: field.
func meantFor(path string) map[string]bool {
	names := map[string]bool{strings.TrimSuffix(filepath.Base(path), ".yaml"): true}
	var head struct {
		Name string `yaml:"name"`
	}
	if data, err := os.ReadFile(path); err == nil && yaml.Unmarshal(data, &head) == nil && head.Name != "" {
		names[head.Name] = true
	}
	return names
}

func (c Catalog) warn(broken []brokenFile) {
	if c.Warn == nil {
		return
	}
	for _, b := range broken {
		c.Warn(b.err)
	}
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
		var fe *FieldError
		if errors.As(err, &fe) && fe.Line == 0 {
			var root yaml.Node
			_ = yaml.Unmarshal(data, &root)
			fe.Line = lineOfPath(&root, fe.Field)
		}
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
	if fe.Line > 0 {
		fe.Field = keyPathAt(&root, fe.Line, "")
	}
	fe.Msg = plainYAMLMessage(fe.Msg, fe.Field)
	return fe
}

var (
	reNotFound  = regexp.MustCompile(`^field (\S+) not found in type`)
	reUnmarshal = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
	reParseAddr = regexp.MustCompile(`^ParseAddr\("([^"]*)"\): (.*)$`)
	// wantType says in YAML's words what a Go type takes.
	wantType = map[string]string{
		"int": "a whole number", "uint": "a whole number", "uint32": "a whole number", "uint64": "a whole number",
		"bool": "true or false", "string": "text", "time.Duration": `a duration with a unit, such as "10ms" or "0s"`,
		"[]string": "a list", "netip.Addr": "an IPv4 address",
	}
	yamlKind = map[string]string{"str": "text", "int": "a number", "float": "a number", "bool": "a boolean", "seq": "a list", "map": "a mapping", "null": "empty"}
)

// plainYAMLMessage says what yaml.v3 and the standard library report in
// a profile's words: no Go type names, no function names.
func plainYAMLMessage(msg, field string) string {
	if reNotFound.MatchString(msg) {
		known := knownKeys(field)
		if len(known) == 0 {
			return "unknown field"
		}
		return "unknown field (known here: " + strings.Join(known, ", ") + ")"
	}
	if m := reUnmarshal.FindStringSubmatch(msg); m != nil {
		want, ok := wantType[m[3]]
		if !ok {
			want = "another kind of value"
		}
		got := yamlKind[m[1]]
		if got == "" {
			got = m[1]
		}
		if m[1] == "seq" || m[1] == "map" {
			return fmt.Sprintf("is %s, want %s", got, want)
		}
		return fmt.Sprintf("%q is %s, want %s", m[2], got, want)
	}
	if m := reParseAddr.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%q is not an IPv4 address (%s)", m[1], m[2])
	}
	return msg
}

// knownKeys lists the YAML keys the mapping holding field takes.
func knownKeys(field string) []string {
	t := reflect.TypeOf(Profile{})
	parts := strings.Split(field, ".")
	for _, part := range parts[:len(parts)-1] {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := fieldByKey(t, part)
		if !ok {
			if t.Kind() == reflect.Map {
				continue
			}
			return nil
		}
		t = f.Type
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if k := yamlKey(t.Field(i)); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if yamlKey(t.Field(i)) == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func yamlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if k == "-" || !f.IsExported() {
		return ""
	}
	return k
}

// lineOfPath is the line of the dotted field path in a YAML document: the
// key's line, or for a missing field the line of its nearest parent that
// is there (1 for a missing top-level field).
func lineOfPath(n *yaml.Node, path string) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 1
	for _, part := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			break
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line, next = n.Content[i].Line, n.Content[i+1]
				break
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
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
