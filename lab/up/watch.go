package up

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// RPC programs the watch tells apart.
const (
	progPortmap = 100000
	progNFS     = 100003
	progMount   = 100005
)

// Errors Diagnose returns for a root filesystem mount that is not
// happening, each saying what bootrig's servers saw.
var (
	ErrNFSUnreachable = errors.New("the board never reached bootrig's NFS server")
	ErrNFSRefused     = errors.New("the board connected to the NFS server but was refused")
	ErrNFSNoMount     = errors.New("the board asked the portmapper but never called MOUNT")
	ErrNFSMountFailed = errors.New("the board called MOUNT but no NFS call followed")
)

// Watch counts the RPC calls bootrig's NFS and portmapper servers
// receive, by program, from the record headers on the wire; it lets
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
	case progPortmap:
		w.portmap.Add(1)
	case progMount:
		w.mount.Add(1)
		w.mu.Lock()
		w.mountVers[vers] = true
		w.mu.Unlock()
	case progNFS:
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

// Listener watches the RPC records of every connection l accepts.
func (w *Watch) Listener(l net.Listener) net.Listener { return &watchListener{Listener: l, w: w} }

type watchListener struct {
	net.Listener
	w *Watch
}

func (l *watchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.w.conns.Add(1)
	return &watchConn{Conn: c, s: recordSniffer{start: true, onCall: l.w.call}}, nil
}

type watchConn struct {
	net.Conn
	s recordSniffer
}

func (c *watchConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.s.feed(p[:n])
	return n, err
}

// PacketConn watches the RPC calls arriving on a UDP socket.
func (w *Watch) PacketConn(pc net.PacketConn) net.PacketConn {
	return &watchPacket{PacketConn: pc, w: w}
}

type watchPacket struct {
	net.PacketConn
	w *Watch
}

func (c *watchPacket) ReadFrom(p []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(p)
	if prog, vers, ok := parseCall(p[:n]); ok {
		c.w.call(prog, vers)
	}
	return n, a, err
}

// callHeader is the bytes of an RPC call up to its procedure number:
// xid, message type, RPC version, program, version, procedure.
const callHeader = 24

// parseCall reads program and version from an RPC call message.
func parseCall(b []byte) (prog, vers uint32, ok bool) {
	if len(b) < callHeader || binary.BigEndian.Uint32(b[4:]) != 0 || binary.BigEndian.Uint32(b[8:]) != 2 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint32(b[12:]), binary.BigEndian.Uint32(b[16:]), true
}

// recordSniffer follows RPC record marking (RFC 5531 section 11) on a
// byte stream and reports the call at the start of each record.
type recordSniffer struct {
	mark       []byte // record mark bytes read so far
	left       int    // bytes left in the current fragment
	start      bool   // the next fragment starts a record
	collecting bool   // gathering the record's call header
	call       []byte
	onCall     func(prog, vers uint32)
}

func (s *recordSniffer) feed(b []byte) {
	for len(b) > 0 {
		if s.left == 0 {
			n := min(4-len(s.mark), len(b))
			s.mark, b = append(s.mark, b[:n]...), b[n:]
			if len(s.mark) == 4 {
				m := binary.BigEndian.Uint32(s.mark)
				s.mark, s.left = s.mark[:0], int(m&0x7fffffff)
				if s.start {
					s.collecting, s.call = true, s.call[:0]
				}
				s.start = m&0x80000000 != 0
			}
			continue
		}
		n := min(s.left, len(b))
		if s.collecting {
			take := min(n, callHeader-len(s.call))
			s.call = append(s.call, b[:take]...)
			if len(s.call) == callHeader {
				s.collecting = false
				if prog, vers, ok := parseCall(s.call); ok {
					s.onCall(prog, vers)
				}
			}
		}
		s.left, b = s.left-n, b[n:]
	}
}
