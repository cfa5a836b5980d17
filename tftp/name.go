package tftp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// MaxNameLength is the longest file name a client may request.
const MaxNameLength = 255

// Refusal sentinels. Every refusal wraps one of them; refusal maps
// them to the TFTP error code sent to the client.
var (
	// ErrBadName: the name is empty, too long, or contains a backslash,
	// a NUL byte or a ".." component.
	ErrBadName = errors.New("file name refused")
	// ErrOutsideRoot: the name resolves outside the root (a symlink).
	ErrOutsideRoot = errors.New("path leads outside the TFTP root")
	// ErrNotFound: no such file below the root.
	ErrNotFound = errors.New("file not found")
	// ErrNotRegular: the name is a directory, device or FIFO.
	ErrNotRegular = errors.New("not a regular file")
	// ErrReadOnly: a write request to a read-only server.
	ErrReadOnly = errors.New("server is read-only")
	// ErrNotAllowed: the client's address is not in Server.Allow.
	ErrNotAllowed = errors.New("client address not allowed")
	// errNotStarted: the transfer had no socket (out of descriptors).
	errNotStarted = errors.New("transfer could not start")
)

// checkName refuses names that have no business in a TFTP request
// before the name reaches os.Root, which is what confines the rest
// (symlinks, "..", absolute links) to the root.
func checkName(name string) error {
	switch {
	case rootName(name) == "":
		return fmt.Errorf("%w: empty", ErrBadName)
	case len(name) > MaxNameLength:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrBadName, len(name), MaxNameLength)
	case strings.ContainsRune(name, '\\'):
		return fmt.Errorf("%w: contains a backslash", ErrBadName)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("%w: contains a NUL byte", ErrBadName)
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return fmt.Errorf("%w: contains a .. component", ErrBadName)
		}
	}
	return nil
}

// rootName is name relative to the root: an absolute name ("/uImage")
// is taken from the root, as tftpd-hpa -s serves it.
func rootName(name string) string {
	return strings.TrimLeft(name, "/")
}

// openRead opens name below root for reading and returns it with its
// size. It refuses anything but a regular file; O_NONBLOCK keeps a FIFO
// from blocking the request loop.
func openRead(root *os.Root, name string) (*os.File, int64, error) {
	if err := checkName(name); err != nil {
		return nil, 0, err
	}
	f, err := root.OpenFile(rootName(name), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, classify(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%w: %s is %s", ErrNotRegular, name, fi.Mode().Type())
	}
	return f, fi.Size(), nil
}

// createTemp creates the temporary file an upload of name goes to, in
// name's directory so that the final rename stays on one file system.
func createTemp(root *os.Root, name string, unique uint64) (*os.File, string, error) {
	if err := checkName(name); err != nil {
		return nil, "", err
	}
	name = rootName(name)
	if fi, err := root.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("%w: %s is %s", ErrNotRegular, name, fi.Mode().Type())
	}
	dir, base := path.Split(name)
	tmp := fmt.Sprintf("%s.%s.tftp-upload-%d", dir, base, unique)
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, "", classify(err)
	}
	return f, tmp, nil
}

// classify wraps an os.Root error in the sentinel for its class.
func classify(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, fs.ErrPermission):
		return err
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "escapes") {
		// os.Root's errPathEscapes is unexported; its message is stable.
		return fmt.Errorf("%w: %w", ErrOutsideRoot, err)
	}
	return err
}

// refusal is the TFTP error code and message for a refusal error. The
// message says no more than the code unless the client can act on it.
func refusal(err error) (uint16, string) {
	switch {
	case errors.Is(err, ErrMalformed):
		return codeIllegalOp, err.Error()
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotRegular):
		return codeNotFound, "file not found"
	case errors.Is(err, ErrBusy), errors.Is(err, ErrClientBusy), errors.Is(err, errNotStarted),
		errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return codeUndefined, "server busy, try again"
	case errors.Is(err, ErrReadOnly):
		return codeAccess, "server is read-only"
	default:
		// Bad names, escapes, permissions, not allowed and anything
		// unforeseen: access violation.
		return codeAccess, "access violation"
	}
}

// causes are the classes refusals are logged by: each gets its own
// budget of log lines.
var causes = []error{ErrMalformed, ErrNotAllowed, ErrBadName, ErrOutsideRoot, ErrNotFound,
	ErrNotRegular, ErrReadOnly, ErrBusy, ErrClientBusy, errNotStarted, fs.ErrPermission,
	syscall.EMFILE, syscall.ENFILE}

// cause names the class of a refusal error for the log's rate limit.
func cause(err error) string {
	for _, c := range causes {
		if errors.Is(err, c) {
			return c.Error()
		}
	}
	return "other"
}
