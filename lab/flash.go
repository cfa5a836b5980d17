package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrImageTooBig is returned by WriteFlash for an image larger than the bank.
var ErrImageTooBig = errors.New("image larger than the flash bank")

// erased is what erased NOR flash reads as.
const erased = 0xff

// EnsureFlash makes path a flash bank of size bytes: a missing file, or
// one of another size (QEMU refuses those), becomes an erased bank; an
// existing bank of the right size is kept, with the environment U-Boot
// saved in it.
func EnsureFlash(path string, size int64) error {
	fi, err := os.Stat(path)
	if err == nil && fi.Size() == size {
		return nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("flash bank %s: %w", path, err)
	}
	return WriteFlash(path, size, nil)
}

// WriteFlash writes img at offset 0 of the flash bank at path, as a
// U-Boot environment image (mkenvimage -s 0x40000) goes into the second
// bank of QEMU's virt machine. The rest of the bank reads as erased
// flash, or keeps what it held when the file already is a bank of that
// size. Only do it while the board is off: QEMU reads the bank at start
// and writes its own changes back.
func WriteFlash(path string, size int64, img []byte) error {
	if int64(len(img)) > size {
		return fmt.Errorf("flash bank %s: %d-byte image, %d-byte bank: %w", path, len(img), size, ErrImageTooBig)
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() == size && fi.Mode().IsRegular() {
		return writeAt(path, img)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".flash-*")
	if err != nil {
		return fmt.Errorf("flash bank %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	err = writeBank(tmp, size, img)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("flash bank %s: %w", path, err)
	}
	return nil
}

func writeBank(w io.Writer, size int64, img []byte) error {
	if _, err := w.Write(img); err != nil {
		return err
	}
	fill := bytes.Repeat([]byte{erased}, 1<<20)
	for left := size - int64(len(img)); left > 0; {
		n := min(left, int64(len(fill)))
		if _, err := w.Write(fill[:n]); err != nil {
			return err
		}
		left -= n
	}
	return nil
}

func writeAt(path string, img []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("flash bank %s: %w", path, err)
	}
	_, err = f.WriteAt(img, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("flash bank %s: %w", path, err)
	}
	return nil
}
