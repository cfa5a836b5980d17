package uboot

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// importEnv sets name to value through the board's RAM, for a value the
// simple parser cannot pass: without hush, a 2023 U-Boot expands each
// command line into a buffer of CONFIG_SYS_CBSIZE bytes
// (cli_simple_run_command's finaltoken), so the join of a split value,
// `setenv bootargs ${_b0} ${_b1}`, comes out cut at the buffer's end.
// (The U-Boots of 2009 had no such bound, and the join works there.)
// The text "name=value\n" goes into RAM at the dialect's Scratch address
// four bytes at a time with mw.l (little-endian ARM), and `env import -t`
// reads it in.
func (dr *Driver) importEnv(ctx context.Context, name, value string) error {
	text := []byte(name + "=" + value + "\n")
	padded := append(text, make([]byte, (4-len(text)%4)%4)...)
	for i := 0; i < len(padded); i += 4 {
		cmd := fmt.Sprintf("mw.l 0x%x 0x%08x", dr.d.Scratch+uint32(i), binary.LittleEndian.Uint32(padded[i:]))
		if _, err := dr.Run(ctx, cmd); err != nil {
			return fmt.Errorf("uboot: %s: writing it into RAM: %w", name, err)
		}
	}
	if _, err := dr.Run(ctx, fmt.Sprintf("env import -t 0x%x 0x%x %s", dr.d.Scratch, len(text), name)); err != nil {
		return fmt.Errorf("uboot: %s: env import: %w", name, err)
	}
	got, err := dr.Getenv(ctx, name)
	if err != nil {
		return err
	}
	if got != value {
		return &VerifyError{Name: name, Want: value, Got: got}
	}
	return nil
}

// mayImport says whether a value that did not survive the split setenv
// lines should go in through RAM instead: a cut value on a board
// without hush, with scratch RAM to use.
func (dr *Driver) mayImport(err error, lines []string) bool {
	var ve *VerifyError
	return errors.As(err, &ve) && !dr.d.Hush && dr.d.Scratch != 0 && len(lines) > 1
}
