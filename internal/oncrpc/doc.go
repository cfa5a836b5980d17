// Package oncrpc is the ONC RPC (RFC 5531) layer bootrig's NFS, MOUNT
// and portmapper servers are procedures on: XDR (RFC 4506) primitives,
// record marking with a size limit, call and reply headers with
// AUTH_NONE and AUTH_UNIX credentials, the program numbers, and a Server
// that accepts TCP connections and UDP datagrams, bounds what clients
// can make it hold, and shuts down like net/http.
//
// Start from Server (a Handler answers each Call) and, for procedures,
// Decoder and Encoder.
package oncrpc
