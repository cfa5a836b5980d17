package up

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// Errors Diagnose returns for a root filesystem mount that is not
// happening, each saying what bootrig's servers saw.
var (
	ErrNFSUnreachable = errors.New("the board never reached bootrig's NFS server")
	ErrNFSRefused     = errors.New("the board connected to the NFS server but was refused")
	ErrNFSNoMount     = errors.New("the board asked the portmapper but never called MOUNT")
	ErrNFSMountFailed = errors.New("the board called MOUNT but no NFS call followed")
)

// Watch counts the connections and RPC calls bootrig's NFS and
// portmapper servers receive, by program, through the servers' hooks; it lets
// bootrig tell, long before the kernel gives up on its root filesystem
// (about 96 s), why a mount is not happening.
type Watch struct {
	conns, portmap, mount, nfs atomic.Int64
	mu                         sync.Mutex
	mountVers, nfsVers         map[uint32]bool
}

// NewWatch makes an empty Watch.
func NewWatch() *Watch {
	return &Watch{mountVers: map[uint32]bool{}, nfsVers: map[uint32]bool{}}
}

// NFSCalls is how many NFS calls arrived.
func (w *Watch) NFSCalls() int64 { return w.nfs.Load() }

func (w *Watch) call(prog, vers uint32) {
	switch prog {
	case oncrpc.ProgPortmap:
		w.portmap.Add(1)
	case oncrpc.ProgMount:
		w.mount.Add(1)
		w.mu.Lock()
		w.mountVers[vers] = true
		w.mu.Unlock()
	case oncrpc.ProgNFS:
		w.nfs.Add(1)
		w.mu.Lock()
		w.nfsVers[vers] = true
		w.mu.Unlock()
	}
}

// Diagnose says why no NFS call has arrived, from what did arrive; nil
// once NFS calls have arrived (the mount worked).
func (w *Watch) Diagnose(server string) error {
	conns, pm, mnt := w.conns.Load(), w.portmap.Load(), w.mount.Load()
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.nfs.Load() > 0:
		return nil
	case mnt > 0 && !w.mountVers[3]:
		return fmt.Errorf("%w: MOUNT version %v, bootrig serves version 3: add v3 to nfsroot= options in bootargs", ErrNFSMountFailed, keys(w.mountVers))
	case mnt > 0:
		return fmt.Errorf("%w: the export path was refused (nfsroot=%s:PATH must be / or the rootfs's path; see the server log)", ErrNFSMountFailed, server)
	case conns > 0:
		return fmt.Errorf("%w: %d connection(s), no call served: the board's address is not allowed (--allow) or the connection was dropped", ErrNFSRefused, conns)
	case pm > 0:
		return fmt.Errorf("%w: wrong port or version in bootargs (nfsroot= options must say v3,tcp; bootrig's NFS and MOUNT are on TCP port 2049)", ErrNFSNoMount)
	}
	return fmt.Errorf("%w at %s: no portmapper query, no connection: check ip= and nfsroot= in bootargs, and the board's network", ErrNFSUnreachable, server)
}

func keys(m map[uint32]bool) []uint32 {
	var out []uint32
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Hooks feed the watch from a server's connections and calls; give
// the same hooks to the NFS server and the portmapper.
func (w *Watch) Hooks() oncrpc.Hooks {
	return oncrpc.Hooks{
		Conn: func(net.Addr) { w.conns.Add(1) },
		Call: func(h oncrpc.Header, _ net.Addr) { w.call(h.Prog, h.Vers) },
	}
}
