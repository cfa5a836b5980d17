package uboot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// ErrBadScript is a boot script that cannot be made: no commands, or a
// NUL byte in one.
var ErrBadScript = errors.New("bad boot script")

// Script makes a boot script image (boot.scr) that runs cmds in order, as
// `mkimage -A arm -O linux -T script -C none -n name -d FILE` makes it
// from a FILE holding one command per line. U-Boot runs it with `source`
// (for example `tftp ${loadaddr} boot.scr; source ${loadaddr}`), which
// is how a board whose console line is too short for a long setenv gets
// it. The image is stamped with BuildTime. A command may span lines
// (hush's if/then/fi); a NUL byte is an error.
func Script(cmds []string, name string) ([]byte, error) {
	if len(cmds) == 0 {
		return nil, fmt.Errorf("uimage: script %q: no commands: %w", name, ErrBadScript)
	}
	for i, c := range cmds {
		if strings.IndexByte(c, 0) >= 0 {
			return nil, fmt.Errorf("uimage: script %q: command %d holds a NUL byte: %w", name, i, ErrBadScript)
		}
	}
	t, err := BuildTime()
	if err != nil {
		return nil, err
	}
	text := strings.Join(cmds, "\n") + "\n"
	payload := make([]byte, 8, 8+len(text))
	binary.BigEndian.PutUint32(payload, uint32(len(text))) // the size table: one part, then 0
	payload = append(payload, text...)
	h := Header{
		Name: name, Time: t, Arch: ArchARM, OS: OSLinux, Type: TypeScript, Comp: CompNone,
		Size: uint32(len(payload)), DataCRC: crc32.ChecksumIEEE(payload),
	}
	b, err := h.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return append(b, payload...), nil
}
