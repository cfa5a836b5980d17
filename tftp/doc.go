// Package tftp is a read-mostly TFTP server, confined to one root
// directory, that hands U-Boot its kernel, device tree and boot scripts.
//
// Start from Server, shaped like net/http's: set Root (and optionally
// Writable, Allow, MaxBlockSize, MaxWindowSize, the transfer limits,
// Logger, Progress), then Serve a socket from Listen, or
// ListenAndServe; Shutdown stops it.
//
// The Server reads every request itself, so that it can refuse with the
// right TFTP error code: clients outside Allow, write requests to a
// read-only server, requests over MaxTransfers or MaxClientTransfers
// (error 0, "server busy"), and names that contain "..", a backslash or
// a NUL, are longer than MaxNameLength or resolve outside Root (checked
// by os.Root, so symlinks anywhere in the path that lead out are refused
// too). An absolute name is taken from the root, as tftpd-hpa -s does.
// Refusals are logged through a rate limit per cause, so a flood costs a
// few lines.
//
// Octet downloads the Server sends itself, lock-step (RFC 1350) or, when
// the client asks for windowsize (RFC 7440), a window of blocks at a
// time: on the ACK of any block in it the next window goes out from the
// block after that, and silence resends the window after a wait that
// adapts to the client's answer time, as far as a slow board's receive
// buffers can take the resends (see maxUnread): then the client's own
// resent ACK brings the window again. Blocks over 4 KiB go out from a
// read-only mapping of the file, one writev(2) each; a file that shrinks
// or grows under the transfer ends as if it were read block by block.
// It negotiates blksize (RFC 2348) and tsize (RFC 2349), and rolls block
// numbers over to 0. Uploads and netascii downloads go to
// github.com/pin/tftp/v3 with the file already open. A transfer holds
// its file and its limit slot only until it is over, including when its
// socket cannot be opened. The timeout option
// (RFC 2349) is not implemented and is left out of the OACK.
package tftp
