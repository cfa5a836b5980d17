//go:build race

package rawsys

// ForSockets is false in race-detector builds: the detector learns that
// what one goroutine wrote before a socket write happens before what
// another reads after the read from syscall.Read and syscall.Write, and
// raw calls would hide that edge (and report races that are not).
const ForSockets = false
