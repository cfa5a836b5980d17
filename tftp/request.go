package tftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// TFTP opcodes (RFC 1350, RFC 2347).
const (
	opRRQ   = 1
	opWRQ   = 2
	opDATA  = 3
	opACK   = 4
	opERROR = 5
	opOACK  = 6
)

// Error codes (RFC 1350, RFC 2347) a refusal carries.
const (
	codeUndefined    = 0
	codeNotFound     = 1
	codeAccess       = 2
	codeIllegalOp    = 4
	codeBadOptions   = 8
	maxRequestLength = 512 // RFC 1350: a request fits one 512-byte packet
)

// ErrMalformed is wrapped by the errors parseRequest returns for a
// request it cannot read.
var ErrMalformed = errors.New("malformed TFTP request")

// errNotRequest: the packet is not an RRQ or WRQ (a stray ACK, DATA or
// ERROR on the request port); it gets no answer.
var errNotRequest = errors.New("not a TFTP request")

// request is a parsed RRQ or WRQ.
type request struct {
	write bool
	name  string
	mode  string            // "octet" or "netascii"
	opts  map[string]string // option names in lower case
}

// parseRequest parses an RRQ or WRQ packet. Options other than the ones
// pin/tftp implements are kept here and dropped by encode, so they are
// never acknowledged.
func parseRequest(p []byte) (request, error) {
	var r request
	if len(p) < 2 {
		return r, errNotRequest
	}
	switch binary.BigEndian.Uint16(p) {
	case opRRQ:
	case opWRQ:
		r.write = true
	default:
		return r, errNotRequest
	}
	if len(p) > maxRequestLength {
		return r, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(p), maxRequestLength)
	}
	body := p[2:]
	if len(body) == 0 || body[len(body)-1] != 0 {
		return r, fmt.Errorf("%w: last field is not NUL-terminated", ErrMalformed)
	}
	fields := bytes.Split(body[:len(body)-1], []byte{0})
	if len(fields) < 2 || len(fields)%2 != 0 {
		return r, fmt.Errorf("%w: %d fields, want name, mode and option pairs", ErrMalformed, len(fields))
	}
	r.name = string(fields[0])
	r.mode = strings.ToLower(string(fields[1]))
	if r.mode != "octet" && r.mode != "netascii" {
		return r, fmt.Errorf("%w: mode %q (want octet or netascii)", ErrMalformed, fields[1])
	}
	r.opts = make(map[string]string)
	for i := 2; i < len(fields); i += 2 {
		r.opts[strings.ToLower(string(fields[i]))] = string(fields[i+1])
	}
	return r, nil
}

// supportedOptions are the options pin/tftp acknowledges: blksize and
// tsize. It ignores timeout and has no
// windowsize, so those are dropped rather than echoed in an OACK.
var supportedOptions = []string{"blksize", "tsize"}

// encode rebuilds the request for pin/tftp under the name tok, with
// normalised mode and option names and only the supported options.
func (r request) encode(tok string) []byte {
	op := uint16(opRRQ)
	if r.write {
		op = opWRQ
	}
	b := binary.BigEndian.AppendUint16(nil, op)
	b = append(append(b, tok...), 0)
	b = append(append(b, r.mode...), 0)
	for _, k := range supportedOptions {
		if v, ok := r.opts[k]; ok {
			b = append(append(b, k...), 0)
			b = append(append(b, v...), 0)
		}
	}
	return b
}

// op names the request in log lines.
func (r request) op() string {
	if r.write {
		return "write"
	}
	return "read"
}

// sentHere reports whether the Server sends r itself: an octet
// download, lock-step or in windows (RFC 7440). pin/tftp serves uploads
// and netascii downloads. (pin/tftp has no windowsize, and its
// lock-step sender, on Go's netpoller, lost to tftpd-hpa: see
// blockingConn.)
func (r request) sentHere() bool {
	return !r.write && r.mode == "octet"
}

// errorPacket builds a TFTP ERROR packet.
func errorPacket(code uint16, msg string) []byte {
	b := binary.BigEndian.AppendUint16(nil, opERROR)
	b = binary.BigEndian.AppendUint16(b, code)
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return append(append(b, msg...), 0)
}

// Refusal is the ERROR packet that answers p from a client the server
// does not serve: access violation, as Allow refuses. It is nil when p
// is no read or write request: nothing else gets an answer.
func Refusal(p []byte) []byte {
	if _, err := parseRequest(p); err == errNotRequest {
		return nil
	}
	return errorPacket(refusal(ErrNotAllowed))
}
