// Package nfsroot is an embedded, userspace NFSv3 server that exports a
// plain directory as a board's root filesystem: stable file handles,
// root-owned files and device nodes kept in a metadata store beside the
// export, and no request reaching outside it.
package nfsroot
