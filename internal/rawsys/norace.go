//go:build !race

package rawsys

// ForSockets says whether Read and Writev should serve sockets (see
// race.go for why not in race-detector builds).
const ForSockets = true
