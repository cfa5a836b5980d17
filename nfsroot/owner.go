package nfsroot

import (
	"os"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"
)

// setattr applies sa (SETATTR, RFC 1813 3.3.2) to n for the caller c,
// on a descriptor of n verified to be the object whose attributes the
// permission check read.
func (x *Export) setattr(n *node, sa sattr, c cred) error {
	p, err := x.openNode(n)
	if err != nil {
		return err
	}
	defer p.close()
	a := x.attrOf(&p.st)
	mode, err := c.setattrMode(&a, sa)
	if err != nil {
		return err
	}
	if sa.setSize {
		switch a.typ {
		case nfs.FileTypeDirectory:
			return unix.EISDIR
		case nfs.FileTypeRegular:
		default:
			return unix.EINVAL
		}
		if err := p.truncate(int64(sa.size)); err != nil {
			return err
		}
		if m, changed := c.afterWrite(&a); changed && !sa.setMode {
			mode = m
		}
	}
	uid, gid := a.uid, a.gid
	if sa.setUID {
		uid = sa.uid
	}
	if sa.setGID {
		gid = sa.gid
	}
	if sa.setUID || sa.setGID || sa.setMode || mode != a.mode {
		if err := x.setOwner(p, uid, gid, mode, nil); err != nil {
			return err
		}
	}
	if ts, ok := sa.times(); ok {
		return p.utimes(ts[:])
	}
	return nil
}

// times is what sa sets of atime and mtime, for utimensat; ok is false
// when it sets neither.
func (sa sattr) times() (ts [2]unix.Timespec, ok bool) {
	for i, t := range []struct {
		how uint32
		v   unix.Timespec
	}{{sa.atime, sa.atimeV}, {sa.mtime, sa.mtimeV}} {
		switch t.how {
		case timeServer:
			ts[i], ok = unix.Timespec{Nsec: unix.UTIME_NOW}, true
		case timeClient:
			ts[i], ok = t.v, true
		default:
			ts[i] = unix.Timespec{Nsec: unix.UTIME_OMIT}
		}
	}
	return ts, ok
}

// hostMode is the permission a host object gets for board mode m: the
// board's rwx bits, always readable and writable by its host owner and
// never setuid/setgid on the host.
func hostMode(m uint32, dir bool) uint32 {
	if dir {
		return m&0o777 | 0o700
	}
	return m&0o777 | 0o600
}

// setOwner makes uid, gid and mode the board's view of the object p: on
// the host with --real-ownership, else in the overlay (the host mode
// following the board's rwx bits). Either way the host ctime moves, as
// it does for every change of attributes. extra adds to the overlay
// record (device numbers, a CREATE verifier).
func (x *Export) setOwner(p *pathFd, uid, gid, mode uint32, extra func(*meta)) error {
	if x.real {
		return x.setHostOwner(p, uid, gid, mode, extra)
	}
	isDir := p.st.Mode&unix.S_IFMT == unix.S_IFDIR
	host := hostMode(mode, isDir)
	var err error
	if !p.isLink() && uint32(p.st.Mode)&0o7777 != host {
		err = p.chmod(host)
	} else {
		err = p.touchCtime()
	}
	if err != nil {
		return err
	}
	plain := uid == 0 && gid == 0 && (p.isLink() || host == mode)
	return x.putOwner(&p.st, func(m *meta) {
		m.set |= metaUID | metaGID | metaMode
		m.uid, m.gid, m.mode = uid, gid, mode
		if p.isLink() {
			m.set &^= metaMode
		}
		if extra != nil {
			extra(m)
		}
	}, plain)
}

func (x *Export) setHostOwner(p *pathFd, uid, gid, mode uint32, extra func(*meta)) error {
	changed := false
	if uid != p.st.Uid || gid != p.st.Gid {
		// Owner before mode: the kernel clears setuid on a chown.
		if err := p.chown(int(uid), int(gid)); err != nil {
			return err
		}
		if err := p.refresh(); err != nil {
			return err
		}
		changed = true
	}
	if !p.isLink() && uint32(p.st.Mode)&0o7777 != mode {
		if err := p.chmod(mode); err != nil {
			return err
		}
		changed = true
	}
	if !changed {
		if err := p.touchCtime(); err != nil {
			return err
		}
	}
	if extra != nil {
		return x.updateMeta(&p.st, extra)
	}
	return nil
}

// putOwner updates st's overlay record with fn; a record left with only
// an owner of root:root and the host's own mode (plain) is dropped: the
// host shows the board's view.
func (x *Export) putOwner(st *unix.Statx_t, fn func(*meta), plain bool) error {
	var drop bool
	err := x.updateMeta(st, func(m *meta) {
		fn(m)
		drop = plain && m.set&^(metaUID|metaGID|metaMode) == 0
	})
	if err != nil || !drop {
		return err
	}
	return x.dropMeta(keyOf(st))
}

// dropPrivs applies the clearing of setuid and setgid that a write or
// truncate by c makes (file_remove_privs) to the open file f, whose
// board attributes are a.
func (x *Export) dropPrivs(f *os.File, st *unix.Statx_t, a *attr, c cred) error {
	mode, changed := c.afterWrite(a)
	if !changed {
		return nil
	}
	if x.real {
		return eintr(func() error { return unix.Fchmod(int(f.Fd()), mode) })
	}
	if err := eintr(func() error { return unix.Fchown(int(f.Fd()), -1, -1) }); err != nil {
		return err
	}
	return x.updateMeta(st, func(m *meta) {
		m.set |= metaUID | metaGID | metaMode
		m.uid, m.gid, m.mode = a.uid, a.gid, mode
	})
}
