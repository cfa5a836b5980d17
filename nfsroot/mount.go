package nfsroot

import (
	"net"
	"path"
	"strings"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"
)

// exportPaths are the paths MNT accepts: "/" and the export's own host
// path, so both nfsroot=SERVER:/ and nfsroot=SERVER:/abs/rootfs work.
func (s *Server) exportPaths() []string {
	return []string{"/", s.Export.Dir()}
}

// mountMnt is MOUNTPROC3_MNT (RFC 1813 Appendix I, section 5.2.1): it gives a client the export's root handle.
func mountMnt(r *request, e *encoder) error {
	dir := r.args.String(nfs.MntPathLen)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	clean := path.Clean("/" + dir)
	var h []byte
	err := ErrBadName
	if !strings.Contains(dir, "\x00") {
		h, err = r.x.mountHandle(clean)
	}
	if err != nil {
		r.s.log().Warn("nfs: MOUNT of a path not exported", "client", r.addr.String(), "path", dir, "exports", r.s.exportPaths(), "err", err)
		e.Uint32(uint32(nfs.MountStatusErrNoEnt))
		return nil
	}
	r.s.mu.Lock()
	r.s.mounts[mountEntry{host: hostOf(r.addr), dir: clean}] = struct{}{}
	r.s.mu.Unlock()
	r.s.log().Info("nfs: mounted", "client", r.addr.String(), "path", clean)
	e.Uint32(uint32(nfs.MountStatusOk))
	e.Opaque(h)
	e.Uint32(2) // auth flavors
	e.Uint32(authUnix)
	e.Uint32(authNone)
	return nil
}

func hostOf(a net.Addr) string {
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// mountDump is MOUNTPROC3_DUMP (RFC 1813 Appendix I, section 5.2.2): it lists the mounts.
func mountDump(r *request, e *encoder) error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	for m := range r.s.mounts {
		e.Bool(true)
		e.String(m.host)
		e.String(m.dir)
	}
	e.Bool(false)
	return nil
}

// mountUmnt is MOUNTPROC3_UMNT (RFC 1813 Appendix I, section 5.2.3): it forgets one mount.
func mountUmnt(r *request, e *encoder) error {
	dir := r.args.String(nfs.MntPathLen)
	if r.args.Err() != nil {
		return r.args.Err()
	}
	r.s.mu.Lock()
	delete(r.s.mounts, mountEntry{host: hostOf(r.addr), dir: path.Clean("/" + dir)})
	r.s.mu.Unlock()
	return nil
}

// mountUmntAll is MOUNTPROC3_UMNTALL (RFC 1813 Appendix I, section 5.2.4): it forgets a client's mounts.
func mountUmntAll(r *request, e *encoder) error {
	host := hostOf(r.addr)
	r.s.mu.Lock()
	for m := range r.s.mounts {
		if m.host == host {
			delete(r.s.mounts, m)
		}
	}
	r.s.mu.Unlock()
	return nil
}

// mountExport is MOUNTPROC3_EXPORT (RFC 1813 Appendix I, section 5.2.5): it lists the export and who may mount it.
func mountExport(r *request, e *encoder) error {
	var groups []string
	for _, p := range r.s.Allow {
		groups = append(groups, p.String())
	}
	for _, dir := range r.s.exportPaths() {
		e.Bool(true)
		e.String(dir)
		for _, g := range groups {
			e.Bool(true)
			e.String(g)
		}
		e.Bool(false)
	}
	e.Bool(false)
	return nil
}

// mountHandle resolves a MNT path: "/" or the export's host path, or a
// directory below either (as NFS servers allow), walked one component at
// a time inside the export without following symlinks.
func (x *Export) mountHandle(p string) ([]byte, error) {
	rel, ok := strings.CutPrefix(p, x.dir)
	if !ok || (rel != "" && rel[0] != '/') {
		rel = p
	}
	n := &node{key: x.rootKey, btime: x.rootBt}
	for _, c := range strings.Split(rel, "/") {
		if c == "" {
			continue
		}
		dir, dst, err := x.openDir(n)
		if err != nil {
			return nil, err
		}
		cn, cst, err := x.lookup(n, dir, &dst, c)
		dir.Close()
		if err != nil {
			return nil, err
		}
		if cst.Mode&unix.S_IFMT != unix.S_IFDIR {
			return nil, unix.ENOTDIR
		}
		n = cn
	}
	return x.handle(n), nil
}
