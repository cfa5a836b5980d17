package crossbuild

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/boards"
)

var pinnedEnv = []string{
	"LC_ALL=C",
	"KBUILD_BUILD_TIMESTAMP=" + buildTimestamp,
	"KBUILD_BUILD_USER=bootrig",
	"KBUILD_BUILD_HOST=bootrig",
	"KBUILD_BUILD_VERSION=1",
}

func TestKernelPlanPerBoard(t *testing.T) {
	for _, tc := range []struct {
		board     string
		configure []string
		compile   []string
		image     string
		dtb       string
	}{
		{
			board:     "qemu-arm",
			configure: []string{"make", "-C", "/src", "O=/b/kernel-build", "ARCH=arm", "CROSS_COMPILE=arm-linux-gnueabi-", "-j2", "tinyconfig"},
			compile:   []string{"make", "-C", "/src", "O=/b/kernel-build", "ARCH=arm", "CROSS_COMPILE=arm-linux-gnueabi-", "-j2", "zImage"},
			image:     "/b/kernel-build/arch/arm/boot/zImage",
		},
		{
			board:     "mini2440",
			configure: []string{"make", "-C", "/src", "O=/b/kernel-build", "ARCH=arm", "CROSS_COMPILE=arm-linux-gnueabi-", "-j2", "mini2440_defconfig"},
			compile:   []string{"make", "-C", "/src", "O=/b/kernel-build", "ARCH=arm", "CROSS_COMPILE=arm-linux-gnueabi-", "-j2", "zImage"},
			image:     "/b/kernel-build/arch/arm/boot/zImage",
		},
	} {
		t.Run(tc.board, func(t *testing.T) {
			p, err := boards.Lookup(tc.board)
			if err != nil {
				t.Fatal(err)
			}
			k := kernelPlanFor(kernelInputs{
				Src: "/src", Build: "/b/kernel-build", Arch: p.Arch, CrossCompile: "arm-linux-gnueabi-", Jobs: 2,
				Defconfig: p.Kernel.Defconfig, Image: p.Kernel.Image, DTB: p.Kernel.DTB,
			})
			for _, s := range []struct {
				step step
				args []string
			}{
				{k.Configure(), tc.configure},
				{k.Resolve(), append(tc.configure[:len(tc.configure)-1:len(tc.configure)-1], "olddefconfig")},
				{k.Compile(), tc.compile},
			} {
				if !reflect.DeepEqual(s.step.Args, s.args) {
					t.Errorf("%s: args\n %q\nwant\n %q", s.step.Phase, s.step.Args, s.args)
				}
				if !reflect.DeepEqual(s.step.Env, pinnedEnv) || s.step.Dir != "/b/kernel-build" {
					t.Errorf("%s: env %q dir %q", s.step.Phase, s.step.Env, s.step.Dir)
				}
			}
			if k.ImagePath() != tc.image || k.DTBPath() != tc.dtb {
				t.Errorf("image %q dtb %q, want %q %q", k.ImagePath(), k.DTBPath(), tc.image, tc.dtb)
			}
		})
	}
}

func TestKernelPlanDTB(t *testing.T) {
	k := kernelPlanFor(kernelInputs{Src: "/s", Build: "/b", Arch: "arm", CrossCompile: "arm-linux-", Jobs: 1, Defconfig: "d", Image: "zImage", DTB: "file:vexpress-v2p-ca9.dtb"})
	want := []string{"make", "-C", "/s", "O=/b", "ARCH=arm", "CROSS_COMPILE=arm-linux-", "zImage", "vexpress-v2p-ca9.dtb"}
	if got := k.Compile().Args; !reflect.DeepEqual(got, want) {
		t.Errorf("compile %q, want %q", got, want)
	}
	if got := k.DTBPath(); got != "/b/arch/arm/boot/dts/vexpress-v2p-ca9.dtb" {
		t.Errorf("DTBPath = %q", got)
	}
}

func TestBusyboxPlan(t *testing.T) {
	b := busyboxPlanFor("/bb", "/b/busybox-build", "arm", "arm-linux-gnueabi-", 4)
	mk := []string{"make", "-C", "/bb", "O=/b/busybox-build", "ARCH=arm", "CROSS_COMPILE=arm-linux-gnueabi-", "-j4"}
	for _, tc := range []struct {
		step   step
		target []string
		answer bool
	}{
		{b.Configure(), []string{"defconfig"}, false},
		{b.Resolve(), []string{"oldconfig"}, true},
		{b.Compile(), []string{"busybox", "busybox.links"}, false},
	} {
		if want := append(append([]string{}, mk...), tc.target...); !reflect.DeepEqual(tc.step.Args, want) {
			t.Errorf("%s: %q, want %q", tc.step.Phase, tc.step.Args, want)
		}
		if tc.step.Answer != tc.answer || tc.step.Dir != "/b/busybox-build" {
			t.Errorf("%s: answer %v dir %q", tc.step.Phase, tc.step.Answer, tc.step.Dir)
		}
	}
	if b.BinaryPath() != "/b/busybox-build/busybox" || b.LinksPath() != "/b/busybox-build/busybox.links" {
		t.Errorf("paths %q %q", b.BinaryPath(), b.LinksPath())
	}
}

func TestSourceSteps(t *testing.T) {
	if got, want := unpackStep("/usr/src/linux-source-6.1.tar.xz", "/c/src/x.tmp").Args, []string{"tar", "-xf", "/usr/src/linux-source-6.1.tar.xz", "-C", "/c/src/x.tmp"}; !reflect.DeepEqual(got, want) {
		t.Errorf("unpack %q", got)
	}
	if got, want := aptSourceStep("busybox", "/c/src/busybox-apt"), (step{Phase: "apt-get source busybox", Args: []string{"apt-get", "source", "busybox"}, Dir: "/c/src/busybox-apt"}); !reflect.DeepEqual(got, want) {
		t.Errorf("apt %+v", got)
	}
	for in, want := range map[string]string{"/usr/src/linux-source-6.1.tar.xz": "linux-source-6.1", "b-1.35.tar.bz2": "b-1.35", "x.tgz": "x", "y": "y"} {
		if got := tarballStem(in); got != want {
			t.Errorf("tarballStem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"PATH=/bin", "LC_ALL=de_DE", "HOME=/root"}, []string{"LC_ALL=C", "X=1"})
	if want := []string{"PATH=/bin", "HOME=/root", "LC_ALL=C", "X=1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("mergeEnv = %q", got)
	}
}

func TestIsObjectLine(t *testing.T) {
	for line, want := range map[string]bool{
		"  CC      kernel/fork.o\n":             true,
		"  AS      arch/arm/kernel/entry-v7m.o": true,
		"  HOSTCC  scripts/kconfig/conf.o":      true,
		"  LD      vmlinux\n":                   false,
		"  CC      kernel/fork.s":               false,
		"CC kernel/fork.o":                      false,
		"  CC [M]  drivers/x.o":                 false,
	} {
		if got := isObjectLine(line); got != want {
			t.Errorf("isObjectLine(%q) = %v", strings.TrimSpace(line), got)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{"": TargetAll, "all": TargetAll, "kernel": TargetKernel, "busybox": TargetBusybox, "rootfs": TargetRootFS, "uboot": TargetUBoot, "u-boot": TargetUBoot} {
		if got, err := ParseTarget(in); err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseTarget("bootloader"); err == nil || !strings.Contains(err.Error(), "uboot") {
		t.Errorf("ParseTarget(bootloader) = %v, want an error listing the targets", err)
	}
}
