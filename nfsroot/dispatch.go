package nfsroot

import (
	"errors"
	"net"
	"runtime/debug"
	"time"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"
)

// RPC program numbers.
const (
	ProgPortmap = 100000
	ProgNFS     = 100003
	ProgMount   = 100005
)

// dtpref is the READDIR(PLUS) reply size the server prefers (FSINFO):
// large, so that a big directory lists in few round trips.
const dtpref = 256 << 10

// maxIO is the largest READ or WRITE the server offers (FSINFO rtmax,
// wtmax).
const maxIO = 1 << 20

// fhMax is the largest nfs_fh3 a client may send.
const fhMax = 64

// request is one call being served.
type request struct {
	*call
	s    *Server
	x    *Export
	addr net.Addr
	// maxReply bounds READ and READDIR(PLUS) replies: maxIO on TCP,
	// less over UDP, where a reply must fit one datagram.
	maxReply uint32
}

// maxUDPData is the most data a READ or READDIR puts in a UDP reply.
const maxUDPData = 32 << 10

type procFunc func(r *request, e *encoder) error

var nfsProcs = [...]procFunc{
	nfs.NFSProcedureNull:        func(*request, *encoder) error { return nil },
	nfs.NFSProcedureGetAttr:     nfsGetattr,
	nfs.NFSProcedureSetAttr:     nfsSetattr,
	nfs.NFSProcedureLookup:      nfsLookup,
	nfs.NFSProcedureAccess:      nfsAccess,
	nfs.NFSProcedureReadlink:    nfsReadlink,
	nfs.NFSProcedureRead:        nfsRead,
	nfs.NFSProcedureWrite:       nfsWrite,
	nfs.NFSProcedureCreate:      nfsCreate,
	nfs.NFSProcedureMkDir:       nfsMkdir,
	nfs.NFSProcedureSymlink:     nfsSymlink,
	nfs.NFSProcedureMkNod:       nfsMknod,
	nfs.NFSProcedureRemove:      nfsRemove,
	nfs.NFSProcedureRmDir:       nfsRmdir,
	nfs.NFSProcedureRename:      nfsRename,
	nfs.NFSProcedureLink:        nfsLink,
	nfs.NFSProcedureReadDir:     nfsReaddir,
	nfs.NFSProcedureReadDirPlus: nfsReaddirplus,
	nfs.NFSProcedureFSStat:      nfsFsstat,
	nfs.NFSProcedureFSInfo:      nfsFsinfo,
	nfs.NFSProcedurePathConf:    nfsPathconf,
	nfs.NFSProcedureCommit:      nfsCommit,
}

var mountProcs = [...]procFunc{
	nfs.MountProcNull:    func(*request, *encoder) error { return nil },
	nfs.MountProcMount:   mountMnt,
	nfs.MountProcDump:    mountDump,
	nfs.MountProcUmnt:    mountUmnt,
	nfs.MountProcUmntAll: mountUmntAll,
	nfs.MountProcExport:  mountExport,
}

// handle answers one RPC record; nil means no reply (not a call).
func (s *Server) handle(rec []byte, addr net.Addr) (reply []byte) {
	return s.handleVia(rec, addr, maxIO)
}

func (s *Server) handleVia(rec []byte, addr net.Addr, maxReply uint32) (reply []byte) {
	c, err := parseCall(rec)
	if err != nil {
		var rj *rejection
		if errors.As(err, &rj) {
			return rj.reply
		}
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			s.panics.Add(1)
			s.log().Error("nfs: panic serving call", "prog", c.prog, "proc", c.proc, "panic", p, "stack", string(debug.Stack()))
			reply = accepted(c.xid, acceptSystemErr)
		}
	}()
	if !s.allowed(addr) {
		s.refuse(addr, "call")
		return denied(c.xid, rejectAuthError, authTooWeak)
	}
	var procs []procFunc
	switch c.prog {
	case ProgNFS:
		procs = nfsProcs[:]
	case ProgMount:
		procs = mountProcs[:]
	default:
		return accepted(c.xid, acceptProgUnavail)
	}
	if c.vers != 3 {
		return accepted(c.xid, acceptProgMismatch, 3, 3)
	}
	if c.proc >= uint32(len(procs)) {
		return accepted(c.xid, acceptProcUnavail)
	}
	e := replyHeader(c.xid, acceptSuccess)
	r := &request{call: c, s: s, x: s.Export, addr: addr, maxReply: maxReply}
	if s.debug {
		defer func(t0 time.Time) {
			s.log().Debug("nfs: call", "client", addr.String(), "prog", c.prog, "proc", c.proc, "xid", c.xid, "args", len(rec), "reply", len(reply), "took", time.Since(t0))
		}(time.Now())
	}
	if err := procs[c.proc](r, e); err != nil {
		if errors.Is(err, errGarbage) {
			return accepted(c.xid, acceptGarbageArgs)
		}
		s.log().Error("nfs: call failed", "prog", c.prog, "proc", c.proc, "err", err)
		return accepted(c.xid, acceptSystemErr)
	}
	return e.b
}

// errReadOnly is returned by every change on a --read-only server.
var errReadOnly = errors.New("nfsroot: export is read-only")

// status maps an error to its nfsstat3.
func status(err error) nfs.NFSStatus {
	var errno unix.Errno
	switch {
	case err == nil:
		return nfs.NFSStatusOk
	case errors.Is(err, ErrStale):
		return nfs.NFSStatusStale
	case errors.Is(err, ErrBadHandle):
		return nfs.NFSStatusBadHandle
	case errors.Is(err, ErrNameLong):
		return nfs.NFSStatusNameTooLong
	case errors.Is(err, ErrBadName):
		return nfs.NFSStatusAccess
	case errors.Is(err, errReadOnly):
		return nfs.NFSStatusROFS
	case errors.As(err, &errno):
		return errnoStatus(errno)
	}
	return nfs.NFSStatusIO
}

func errnoStatus(e unix.Errno) nfs.NFSStatus {
	switch e {
	case unix.EPERM:
		return nfs.NFSStatusPerm
	case unix.ENOENT:
		return nfs.NFSStatusNoEnt
	case unix.EACCES:
		return nfs.NFSStatusAccess
	case unix.EEXIST:
		return nfs.NFSStatusExist
	case unix.EXDEV:
		return nfs.NFSStatusXDev
	case unix.ENODEV:
		return nfs.NFSStatusNoDev
	case unix.ENOTDIR:
		return nfs.NFSStatusNotDir
	case unix.EISDIR:
		return nfs.NFSStatusIsDir
	case unix.EINVAL:
		return nfs.NFSStatusInval
	case unix.EFBIG:
		return nfs.NFSStatusFBig
	case unix.ENOSPC:
		return nfs.NFSStatusNoSPC
	case unix.EROFS:
		return nfs.NFSStatusROFS
	case unix.EMLINK:
		return nfs.NFSStatusMlink
	case unix.ENAMETOOLONG:
		return nfs.NFSStatusNameTooLong
	case unix.ENOTEMPTY:
		return nfs.NFSStatusNotEmpty
	case unix.EDQUOT:
		return nfs.NFSStatusDQuot
	case unix.ELOOP:
		return nfs.NFSStatusStale
	}
	return nfs.NFSStatusIO
}
