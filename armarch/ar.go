package armarch

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Member is one object of a static library (an ar archive).
type Member struct {
	Name string // "printf.o"
	Data []byte
}

const arMagic = "!<arch>\n"

// IsArchive reports whether b starts like an ar archive.
func IsArchive(b []byte) bool { return bytes.HasPrefix(b, []byte(arMagic)) }

// ReadArchive splits a System V / GNU ar archive (what 'ar rcs' makes:
// libc.a, libgcc.a) into its members. The symbol table ("/") is left
// out; long names come from the "//" table. Thin archives are refused.
func ReadArchive(b []byte) ([]Member, error) {
	if !IsArchive(b) {
		return nil, fmt.Errorf("%w: not an ar archive", ErrFormat)
	}
	var out []Member
	var longNames []byte
	for b = b[len(arMagic):]; len(b) > 0; {
		if len(b) < 60 || string(b[58:60]) != "`\n" {
			return nil, fmt.Errorf("%w: truncated ar member header", ErrFormat)
		}
		hdr := b[:60]
		size, err := strconv.ParseUint(strings.TrimSpace(string(hdr[48:58])), 10, 63)
		if err != nil || size > uint64(len(b)-60) {
			return nil, fmt.Errorf("%w: ar member size %q", ErrFormat, strings.TrimSpace(string(hdr[48:58])))
		}
		data := b[60 : 60+size]
		b = b[60+size:]
		if size%2 == 1 && len(b) > 0 {
			b = b[1:] // members start on even offsets
		}
		name := strings.TrimRight(string(hdr[:16]), " ")
		switch {
		case name == "/" || name == "/SYM64/":
			continue
		case name == "//":
			longNames = data
			continue
		case strings.HasPrefix(name, "/"):
			if name, err = longName(longNames, name[1:]); err != nil {
				return nil, err
			}
		default:
			name = strings.TrimSuffix(name, "/")
		}
		out = append(out, Member{Name: name, Data: data})
	}
	return out, nil
}

// longName is the name at offset off in the GNU long-name table: it
// ends with "/\n".
func longName(table []byte, off string) (string, error) {
	i, err := strconv.ParseUint(off, 10, 31)
	if err != nil || i >= uint64(len(table)) {
		return "", fmt.Errorf("%w: ar long name /%s outside the name table", ErrFormat, off)
	}
	s := table[i:]
	if j := bytes.IndexByte(s, '\n'); j >= 0 {
		s = s[:j]
	}
	return strings.TrimSuffix(string(s), "/"), nil
}
