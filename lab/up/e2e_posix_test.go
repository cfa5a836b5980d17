package up_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// posixCase is one system call (or a short sequence) on the board, run
// by root or, through busybox chpst, as a non-root user, in a fresh copy
// of posixSetup's tree; the line it prints is its exit status, the
// error text (strerror: the errno) and the owner and mode of a path
// after, and must read want.
type posixCase struct {
	name string
	cmd  string // as root in the tree; "as UID:GID CMD..." runs CMD as a user
	stat string // path whose "uid:gid mode" (or error) is printed after
	want string
}

// posixSetup makes the tree in the current directory, as root:
//
//	f, suid, open   1000:100 0644, 06755, 0666
//	sys/x           0:0 0755 directory, 0600 file
//	tmp/a, tmp/b    sticky 01777 directory; 1000:100 and 1001:101 files
//	sgid            0:300 02777
//	pub/rootdir{,2} 0777 directory with root's 0755 directories
//	home            1000:100 0755
//	private/p       1001:101 0700 directory
//	noread          1000:100 0311
const posixSetup = `umask 022
touch f suid open && chown 1000:100 f suid open && chmod 0644 f && chmod 06755 suid && chmod 0666 open
mkdir sys && touch sys/x && chmod 0600 sys/x
mkdir tmp && chmod 1777 tmp && touch tmp/a tmp/b && chown 1000:100 tmp/a && chown 1001:101 tmp/b
mkdir sgid && chown 0:300 sgid && chmod 2777 sgid
mkdir pub pub/rootdir pub/rootdir2 && chmod 0777 pub
mkdir home && chown 1000:100 home
mkdir private && touch private/p && chown -R 1001:101 private && chmod 0700 private
mkdir noread && chown 1000:100 noread && chmod 0311 noread
chmod 0777 .
`

const (
	eperm  = "Operation not permitted"
	eacces = "Permission denied"
	enoent = "No such file or directory"
)

func ok(stat string) string           { return "rc=0 " + stat }
func fails(errno, stat string) string { return "rc=1 " + errno + " " + stat }

// moved checks that a stat field (%Z ctime, %Y mtime) of path changes
// over cmd, a second later.
func moved(field, path, cmd string) string {
	return fmt.Sprintf(`a=$(stat -c %s %s); sleep 1; %s; [ "$(stat -c %s %s)" != "$a" ]`, field, path, cmd, field, path)
}

