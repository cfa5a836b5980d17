package uboot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"strings"
)

// Defects of environment images and variables, told apart with errors.Is.
var (
	ErrEnvTooLarge = errors.New("the environment does not fit the image")
	ErrEnvShort    = errors.New("environment image too short")
	ErrEnvBadCRC   = errors.New("bad environment CRC")
	ErrEnvNoEnd    = errors.New("environment has no end (no empty entry before the image ends)")
	ErrEnvBadVar   = errors.New("bad environment variable")
)

// ErasedByte is the byte erased NOR flash reads as, the pad byte
// mkenvimage uses unless told otherwise (-p).
const ErasedByte = 0xff

// EnvVar is one variable of a U-Boot environment.
type EnvVar struct {
	Name, Value string
}

// EnvImage is the layout of a U-Boot environment image, the binary
// environment U-Boot loads from flash at power-on ("Loading Environment
// from Flash... OK") and saveenv writes, as u-boot-tools' mkenvimage makes
// it: a CRC32 of the data area, a flag byte if the environment is
// redundant, then the variables as NUL-terminated name=value strings, an
// empty string to end them, and Pad bytes to the end.
type EnvImage struct {
	Size      int  // the whole image, CONFIG_ENV_SIZE: 0x40000 on qemu_arm (mkenvimage -s)
	Redundant bool // CONFIG_SYS_REDUNDAND_ENVIRONMENT: a flag byte (1, active) after the CRC (-r)
	BigEndian bool // the CRC is stored big-endian (-b); U-Boot stores it in the CPU's order
	Pad       byte // fill after the variables: ErasedByte (0xff) as mkenvimage, or 0 with -p 0
}

// header is the bytes before the data area.
func (e EnvImage) header() int {
	if e.Redundant {
		return 5
	}
	return 4
}

// Marshal makes the image of vars, in the order given (U-Boot keeps its
// own sorted; see SortedEnv). Names must be non-empty without '=' or NUL;
// values without NUL (newlines are fine). Its bytes are what mkenvimage
// makes from the same variables written one per line.
func (e EnvImage) Marshal(vars []EnvVar) ([]byte, error) {
	img, data, err := e.alloc()
	if err != nil {
		return nil, err
	}
	ep := 0
	seen := make(map[string]bool, len(vars))
	for _, v := range vars {
		if err := checkVar(v, seen); err != nil {
			return nil, err
		}
		if ep+len(v.Name)+len(v.Value)+3 > len(data) { // "=", NUL, and the final NUL
			return nil, fmt.Errorf("uboot env: variable %q at byte %d of %d: %w", v.Name, ep, len(data), ErrEnvTooLarge)
		}
		ep += copy(data[ep:], v.Name)
		data[ep] = '='
		ep += 1 + copy(data[ep+1:], v.Value)
		data[ep] = 0
		ep++
	}
	data[ep] = 0 // the empty entry that ends the environment
	return e.seal(img), nil
}

// checkVar checks a variable's name and value.
func checkVar(v EnvVar, seen map[string]bool) error {
	switch {
	case v.Name == "":
		return fmt.Errorf("uboot env: a variable with an empty name: %w", ErrEnvBadVar)
	case strings.ContainsAny(v.Name, "=\x00"):
		return fmt.Errorf("uboot env: name %q holds '=' or NUL: %w", v.Name, ErrEnvBadVar)
	case strings.IndexByte(v.Value, 0) >= 0:
		return fmt.Errorf("uboot env: value of %q holds a NUL byte: %w", v.Name, ErrEnvBadVar)
	case seen[v.Name]:
		return fmt.Errorf("uboot env: %q given twice: %w", v.Name, ErrEnvBadVar)
	}
	seen[v.Name] = true
	return nil
}

// alloc makes the image, padded, and returns it with its data area.
func (e EnvImage) alloc() (img, data []byte, err error) {
	if e.Size < e.header()+2 {
		return nil, nil, fmt.Errorf("uboot env: image size %d leaves no room for data after the %d-byte header: %w", e.Size, e.header(), ErrEnvTooLarge)
	}
	img = make([]byte, e.Size)
	data = img[e.header():]
	for i := range data {
		data[i] = e.Pad
	}
	return img, data, nil
}

