// Package up brings a board up in one call: it builds what is stale,
// serves the kernel over TFTP and the root filesystem over NFS, powers
// the board on (the emulated one in its lab namespace), gets U-Boot to
// boot with the right environment, records the boot with its phases until
// the shell prompt, and then runs a command or hands the console to the
// user.
//
// Start from [Config] and [Run]. [Env] is the U-Boot environment a board
// boots with; [Board.Servers] are the TFTP, portmapper and NFS servers
// (package servers), which [Board.RestartServers] stops and starts again
// while the board runs, and [Board.Watch] tells from their calls why a
// mount is not happening. With [Config.Served] the servers are another
// process's (bootrig serve --farm for boards on one lab.SharedLAN), and
// up only powers the board on and boots it.
package up
