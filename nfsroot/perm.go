package nfsroot

import (
	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"
)

// The permission model is the Linux kernel's as knfsd applies it
// (generic_permission, may_create, may_delete, setattr_prepare,
// setattr_copy, file_remove_privs, mode_strip_sgid), checked against the
// board's view of a file (attr: the overlay, or the host with
// --real-ownership) for the caller's AUTH_UNIX credentials. uid 0 has
// every power (no_root_squash, which an NFS root needs) unless the
// server squashes it; AUTH_NONE is the anonymous user.

// anonID is the uid and gid of AUTH_NONE callers and of squashed root
// (knfsd's default anonuid and anongid).
const anonID = 65534

// Permission bits asked of generic_permission.
const (
	permRead  = 4
	permWrite = 2
	permExec  = 1
)

// user is the caller as the procedures see it: AUTH_NONE and, with
// RootSquash, uid 0 (and group 0) become the anonymous user.
func (r *request) user() cred {
	c := r.cred
	if c.flavor != authUnix {
		return cred{flavor: c.flavor, uid: anonID, gid: anonID}
	}
	if !r.s.RootSquash || c.uid != 0 && c.gid != 0 && !containsGID(c.gids, 0) {
		return c
	}
	if c.uid == 0 {
		c.uid = anonID
	}
	if c.gid == 0 {
		c.gid = anonID
	}
	if containsGID(c.gids, 0) {
		gids := make([]uint32, len(c.gids))
		for i, g := range c.gids {
			if g == 0 {
				g = anonID
			}
			gids[i] = g
		}
		c.gids = gids
	}
	return c
}

func (c cred) root() bool { return c.uid == 0 }

// inGroup is in_group_p: gid is the caller's group or one of its
// supplementary groups.
func (c cred) inGroup(gid uint32) bool { return c.gid == gid || containsGID(c.gids, gid) }

// owns is inode_owner_or_capable.
func (c cred) owns(a *attr) bool { return c.root() || c.uid == a.uid }

func containsGID(gids []uint32, g uint32) bool {
	for _, x := range gids {
		if x == g {
			return true
		}
	}
	return false
}

// rwx is the class of a's mode bits that applies to c: owner, group or
// other (root: all, but execute only where someone may execute).
func (c cred) rwx(a *attr) uint32 {
	switch {
	case c.root():
		if a.typ != nfs.FileTypeDirectory && a.mode&0o111 == 0 {
			return permRead | permWrite
		}
		return permRead | permWrite | permExec
	case c.uid == a.uid:
		return a.mode >> 6 & 7
	case c.inGroup(a.gid):
		return a.mode >> 3 & 7
	}
	return a.mode & 7
}

// may is generic_permission: EACCES unless c has every bit of want on a.
func (c cred) may(a *attr, want uint32) error {
	if c.rwx(a)&want != want {
		return unix.EACCES
	}
	return nil
}

// mayRead is knfsd's READ check: read permission, or ownership
// (NFSD_MAY_OWNER_OVERRIDE: a client that opened a file may read it
// after fchmod 0), or execute permission on a regular file (the board
// reads the programs it runs).
func (c cred) mayRead(a *attr) error {
	if c.uid == a.uid || c.may(a, permRead) == nil {
		return nil
	}
	if a.typ == nfs.FileTypeRegular {
		return c.may(a, permExec)
	}
	return unix.EACCES
}

// mayWrite is knfsd's WRITE, COMMIT and truncate check: write permission
// or ownership (NFSD_MAY_OWNER_OVERRIDE).
func (c cred) mayWrite(a *attr) error {
	if c.uid == a.uid {
		return nil
	}
	return c.may(a, permWrite)
}

// mayCreate is may_create: write and search permission on the directory.
func (c cred) mayCreate(dir *attr) error { return c.may(dir, permWrite|permExec) }

// mayDelete is may_delete: write and search on the directory and, in a
// sticky directory, ownership of the entry or of the directory.
func (c cred) mayDelete(dir, victim *attr) error {
	if err := c.mayCreate(dir); err != nil {
		return err
	}
	if dir.mode&unix.S_ISVTX != 0 && !c.root() && c.uid != victim.uid && c.uid != dir.uid {
		return unix.EPERM
	}
	return nil
}