// seal puts the CRC of the data area (and the flag byte) in front of it.
func (e EnvImage) seal(img []byte) []byte {
	crc := crc32.ChecksumIEEE(img[e.header():])
	if e.BigEndian {
		binary.BigEndian.PutUint32(img, crc)
	} else {
		binary.LittleEndian.PutUint32(img, crc)
	}
	if e.Redundant {
		img[4] = 1
	}
	return img
}

// FromText makes the image from mkenvimage's input format, byte for byte
// as mkenvimage does: one name=value per line, empty lines and lines
// starting with '#' skipped, a backslash at the end of a line continuing
// the value on the next (the newline kept). Lines are not checked for '='
// (mkenvimage does not check either).
func (e EnvImage) FromText(text []byte) ([]byte, error) {
	img, env, err := e.alloc()
	if err != nil {
		return nil, err
	}
	ep, fp := 0, 0
	bol := func(i int) bool { return i == 0 || text[i-1] == '\n' }
	for ; fp < len(text) && ep < len(env)-1; fp++ {
		switch c := text[fp]; {
		case c == '\n' && bol(fp): // empty line
		case c == '\n' && text[fp-1] == '\\': // continued: the backslash becomes the newline
			env[ep-1] = '\n'
		case c == '\n':
			env[ep] = 0
			ep++
		case c == '#' && bol(fp): // comment: skip to its newline, which ends it
			for fp+1 < len(text) && text[fp+1] != '\n' {
				fp++
			}
			fp++
		default:
			env[ep] = c
			ep++
		}
	}
	if err := restIsEmpty(text, fp, ep, len(env)); err != nil {
		return nil, err
	}
	// mkenvimage looks at the byte before the data area when the input
	// has no variables; that byte is 0 there, so one NUL ends it.
	if ep > 0 && env[ep-1] != 0 {
		env[ep] = 0
		if ep++; ep >= len(env) {
			return nil, fmt.Errorf("uboot env: the text needs more than the %d bytes of data: %w", len(env), ErrEnvTooLarge)
		}
	}
	env[ep] = 0
	return e.seal(img), nil
}

// restIsEmpty checks that what the data area had no room for is only
// empty lines and comments, as mkenvimage does.
func restIsEmpty(text []byte, fp, ep, size int) error {
	for ; fp < len(text); fp++ {
		bol := fp == 0 || text[fp-1] == '\n'
		switch {
		case text[fp] == '\n':
		case text[fp] == '#' && bol:
			for fp+1 < len(text) && text[fp+1] != '\n' {
				fp++
			}
			fp++
		default:
			return fmt.Errorf("uboot env: the text needs more than the %d bytes of data (stopped at text byte %d): %w", size, fp, ErrEnvTooLarge)
		}
	}
	return nil
}

// Parse reads an environment image: the first e.Size bytes of b (all of b
// if Size is 0), as U-Boot does at power-on, checking the CRC and
// splitting the variables. Pad is not used.
func (e EnvImage) Parse(b []byte) ([]EnvVar, error) {
	if e.Size > 0 {
		if len(b) < e.Size {
			return nil, fmt.Errorf("uboot env: %d bytes, the image is %d: %w", len(b), e.Size, ErrEnvShort)
		}
		b = b[:e.Size]
	}
	if len(b) < e.header()+1 {
		return nil, fmt.Errorf("uboot env: %d bytes: %w", len(b), ErrEnvShort)
	}
	data := b[e.header():]
	want := binary.LittleEndian.Uint32(b)
	if e.BigEndian {
		want = binary.BigEndian.Uint32(b)
	}
	if got := crc32.ChecksumIEEE(data); got != want {
		return nil, fmt.Errorf("uboot env: CRC is %#08x, the data gives %#08x: %w", want, got, ErrEnvBadCRC)
	}
	var vars []EnvVar
	for off := 0; ; {
		n := bytes.IndexByte(data[off:], 0)
		if n < 0 {
			return nil, fmt.Errorf("uboot env: %w", ErrEnvNoEnd)
		}
		if n == 0 {
			return vars, nil
		}
		name, value, ok := strings.Cut(string(data[off:off+n]), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("uboot env: entry at data byte %d, %q, is not name=value: %w", off, data[off:off+n], ErrEnvBadVar)
		}
		vars = append(vars, EnvVar{name, value})
		off += n + 1
	}
}

// SortedEnv turns a map into variables sorted by name, the order U-Boot
// keeps them in.
func SortedEnv(m map[string]string) []EnvVar {
	vars := make([]EnvVar, 0, len(m))
	for k, v := range m {
		vars = append(vars, EnvVar{k, v})
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars
}
