// Package nfsroot is an embedded, userspace NFSv3 server that exports a
// plain directory as a board's root filesystem: stable file handles,
// root-owned files and device nodes kept in a metadata store beside the
// export, and no request reaching outside it.
//
// Start from OpenExport (the directory, its metadata store and Seed for
// a device table) and Server (Serve a TCP listener, ServePacket a UDP
// socket, Shutdown). One port carries NFSv3 (program 100003) and MOUNT v3
// (100005); package portmap answers portmapper queries for them. The
// procedures sit on internal/oncrpc, which bounds connections, calls in
// flight and bytes queued; by default only privileged source ports are
// served, and NFS only over TCP.
//
// # Handles
//
// A file handle names the host object: device, inode number and birth
// time, with a MAC of them keyed by a secret kept (mode 0600) beside the
// metadata store, so that no client can make a handle from what it can
// stat; one that fails the MAC is NFS3ERR_BADHANDLE. The metadata store keeps, for every object the server has named,
// its parent and name, so a handle turns into the object's current path
// with one B+tree lookup per directory level. Nothing is evicted: a
// handle stays valid however many files are looked up, across RENAME
// (a directory's move rewrites one record) and across a restart.
//
// # Listings and live editing
//
// The export stays the host's to edit while the board runs. Directory
// listings, and for READDIRPLUS their entries' attributes and handles,
// are kept (dircache.go, bounded) under an inotify watch of each
// directory, whose events are read before every listing: a change made
// on the host before a call is seen by that call. What inotify does not
// report (atime, writes through mmap) shows within attrTTL (1 s).
//
// # Confinement
//
// Every path is resolved beneath the export's root by the kernel
// (openat2 RESOLVE_BENEATH, no symlinks followed; an os.Root where
// openat2 is missing), so no component can leave the export; changes run as *at system calls on a directory descriptor
// whose device and inode were checked against the handle, with a single
// name that cannot be "..", contain "/" or NUL, or exceed 255 bytes;
// files are opened with O_NOFOLLOW and verified with fstat; an object's
// attributes are changed through an O_PATH|O_NOFOLLOW descriptor of it,
// verified the same way, never by name (fdops.go lists every call).
// Symlinks are never followed on the host: the client gets them as
// symlinks, with their targets verbatim.
//
// # Permissions
//
// Every procedure checks the caller's AUTH_UNIX credentials against the
// board's view of owner and mode as Linux and knfsd do (perm.go): mode
// bits, search and write permission on directories, the sticky bit, the
// rules for chmod, chown and times, and the clearing of setuid and
// setgid. uid 0 has every power (an NFS root needs it) unless
// Server.RootSquash maps it to the anonymous user 65534, as AUTH_NONE
// callers are.
//
// # Ownership without root
//
// The host files stay plain files of the user running the server. The
// board's view — owner, group, mode bits including setuid, setgid and
// sticky, and the type and numbers of device nodes, fifos and sockets
// (empty placeholder files on the host) — lives in the store (bbolt),
// keyed by inode, so it follows renames and hard links. Files with no
// record appear as root:root with the host's mode bits. With
// ExportOptions.RealOwnership (as root) the host's own ownership and
// device files are served and changed instead.
//
// # Durability
//
// A FILE_SYNC WRITE fsyncs the file, a DATA_SYNC WRITE and a COMMIT
// fdatasync it (its data and size, not its times), and each syncs the
// metadata store if the board changed it since its last sync, before
// replying; UNSTABLE writes are in the page cache, which a crash of the
// server does not lose. The write verifier changes
// with every Server, so a client re-sends what it had not committed.
package nfsroot
