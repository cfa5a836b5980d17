package armarch

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Errors of reading attributes.
var (
	ErrFormat       = errors.New("malformed ARM build attributes")
	ErrNotARM       = errors.New("not a 32-bit ARM ELF object")
	ErrNoAttributes = errors.New("no ARM build attributes (.ARM.attributes): not an EABI object")
)

// Attribute tags bootrig reads (ARM IHI 0045, "Build attributes").
const (
	tagFile           = 1
	tagSection        = 2
	tagSymbol         = 3
	tagCPURawName     = 4
	tagCPUName        = 5
	tagCPUArch        = 6
	tagFPArch         = 10
	tagSIMDArch       = 12
	tagABIVFPArgs     = 28
	tagCompatibility  = 32
	tagAlsoCompatible = 65
	tagConformance    = 67
)

// sectionType is SHT_ARM_ATTRIBUTES.
const sectionType = elf.SectionType(0x70000003)

// Attributes are the public ("aeabi") build attributes of an object.
type Attributes struct {
	// CPUArch is Tag_CPU_arch: the level the object needs. When
	// section or symbol scopes name levels too, it is the highest.
	CPUArch    Arch
	HasCPUArch bool
	CPUName    string // Tag_CPU_name: "ARM920T", "5TE"; "" when absent
	FPArch     uint64 // Tag_FP_arch: 0 for no floating-point instructions
	SIMDArch   uint64 // Tag_Advanced_SIMD_arch: 0 for no NEON
	VFPArgs    uint64 // Tag_ABI_VFP_args: 1 for the hard-float calling convention
}

// NeedsVFP reports whether the object uses VFP or NEON instructions.
func (a Attributes) NeedsVFP() bool { return a.FPArch != 0 || a.SIMDArch != 0 }

// Parse reads the contents of a .ARM.attributes section: the format
// version 'A', then vendor subsections, each a length, a vendor name and
// (for "aeabi") scoped attribute lists. Other vendors' subsections are
// skipped.
func Parse(b []byte) (Attributes, error) {
	var a Attributes
	if len(b) == 0 || b[0] != 'A' {
		return a, fmt.Errorf("%w: format version is not 'A'", ErrFormat)
	}
	for b = b[1:]; len(b) > 0; {
		if len(b) < 4 {
			return a, fmt.Errorf("%w: truncated subsection length", ErrFormat)
		}
		n := binary.LittleEndian.Uint32(b)
		if n < 4 || uint64(n) > uint64(len(b)) {
			return a, fmt.Errorf("%w: subsection length %d with %d bytes left", ErrFormat, n, len(b))
		}
		sub := b[4:n]
		b = b[n:]
		vendor, rest, err := cstring(sub)
		if err != nil {
			return a, err
		}
		if vendor != "aeabi" {
			continue
		}
		if err := a.parseScopes(rest); err != nil {
			return a, err
		}
	}
	return a, nil
}

// parseScopes reads Tag_File, Tag_Section and Tag_Symbol lists: a tag,
// a size that counts the tag and itself, then (for sections and
// symbols) their numbers ending in 0, then attributes.
func (a *Attributes) parseScopes(b []byte) error {
	for len(b) > 0 {
		tag, n := uleb(b)
		if n == 0 || len(b) < n+4 {
			return fmt.Errorf("%w: truncated scope header", ErrFormat)
		}
		size := binary.LittleEndian.Uint32(b[n:])
		if uint64(size) < uint64(n+4) || uint64(size) > uint64(len(b)) {
			return fmt.Errorf("%w: scope size %d with %d bytes left", ErrFormat, size, len(b))
		}
		body := b[n+4 : size]
		b = b[size:]
		switch tag {
		case tagFile:
		case tagSection, tagSymbol:
			var err error
			if body, err = skipNumbers(body); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: unknown scope tag %d", ErrFormat, tag)
		}
		if err := a.parseList(body); err != nil {
			return err
		}
	}
	return nil
}

func skipNumbers(b []byte) ([]byte, error) {
	for {
		v, n := uleb(b)
		if n == 0 {
			return nil, fmt.Errorf("%w: unterminated section or symbol list", ErrFormat)
		}
		b = b[n:]
		if v == 0 {
			return b, nil
		}
	}
}

// parseList reads tag/value pairs. A value is a ULEB128 number or a
// NUL-terminated string: tags 4, 5 and 67 are strings, 32 is a number
// then a string, 65 a string; above 32 odd tags are strings; the rest
// are numbers.
func (a *Attributes) parseList(b []byte) error {
	for len(b) > 0 {
		tag, n := uleb(b)
		if n == 0 {
			return fmt.Errorf("%w: truncated tag", ErrFormat)
		}
		b = b[n:]
		var num uint64
		var str string
		var err error
		switch {
		case tag == tagCompatibility:
			if num, n = uleb(b); n == 0 {
				return fmt.Errorf("%w: truncated Tag_compatibility", ErrFormat)
			}
			str, b, err = cstring(b[n:])
		case tag == tagCPURawName || tag == tagCPUName || tag == tagConformance || tag == tagAlsoCompatible || (tag > 32 && tag%2 == 1):
			str, b, err = cstring(b)
		default:
			if num, n = uleb(b); n == 0 {
				return fmt.Errorf("%w: truncated value of tag %d", ErrFormat, tag)
			}
			b = b[n:]
		}
		if err != nil {
			return err
		}
		a.set(tag, num, str)
	}
	return nil
}

func (a *Attributes) set(tag, num uint64, str string) {
	switch tag {
	case tagCPUName:
		a.CPUName = str
	case tagCPUArch:
		if arch := Arch(min(num, 255)); !a.HasCPUArch || !arch.RunsOn(a.CPUArch) {
			a.CPUArch, a.HasCPUArch = arch, true
		}
	case tagFPArch:
		a.FPArch = max(a.FPArch, num)
	case tagSIMDArch:
		a.SIMDArch = max(a.SIMDArch, num)
	case tagABIVFPArgs:
		a.VFPArgs = num
	}
}

// uleb decodes an unsigned LEB128 number; n is 0 when b ends inside it
// or it does not fit in 64 bits.
func uleb(b []byte) (v uint64, n int) {
	for i, c := range b {
		if i == 10 {
			return 0, 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

func cstring(b []byte) (string, []byte, error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", nil, fmt.Errorf("%w: unterminated string", ErrFormat)
	}
	return string(b[:i]), b[i+1:], nil
}

// ReadELF returns the build attributes of a 32-bit ARM ELF object:
// an executable, a shared library or a relocatable object.
func ReadELF(r io.ReaderAt) (Attributes, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return Attributes{}, fmt.Errorf("%w: %v", ErrNotARM, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_ARM || f.Class != elf.ELFCLASS32 {
		return Attributes{}, fmt.Errorf("%w: it is %s %s", ErrNotARM, f.Class, f.Machine)
	}
	for _, s := range f.Sections {
		if s.Type != sectionType {
			continue
		}
		data, err := s.Data()
		if err != nil {
			return Attributes{}, fmt.Errorf("%w: reading %s: %v", ErrFormat, s.Name, err)
		}
		return Parse(data)
	}
	return Attributes{}, ErrNoAttributes
}

// IsELF reports whether b starts with the ELF magic number.
func IsELF(b []byte) bool { return bytes.HasPrefix(b, []byte(elf.ELFMAG)) }
