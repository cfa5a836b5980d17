// Package tftp is a read-mostly TFTP server, confined to one root
// directory, that hands U-Boot its kernel, device tree and boot scripts.
//
// Start from Server, shaped like net/http's: set Root (and optionally
// Writable, Allow, MaxBlockSize, Logger, Progress), then Serve a socket
// from Listen, or ListenAndServe; Shutdown stops it.
//
// The protocol engine is github.com/pin/tftp/v3 (RFC 1350, blksize
// RFC 2348, tsize RFC 2349, block-number rollover). In front of it the
// Server reads every request itself, so that it can refuse with the
// right TFTP error code: clients outside Allow, write requests to a
// read-only server, and names that are absolute, contain "..", a
// backslash or a NUL, are longer than MaxNameLength or resolve outside
// Root (checked by os.Root, so symlinks anywhere in the path that lead
// out are refused too). Requests that pass reach pin/tftp with the file
// already open. The timeout (RFC 2349) and windowsize (RFC 7440)
// options are not implemented by pin/tftp and are left out of the OACK.
package tftp
