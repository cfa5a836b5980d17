package oncrpc

// RPC program numbers (RFC 1833, RFC 1813) and the versions bootrig
// serves.
const (
	ProgPortmap = 100000
	ProgNFS     = 100003
	ProgMount   = 100005

	NFSVersion   = 3
	MountVersion = 3
)
