// Package doctor checks the host tools a board needs and installs the
// missing ones from Debian's packages.
//
// Start with [Requirements] for a board, [Check] to see what is missing
// and [Installer] to install it.
package doctor

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"github.com/bootrig/bootrig/boards"
)

// Purpose says which work a requirement is for.
type Purpose string

// The purposes, in the order doctor prints them.
const (
	Build Purpose = "build" // cross-building kernel and busybox
	Boot  Purpose = "boot"  // running the board (QEMU, U-Boot)
	Test  Purpose = "test"  // the test suite's reference tools and clients
	Bench Purpose = "bench" // the benchmarks' anchor servers
)

// Requirement is one thing the host must have.
type Requirement struct {
	What    string  // what is checked, for people: "arm-linux-gnueabi-gcc"
	Package string  // the Debian package that provides it
	For     Purpose // what it is needed for
	// Present reports whether the host has it.
	Present func() bool
	// Sources marks a requirement met by a Debian source package, which
	// needs a deb-src entry in the apt sources.
	Sources bool
	// Unpack, if set, is the directory the package's files are unpacked
	// into instead of installing it (a package whose scripts set up a
	// service the tests do not want).
	Unpack string
}

// Requirements lists what the board needs; purposes beyond Build and
// Boot are added when asked for.
func Requirements(p *boards.Profile, extra ...Purpose) []Requirement {
	crossNames := make([]string, len(p.CrossCompile))
	for i, pre := range p.CrossCompile {
		crossNames[i] = pre + "gcc"
	}
	reqs := []Requirement{
		{What: "cross gcc: " + joinOr(crossNames), Package: "gcc-arm-linux-gnueabi", For: Build, Present: anyCommand(crossNames...)},
		{What: "gcc (host)", Package: "gcc", For: Build, Present: anyCommand("gcc")},
		{What: "libc headers (host)", Package: "libc6-dev", For: Build, Present: anyFile("/usr/include/stdio.h")},
		{What: "make", Package: "make", For: Build, Present: anyCommand("make")},
		{What: "bc", Package: "bc", For: Build, Present: anyCommand("bc")},
		{What: "bison", Package: "bison", For: Build, Present: anyCommand("bison")},
		{What: "flex", Package: "flex", For: Build, Present: anyCommand("flex")},
		{What: "OpenSSL headers", Package: "libssl-dev", For: Build, Present: anyFile("/usr/include/openssl/ssl.h")},
		{What: "cpio", Package: "cpio", For: Build, Present: anyCommand("cpio")},
		{What: "xz", Package: "xz-utils", For: Build, Present: anyCommand("xz")},
		{What: "kernel source (/usr/src/linux-source-6.1.tar.xz)", Package: "linux-source-6.1", For: Build, Present: anyFile("/usr/src/linux-source-6.1.tar.xz")},
		{What: "busybox source (apt-get source busybox)", Package: "dpkg-dev", For: Build, Present: all(anyCommand("dpkg-source"), DebSrcEnabled), Sources: true},
		{What: "mkimage", Package: "u-boot-tools", For: Build, Present: anyCommand("mkimage")},
	}
	reqs = append(reqs, userlandRequirements(p)...)
	reqs = append(reqs, ubootBuild(p)...)
	if q := p.QEMU; q != nil {
		reqs = append(reqs, Requirement{What: q.Binary, Package: "qemu-system-arm", For: Boot, Present: anyCommand(q.Binary)})
		if q.BIOS != "" {
			reqs = append(reqs, Requirement{What: "U-Boot for QEMU (" + q.BIOS + ")", Package: "u-boot-qemu", For: Boot, Present: anyFile(q.BIOS)})
		}
		if q.Store() == boards.EnvFAT {
			reqs = append(reqs, envDisk(Boot)...)
		}
	}
	for _, e := range extra {
		switch e {
		case Test:
			reqs = append(reqs,
				Requirement{What: "mkenvimage", Package: "u-boot-tools", For: Test, Present: anyCommand("mkenvimage")},
				Requirement{What: "Debian's U-Boot for QEMU (" + DebianQEMUUBoot + ": the driver's tests)", Package: "u-boot-qemu", For: Test, Present: anyFile(DebianQEMUUBoot)},
				Requirement{What: "file", Package: "file", For: Test, Present: anyCommand("file")},
				Requirement{What: "curl (TFTP client)", Package: "curl", For: Test, Present: anyCommand("curl")},
				Requirement{What: "atftp (TFTP client)", Package: "atftp", For: Test, Present: anyCommand("atftp")},
				Requirement{What: "tftp (tftp-hpa client)", Package: "tftp-hpa", For: Test, Present: anyCommand("tftp")},
				Requirement{What: "nfs-ls, nfs-cat, nfs-cp (NFS client)", Package: "libnfs-utils", For: Test, Present: anyCommand("nfs-ls")},
				Requirement{What: "rpcinfo", Package: "rpcbind", For: Test, Present: anyCommand("rpcinfo")},
				Requirement{What: "ser2net", Package: "ser2net", For: Test, Present: anyCommand("ser2net")},
				Requirement{What: "ip", Package: "iproute2", For: Test, Present: anyCommand("ip")},
				Requirement{What: "junitparser (Python JUnit reader, checks bootrig's JUnit XML)", Package: "python3-junitparser", For: Test,
					Present: anyFile("/usr/lib/python3/dist-packages/junitparser/__init__.py")},
				Requirement{What: "pyserial (an independent RFC 2217 client for the shared console)", Package: "python3-serial", For: Test,
					Present: anyFile("/usr/lib/python3/dist-packages/serial/rfc2217.py")},
				Requirement{What: "labgrid (drives a bootrig board through its exported environment)", Package: "python3-labgrid", For: Test,
					Present: anyFile("/usr/lib/python3/dist-packages/labgrid/__init__.py")},
				Requirement{What: "jinja2 (renders LAVA device dictionaries)", Package: "python3-jinja2", For: Test,
					Present: anyFile("/usr/lib/python3/dist-packages/jinja2/__init__.py")},
				Requirement{What: "LAVA's device-type templates (lava-server's files in " + LAVAServer + "; not installed: a Django server with a database)",
					Package: "lava-server", For: Test, Present: anyFile(LAVADeviceTypes + "/base-uboot.jinja2"), Unpack: LAVAServer},
				Requirement{What: "chromium (headless browser, opens bootrig's reports)", Package: "chromium", For: Test, Present: anyCommand("chromium")},
				Requirement{What: "zsh (shell completion tests)", Package: "zsh", For: Test, Present: anyCommand("zsh")},
				Requirement{What: "fish (shell completion tests)", Package: "fish", For: Test, Present: anyCommand("fish")},
				Requirement{What: "man (man page tests)", Package: "man-db", For: Test, Present: anyCommand("man")},
			)
			if !needs(reqs, "gcc-arm-none-eabi") {
				reqs = append(reqs, muslRequirements(Test)...)
			}
			if !needs(reqs, "mtools") {
				reqs = append(reqs, envDisk(Test)...)
			}
		case Bench:
			reqs = append(reqs,
				Requirement{What: "in.tftpd (anchor TFTP server)", Package: "tftpd-hpa", For: Bench, Present: anyFile("/usr/sbin/in.tftpd")},
				Requirement{What: "ganesha.nfsd (anchor NFS server)", Package: "nfs-ganesha", For: Bench, Present: anyCommand("ganesha.nfsd")},
				Requirement{What: "ganesha VFS backend", Package: "nfs-ganesha-vfs", For: Bench, Present: anyGlob("/usr/lib/*/ganesha/libfsalvfs*")},
				Requirement{What: "rpcbind", Package: "rpcbind", For: Bench, Present: anyFile("/usr/sbin/rpcbind", "/sbin/rpcbind")},
				Requirement{What: "jq (bench/boot.sh reads bootrig's JSON)", Package: "jq", For: Bench, Present: anyCommand("jq")},
			)
		}
	}
	return reqs
}

