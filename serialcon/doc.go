// Package serialcon opens a board's serial console (a device, a pty, a
// tcp:// or rfc2217:// port, a unix socket), logs every byte with
// timestamps, and waits on the output for patterns with deadlines.
package serialcon
