package nfsroot

import "github.com/bootrig/bootrig/internal/oncrpc"

// errGarbage is returned by the decoder for a truncated or malformed
// argument; the dispatcher answers it with GARBAGE_ARGS.
var errGarbage = oncrpc.ErrGarbage

// decoder reads a procedure's XDR arguments (oncrpc's Decoder, plus the
// NFS types in fattr3.go).
type decoder struct{ oncrpc.Decoder }

func newDecoder(b []byte) *decoder { return &decoder{oncrpc.NewDecoder(b)} }

// encoder appends a procedure's XDR results (oncrpc's Encoder, plus the
// NFS types in fattr3.go).
type encoder struct{ oncrpc.Encoder }