var posixCases = []posixCase{
	// SETATTR: only the owner (or root) changes mode and explicit times,
	// only root the owner, the owner the group to one of its groups.
	{"chmod by a non-owner", "as 1001:101 chmod 0777 f", "f", fails(eperm, "1000:100 644")},
	{"chmod by the owner", "as 1000:100 chmod 0600 f", "f", ok("1000:100 600")},
	{"chown by the owner to another uid", "as 1000:100 chown 1001 f", "f", fails(eperm, "1000:100 644")},
	{"chown by a non-owner to itself", "as 1001:101 chown 1001 f", "f", fails(eperm, "1000:100 644")},
	{"chgrp by the owner to a group it is not in", "as 1000:100 chgrp 300 f", "f", fails(eperm, "1000:100 644")},
	{"chgrp by a non-owner", "as 1001:101 chgrp 101 f", "f", fails(eperm, "1000:100 644")},
	{"chown by root", "chown 1001:101 f", "f", ok("1001:101 644")},
	{"explicit times by a non-owner who may write", "as 1001:101 touch -d '2001-01-01 00:00:00' open", "open", fails(eperm, "1000:100 666")},
	{"times to now by a non-owner who may write", "as 1001:101 touch open", "open", ok("1000:100 666")},
	{"times to now by a non-owner who may not write", "as 1001:101 touch f", "f", fails(eacces, "1000:100 644")},
	{"explicit times by the owner", "as 1000:100 touch -d '2001-01-01 00:00:00' f", "f", ok("1000:100 644")},
	{"truncate by a non-owner who may not write", "as 1001:101 truncate -s 0 f", "f", fails(eacces, "1000:100 644")},

	// setuid and setgid clearing.
	{"chown by root clears setuid and setgid", "chown 1001:101 suid", "suid", ok("1001:101 755")},
	{"chgrp by the owner clears setuid and setgid", "as 1000:100 chgrp 100 suid", "suid", ok("1000:100 755")},
	{"chmod g+s by an owner not in the group drops setgid",
		"as 1001:101 touch tmp/mine && chgrp 300 tmp/mine && as 1001:101 chmod 2755 tmp/mine", "tmp/mine", ok("1001:300 755")},
	{"write by a non-owner clears setuid and setgid", "chmod 06777 suid && as 1001:101 sh -c 'echo x >> suid'", "suid", ok("1000:100 777")},
	{"write by root keeps setuid and setgid", "echo x >> suid", "suid", ok("1000:100 6755")},
	// (To a new size: the board's NFS client sends no SETATTR for the
	// size a file already has, where tmpfs clears the bits anyway.)
	{"truncate by the owner clears setuid and setgid", "as 1000:100 truncate -s 1 suid", "suid", ok("1000:100 755")},

	// The directory: write and search for every change of entries, the
	// sticky bit, a directory's own write permission to change its "..".
	{"create in root's directory", "as 1000:100 touch sys/new", "sys/new", fails(eacces, enoent)},
	{"mkdir in root's directory", "as 1000:100 mkdir sys/d", "sys/d", fails(eacces, enoent)},
	{"symlink in root's directory", "as 1000:100 ln -s x sys/l", "sys/l", fails(eacces, enoent)},
	{"hard link into root's directory", "as 1000:100 ln f sys/f", "sys/f", fails(eacces, enoent)},
	{"mkfifo in root's directory", "as 1000:100 mkfifo sys/p", "sys/p", fails(eacces, enoent)},
	{"mknod of a device by a user", "as 1000:100 mknod home/null c 1 3", "home/null", fails(eperm, enoent)},
	{"mkfifo by a user in its directory", "as 1000:100 mkfifo -m 0640 home/fifo", "home/fifo", ok("1000:100 640")},
	{"remove in root's directory", "as 1000:100 rm -f sys/x", "sys/x", fails(eacces, "0:0 600")},
	{"remove of another's file in a sticky directory", "as 1000:100 rm -f tmp/b", "tmp/b", fails(eperm, "1001:101 644")},
	{"remove of one's own file in a sticky directory", "as 1000:100 rm -f tmp/a", "tmp/a", ok(enoent)},
	{"rename of another's file in a sticky directory", "as 1000:100 mv tmp/b tmp/c", "tmp/b", fails(eperm, "1001:101 644")},
	{"rename of another's directory to another parent", "as 1000:100 mv pub/rootdir home/moved", "pub/rootdir", fails(eacces, "0:0 755")},
	{"rmdir of root's empty directory in a world-writable one", "as 1000:100 rmdir pub/rootdir2", "pub/rootdir2", ok(enoent)},
	{"read without read permission", "as 1000:100 cat sys/x", "sys/x", fails(eacces, "0:0 600")},
	{"list without read permission", "as 1001:101 ls noread", "noread", fails(eacces, "1000:100 311")},
	{"open through a directory without search permission", "as 1000:100 cat private/p", "private", fails(eacces, "1001:101 700")},
	{"create in a setgid directory takes its group", "as 1000:100 touch sgid/f", "sgid/f", ok("1000:300 644")},
	{"mkdir in a setgid directory inherits setgid", "as 1000:100 mkdir sgid/d", "sgid/d", ok("1000:300 2755")},

	// Times: every change moves ctime; a write moves mtime.
	{"chown moves ctime", moved("%Z", "f", "chown 1001 f"), "f", ok("1001:100 644")},
	{"chgrp by the owner moves ctime", moved("%Z", "f", "as 1000:100 chgrp 100 f"), "f", ok("1000:100 644")},
	{"chmod moves ctime", moved("%Z", "f", "chmod 0640 f"), "f", ok("1000:100 640")},
	{"touch moves ctime", moved("%Z", "f", "touch -d '2001-01-01 00:00:00' f"), "f", ok("1000:100 644")},
	{"write by a non-owner moves mtime", moved("%Y", "open", "as 1001:101 sh -c 'echo x >> open'"), "open", ok("1000:100 666")},
	{"write by a non-owner moves ctime", moved("%Z", "open", "as 1001:101 sh -c 'echo x >> open'"), "open", ok("1000:100 666")},
}

