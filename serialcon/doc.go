// Package serialcon opens a board's serial console (a device, a pty, a
// tcp:// or rfc2217:// port, a unix socket), logs every byte with
// timestamps, and waits on the output for patterns with deadlines.
//
// Start with [Open] (a [Port] from a spec string such as "/dev/ttyUSB0",
// "/dev/ttyUSB0,115200,8N1", "tcp://host:port", "rfc2217://host:port" or
// "unix:/path") and [NewSession], which runs the one reader of the port and
// fans its bytes out to a timestamped [Log], a raw log, a [Phases] tracker
// that recognises boot phases and failures, an interactive terminal, and
// [Session.Expect]. [Share] serves a session to network clients, as
// ser2net does a port: raw TCP and RFC 2217, many readers, one writer.
package serialcon
