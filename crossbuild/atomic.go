package crossbuild

import (
	"io"
	"os"
)

// writeAtomic writes path anew through path.tmp and a rename, so a reader,
// or a build stopped half-way, never finds half a file at path.
func writeAtomic(path string, write func(w io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // gone after the rename; left over only on failure
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