// posixScript is the board's script: for each case, a fresh tree under
// $1, the case, and one line "@@N rc=... ERROR STAT".
func posixScript() string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# generated by lab/up e2e_posix_test.go\nbase=$1\n")
	b.WriteString("as() { u=$1; shift; chpst -u \"$u\" \"$@\"; }\n")
	b.WriteString("setup() {\n" + posixSetup + "}\n")
	b.WriteString("last() { case $1 in *': '*) echo \"${1##*: }\";; *) echo \"$1\";; esac; }\n")
	for i, c := range posixCases {
		fmt.Fprintf(&b, "d=$base/c%d; rm -rf $d; mkdir -p $d; cd $d && setup\n", i)
		fmt.Fprintf(&b, "o=$( (%s) 2>&1); rc=$?; [ -n \"$o\" ] && o=\"$(last \"$o\") \"\n", c.cmd)
		fmt.Fprintf(&b, "s=$(stat -c '%%u:%%g %%a' %s 2>&1); echo \"@@%d rc=$rc $o$(last \"$s\")\"; cd /\n", c.stat, i)
	}
	b.WriteString("rm -rf $base/c*\n")
	return b.String()
}

// posixResults runs the script on dir and returns each case's line.
func posixResults(t *testing.T, out string) map[int]string {
	got := map[int]string{}
	for _, line := range strings.Split(out, "\n") {
		var n int
		if _, err := fmt.Sscanf(line, "@@%d ", &n); err == nil {
			got[n] = strings.TrimSpace(strings.SplitN(line, " ", 2)[1])
		}
	}
	return got
}

// TestPOSIXAsUsers: non-root users on the board get from the NFS root
// what they get from the board's own tmpfs, and what Linux gives: each
// case's errno and the resulting owner and mode, on both.
func TestPOSIXAsUsers(t *testing.T) {
	if !inLab(t) {
		return
	}
	c := config(t)
	script := filepath.Join(c.Netboot.Export, "posix-cases.sh")
	if err := os.WriteFile(script, []byte(posixScript()), 0o755); err != nil {
		t.Fatal(err)
	}
	b := start(t, c)
	if out, code := run(t, b, "mkdir -p /mnt/nfs /mnt/tmpfs && mount -t tmpfs -o mode=0755 tmpfs /mnt/tmpfs"); code != 0 {
		t.Fatalf("mount the reference tmpfs: %d %q", code, out)
	}
	results := map[string]map[int]string{}
	for _, fs := range []string{"nfs", "tmpfs"} {
		out, code := run(t, b, "sh /posix-cases.sh /mnt/"+fs)
		if code != 0 {
			t.Errorf("%s: the script exited %d: %q", fs, code, out)
		}
		results[fs] = posixResults(t, out)
	}
	for i, pc := range posixCases {
		nfs, ref := results["nfs"][i], results["tmpfs"][i]
		if nfs != ref {
			t.Errorf("%s: NFS root %q, tmpfs %q", pc.name, nfs, ref)
		}
		if ref != pc.want {
			t.Errorf("%s: tmpfs %q, want %q", pc.name, ref, pc.want)
		}
	}
}
