package boards

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Addr is a 32-bit board address, written in YAML as hex ("0x30008000").
type Addr uint32

// ParseAddr parses a 32-bit address: hex with 0x, or decimal.
func ParseAddr(s string) (Addr, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number (want hex like 0x30008000)", s)
	}
	if v > 0xffffffff {
		return 0, fmt.Errorf("%q does not fit in 32 bits", s)
	}
	return Addr(v), nil
}

func (a Addr) String() string { return fmt.Sprintf("0x%08x", uint32(a)) }

// UnmarshalYAML reads an address from a YAML scalar.
func (a *Addr) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseAddr(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*a = v
	return nil
}

// MarshalYAML writes the address as hex.
func (a Addr) MarshalYAML() (any, error) { return a.String(), nil }

// Size is a byte count, written in YAML as "64M", "256K", "0x40000" or "1024".
type Size uint64

// ParseSize parses "64M", "256K", "1G", hex or decimal.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	mul := uint64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K', 'k':
			mul, t = 1<<10, t[:n-1]
		case 'M', 'm':
			mul, t = 1<<20, t[:n-1]
		case 'G', 'g':
			mul, t = 1<<30, t[:n-1]
		}
	}
	v, err := strconv.ParseUint(t, 0, 64)
	if err != nil || v > (1<<32)/mul {
		return 0, fmt.Errorf("%q is not a size (want 64M, 256K or 0x40000, at most 4G)", s)
	}
	return Size(v * mul), nil
}

func (s Size) String() string {
	switch {
	case s != 0 && s%(1<<20) == 0:
		return fmt.Sprintf("%dM", s>>20)
	case s != 0 && s%(1<<10) == 0:
		return fmt.Sprintf("%dK", s>>10)
	}
	return strconv.FormatUint(uint64(s), 10)
}

// UnmarshalYAML reads a size from a YAML scalar.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*s = v
	return nil
}

// MarshalYAML writes the size in its shortest unit.
func (s Size) MarshalYAML() (any, error) { return s.String(), nil }

// Regexp is a compiled regular expression read from YAML.
type Regexp struct{ *regexp.Regexp }

// UnmarshalYAML compiles the pattern.
func (r *Regexp) UnmarshalYAML(n *yaml.Node) error {
	re, err := regexp.Compile(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: bad regexp %q: %v", n.Line, n.Value, err)
	}
	r.Regexp = re
	return nil
}

// MarshalYAML writes the pattern.
func (r Regexp) MarshalYAML() (any, error) { return r.String(), nil }

// String is the pattern, or "" when unset.
func (r Regexp) String() string {
	if r.Regexp == nil {
		return ""
	}
	return r.Regexp.String()
}

// MarshalText lets JSON output show the pattern.
func (r Regexp) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// MarshalText lets JSON output show hex.
func (a Addr) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// MarshalText lets JSON output show the unit.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
