// Package portmap is a small ONC RPC portmapper (program 100000,
// versions 2, 3 and 4; RFC 1833) that answers from a fixed table, so
// that a kernel mounting its root over NFS can find the NFS and MOUNT
// ports without a system rpcbind.
//
// Start from Server: set Mappings, then Serve a TCP listener and
// ServeUDP a UDP socket (or ListenAndServe both), and Shutdown. It
// answers NULL, GETPORT and DUMP (version 2), GETADDR, DUMP and
// GETTIME (versions 3 and 4), GETVERSADDR and GETADDRLIST (version 4); SET and UNSET
// reply false, since the table is fixed; anything else gets a
// well-formed PROC_UNAVAIL, PROG_UNAVAIL or PROG_MISMATCH reply.
package portmap
