package crossbuild

import (
	"path/filepath"
	"strconv"
	"strings"
)

// step is one external command of a build: what to run, where, with
// which additions to the environment. Plans are built by pure functions
// and run by [runner] with exec, never through a shell.
type step struct {
	Phase string   // what the user sees: "kernel: configure"
	Args  []string // argv; Args[0] is looked up on PATH
	Env   []string // KEY=VALUE added to (and overriding) the inherited environment
	Dir   string
	// Answer feeds oldconfig: when true, stdin is an endless stream of
	// newlines, so every new question takes its default.
	Answer bool
	// Objects is the progress bar's expected count of compiled objects
	// for this step; 0 for no bar.
	Objects int
}

// Pinned build metadata: two builds of the same inputs give the same image.
const (
	buildTimestamp = "Thu Jan  1 00:00:00 UTC 2026"
	buildUser      = "bootrig"
	buildHost      = "bootrig"
	buildVersion   = "1" // the "#1" in uname -v, else it counts links
)

// kbuild is how make is invoked for an out-of-tree kbuild tree (the kernel
// or busybox): make -C Src O=Build ARCH=... CROSS_COMPILE=... TARGETS.
type kbuild struct {
	Src, Build   string // absolute paths
	Arch         string // "arm"
	CrossCompile string // "arm-linux-gnueabi-"
	CC           string // CC=: a compiler with flags; "" for CROSS_COMPILE's gcc
	Jobs         int    // -j; 0 or 1 for none
}

// Step is make with targets, run in the build directory.
func (m kbuild) Step(phase string, targets ...string) step {
	args := []string{"make", "-C", m.Src, "O=" + m.Build, "ARCH=" + m.Arch, "CROSS_COMPILE=" + m.CrossCompile}
	if m.CC != "" {
		args = append(args, "CC="+m.CC)
	}
	if m.Jobs > 1 {
		args = append(args, "-j"+strconv.Itoa(m.Jobs))
	}
	return step{
		Phase: phase,
		Args:  append(args, targets...),
		Env: []string{
			"LC_ALL=C",
			"KBUILD_BUILD_TIMESTAMP=" + buildTimestamp,
			"KBUILD_BUILD_USER=" + buildUser,
			"KBUILD_BUILD_HOST=" + buildHost,
			"KBUILD_BUILD_VERSION=" + buildVersion,
		},
		Dir: m.Build,
	}
}

// kernelPlan is the kernel's part of a build.
type kernelPlan struct {
	kbuild
	Defconfig string // "tinyconfig", "mini2440_defconfig"
	Image     string // "zImage"
	DTB       string // "NAME.dtb" to build, or ""
}

// Configure is the defconfig step; the fragment is merged into .config
// after it (mergeConfig), then Resolve runs.
func (k kernelPlan) Configure() step { return k.kbuild.Step("kernel: "+k.Defconfig, k.Defconfig) }

// Resolve is olddefconfig over the merged .config.
func (k kernelPlan) Resolve() step { return k.kbuild.Step("kernel: olddefconfig", "olddefconfig") }

// Compile builds the image (and the DTB if the board needs one).
func (k kernelPlan) Compile() step {
	targets := []string{k.Image}
	if k.DTB != "" {
		targets = append(targets, k.DTB)
	}
	s := k.kbuild.Step("kernel: compile", targets...)
	s.Objects = 850 // qemu-arm cold: 843; later builds use the last count
	return s
}

// ImagePath is the built kernel image, e.g. BUILD/arch/arm/boot/zImage.
func (k kernelPlan) ImagePath() string {
	return filepath.Join(k.Build, "arch", k.Arch, "boot", k.Image)
}

// DTBPath is the built device tree blob, or "" when there is none.
func (k kernelPlan) DTBPath() string {
	if k.DTB == "" {
		return ""
	}
	return filepath.Join(k.Build, "arch", k.Arch, "boot", "dts", k.DTB)
}

// busyboxPlan is busybox's part of a build.
type busyboxPlan struct{ kbuild }

// Configure is defconfig; the fragment is merged after it.
func (b busyboxPlan) Configure() step { return b.kbuild.Step("busybox: defconfig", "defconfig") }

// Resolve is oldconfig with every new question answered by its default
// (busybox's kconfig has no olddefconfig).
func (b busyboxPlan) Resolve() step {
	s := b.kbuild.Step("busybox: oldconfig", "oldconfig")
	s.Answer = true
	return s
}

// Compile builds the busybox binary and its list of applet links.
func (b busyboxPlan) Compile() step {
	s := b.kbuild.Step("busybox: compile", "busybox", "busybox.links")
	s.Objects = 570 // defconfig cold: 566
	return s
}

// BinaryPath is the built busybox binary.
func (b busyboxPlan) BinaryPath() string { return filepath.Join(b.Build, "busybox") }

// LinksPath is busybox.links: one applet path per line ("/bin/ls").
func (b busyboxPlan) LinksPath() string { return filepath.Join(b.Build, "busybox.links") }

// dtbTarget is the make target for a profile's DTB field: "file:x.dtb" → "x.dtb".
func dtbTarget(dtb string) string {
	if name, ok := strings.CutPrefix(dtb, "file:"); ok {
		return name
	}
	return ""
}
