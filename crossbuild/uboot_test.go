package crossbuild

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/boards"
)

func TestUBootPlan(t *testing.T) {
	p := ubootPlanFor("/src/u-boot", "/c/b/u-boot-build", "arm", "arm-linux-gnueabi-", 2, "qemu_arm_defconfig")
	for _, tt := range []struct {
		step step
		want string
	}{
		{p.Configure(), "make -C /src/u-boot O=/c/b/u-boot-build ARCH=arm CROSS_COMPILE=arm-linux-gnueabi- -j2 qemu_arm_defconfig"},
		{p.Resolve(), "make -C /src/u-boot O=/c/b/u-boot-build ARCH=arm CROSS_COMPILE=arm-linux-gnueabi- -j2 olddefconfig"},
		{p.Compile(), "make -C /src/u-boot O=/c/b/u-boot-build ARCH=arm CROSS_COMPILE=arm-linux-gnueabi- -j2 u-boot.bin"},
	} {
		if got := strings.Join(tt.step.Args, " "); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.step.Phase, got, tt.want)
		}
		if !strings.Contains(strings.Join(tt.step.Env, " "), "SOURCE_DATE_EPOCH=1767225600") || tt.step.Dir != p.Build {
			t.Errorf("%s: env %q dir %s: want SOURCE_DATE_EPOCH pinned, run in the build dir", tt.step.Phase, tt.step.Env, tt.step.Dir)
		}
	}
	if p.Compile().Objects == 0 || p.ImagePath() != "/c/b/u-boot-build/u-boot.bin" {
		t.Errorf("compile objects %d, image %s", p.Compile().Objects, p.ImagePath())
	}
}

// checkUBoot: the built U-Boot is the raw image with the pinned build
// date in its version banner.
func checkUBoot(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("U-Boot 2023.01")) || !bytes.Contains(b, []byte("(Jan 01 2026 - 00:00:00 +0000)")) {
		t.Errorf("%s: no 'U-Boot 2023.01 (Jan 01 2026 - 00:00:00 +0000)' banner: build date not pinned?", path)
	}
}

// TestUBootFragmentMustStick: a U-Boot fragment value that olddefconfig
// drops (hush off while DISTRO_DEFAULTS selects it) fails the build with
// ErrFragment naming the symbol, before anything is compiled.
func TestUBootFragmentMustStick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs U-Boot's defconfig")
	}
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	bad := *p
	b := *p.UBoot.Build
	b.Fragment += "# CONFIG_HUSH_PARSER is not set\n"
	bad.UBoot.Build, bad.UBoot.Hush, bad.Name = &b, false, "qemu-arm-badfragment"
	var progress bytes.Buffer
	_, err = Build(testContext(t), Config{Board: &bad, Target: TargetUBoot, Cache: DefaultCache(), Out: t.TempDir(), Progress: &progress})
	if !errors.Is(err, ErrFragment) || !strings.Contains(err.Error(), "CONFIG_HUSH_PARSER") {
		t.Fatalf("build = %v, want ErrFragment naming CONFIG_HUSH_PARSER\n%s", err, progress.String())
	}
	if strings.Contains(progress.String(), "u-boot: compile") {
		t.Errorf("compiled despite the fragment:\n%s", progress.String())
	}
	os.RemoveAll(boardDir(DefaultCache(), bad.Name))
}