// Missing returns the requirements that are not present.
func Missing(reqs []Requirement) []Requirement {
	var out []Requirement
	for _, r := range reqs {
		if !r.Present() {
			out = append(out, r)
		}
	}
	return out
}

// Packages returns the sorted, distinct packages to install for reqs
// (not those to unpack: see [Unpacked]).
func Packages(reqs []Requirement) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range reqs {
		if !seen[r.Package] && r.Unpack == "" {
			seen[r.Package] = true
			out = append(out, r.Package)
		}
	}
	sort.Strings(out)
	return out
}

func anyCommand(names ...string) func() bool {
	return func() bool {
		for _, n := range names {
			if _, err := exec.LookPath(n); err == nil {
				return true
			}
		}
		return false
	}
}

func anyFile(paths ...string) func() bool {
	return func() bool {
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				return true
			}
		}
		return false
	}
}

func anyGlob(pattern string) func() bool {
	return func() bool {
		m, _ := filepath.Glob(pattern)
		return len(m) > 0
	}
}

func all(fs ...func() bool) func() bool {
	return func() bool {
		for _, f := range fs {
			if !f() {
				return false
			}
		}
		return true
	}
}

func joinOr(s []string) string {
	out := ""
	for i, x := range s {
		switch {
		case i == 0:
		case i == len(s)-1:
			out += " or "
		default:
			out += ", "
		}
		out += x
	}
	return out
}
