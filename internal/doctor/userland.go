package doctor

import (
	"github.com/bootrig/bootrig/armarch"
	"github.com/bootrig/bootrig/boards"
)

// debianArmel is the level of Debian's armel toolchain and libraries
// (gcc configured --with-arch=armv5te; glibc's libc.a is v5TE).
const debianArmel = armarch.V5TE

// userlandRequirements are what checking (every board) and building
// (boards older than Debian's armel) the board's userland needs:
// qemu-arm-static runs the built busybox on the board's CPU model; a
// board below ARMv5TE gets bootrig's musl.
func userlandRequirements(p *boards.Profile) []Requirement {
	reqs := []Requirement{
		{What: "qemu-arm-static (runs the built userland on the board's CPU model)", Package: "qemu-user-static", For: Build, Present: anyCommand("qemu-arm-static")},
	}
	t, err := p.Target()
	if err != nil || debianArmel.RunsOn(t.CPU.Arch) {
		return reqs
	}
	return append(reqs, muslRequirements(Build)...)
}

// muslRequirements are what bootrig's musl sysroot is built from:
// Debian's musl source, gcc-arm-none-eabi's ARMv4T libgcc.a, and the
// kernel's headers (headers_install copies them with rsync). The test
// suite builds the mini2440's userland whatever the board.
func muslRequirements(purpose Purpose) []Requirement {
	return []Requirement{
		{What: "arm-none-eabi-gcc (its libgcc.a is ARMv4T)", Package: "gcc-arm-none-eabi", For: purpose, Present: anyCommand("arm-none-eabi-gcc")},
		{What: "musl source (apt-get source musl)", Package: "dpkg-dev", For: purpose, Present: all(anyCommand("dpkg-source"), DebSrcEnabled), Sources: true},
		{What: "rsync (kernel headers_install)", Package: "rsync", For: purpose, Present: anyCommand("rsync")},
	}
}

// needs reports whether reqs already hold a requirement met by pkg.
func needs(reqs []Requirement, pkg string) bool {
	for _, r := range reqs {
		if r.Package == pkg {
			return true
		}
	}
	return false
}