// setattrMode is the permission mode the board's file a has after sa,
// with the kernel's clearing of setuid and setgid applied; err is the
// kernel's answer (setattr_prepare) when c may not make the change.
func (c cred) setattrMode(a *attr, sa sattr) (mode uint32, err error) {
	if sa.setSize {
		if err := c.mayWrite(a); err != nil {
			return 0, err
		}
	}
	if sa.setUID && !c.root() && (c.uid != a.uid || sa.uid != a.uid) {
		return 0, unix.EPERM // chown_ok: only the owner, to itself
	}
	gid := a.gid
	if sa.setGID {
		if !c.root() && (c.uid != a.uid || sa.gid != a.gid && !c.inGroup(sa.gid)) {
			return 0, unix.EPERM // chgrp_ok: the owner, to a group it is in
		}
		gid = sa.gid
	}
	if sa.setMode && !c.owns(a) {
		return 0, unix.EPERM
	}
	if (sa.atime == timeClient || sa.mtime == timeClient) && !c.owns(a) {
		return 0, unix.EPERM
	}
	if (sa.atime == timeServer || sa.mtime == timeServer) && !c.owns(a) {
		if err := c.may(a, permWrite); err != nil {
			return 0, err
		}
	}
	mode = a.mode
	if sa.setMode {
		mode = sa.mode & 0o7777
	}
	if (sa.setUID || sa.setGID) && a.typ != nfs.FileTypeDirectory {
		mode = c.chownClears(a, mode, sa.setMode)
	}
	if sa.setMode && !c.root() && !c.inGroup(gid) {
		mode &^= unix.S_ISGID // setattr_copy
	}
	return mode, nil
}

// chownClears is nfsd_sanitize_attrs: a chown of a non-directory
// revokes setuid, and setgid where it means set-group-ID
// (group-executable) or, when the chown sets no mode, where the caller
// could not have set it.
func (c cred) chownClears(a *attr, mode uint32, setMode bool) uint32 {
	mode &^= unix.S_ISUID
	if mode&unix.S_IXGRP != 0 || !setMode && !c.root() && !c.inGroup(a.gid) {
		mode &^= unix.S_ISGID
	}
	return mode
}

// afterWrite is the mode of a regular file a after c wrote to or
// truncated it (file_remove_privs): a caller without CAP_FSETID (not
// root) clears setuid, and setgid where it means set-group-ID or the
// caller is not in the file's group. changed reports a difference.
func (c cred) afterWrite(a *attr) (mode uint32, changed bool) {
	mode = a.mode
	if c.root() || a.typ != nfs.FileTypeRegular {
		return mode, false
	}
	mode &^= unix.S_ISUID
	if mode&unix.S_IXGRP != 0 || !c.inGroup(a.gid) {
		mode &^= unix.S_ISGID
	}
	return mode, mode != a.mode
}

// newOwner is the owner, group and mode of an object c creates in the
// directory dir with the client's attributes sa (defMode when sa has
// none): inode_init_owner, mode_strip_sgid, and knfsd's rule that only
// root may choose a new object's owner.
func (c cred) newOwner(dir *attr, sa sattr, defMode uint32, isDir bool) (uid, gid, mode uint32) {
	uid, gid = c.uid, c.gid
	if dir.mode&unix.S_ISGID != 0 {
		gid = dir.gid
	}
	if c.root() && sa.setUID {
		uid = sa.uid
	}
	if c.root() && sa.setGID {
		gid = sa.gid
	}
	mode = defMode
	if sa.setMode {
		mode = sa.mode & 0o7777
	}
	switch {
	case isDir && dir.mode&unix.S_ISGID != 0:
		mode |= unix.S_ISGID
	case !isDir && mode&(unix.S_ISGID|unix.S_IXGRP) == unix.S_ISGID|unix.S_IXGRP &&
		dir.mode&unix.S_ISGID != 0 && !c.root() && !c.inGroup(dir.gid):
		mode &^= unix.S_ISGID
	}
	return uid, gid, mode
}

// access is the ACCESS answer (RFC 1813 3.3.4) for c on a, from the
// same rules the procedures apply (knfsd's nfs3_regaccess and
// nfs3_diraccess maps).
func (c cred) access(a *attr, want uint32, readOnly bool) uint32 {
	rwx := c.rwx(a)
	var got uint32
	if rwx&permRead != 0 {
		got |= accessRead
	}
	dir := a.typ == nfs.FileTypeDirectory
	switch {
	case dir && rwx&(permWrite|permExec) == permWrite|permExec:
		got |= accessModify | accessExtend | accessDelete
	case !dir && rwx&permWrite != 0:
		got |= accessModify | accessExtend
	}
	if rwx&permExec != 0 {
		if dir {
			got |= accessLookup
		} else {
			got |= accessExecute
		}
	}
	if readOnly {
		got &^= accessModify | accessExtend | accessDelete
	}
	return got & want
}
