package crossbuild

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
)

// UBootFile is the built U-Boot's file name in the board's output
// directory: the raw image QEMU runs as its firmware (-bios), or what a
// user writes to a real board's boot flash.
const UBootFile = "u-boot.bin"

// UBootImage is where a build puts the board's U-Boot in out.
func UBootImage(out string) string { return filepath.Join(out, UBootFile) }

// ubootSourcePackage is the Debian source package U-Boot is built from.
const ubootSourcePackage = "u-boot"

// sourceDateEpoch is buildTimestamp as U-Boot's build wants it: the
// version banner's date ("U-Boot 2023.01 (Jan 01 2026 - 00:00:00 +0000)")
// comes from SOURCE_DATE_EPOCH, so two builds of the same inputs give
// the same image.
const sourceDateEpoch = 1767225600

// ubootPlan is U-Boot's part of a build: a kbuild tree like the
// kernel's, configured from a board defconfig.
type ubootPlan struct {
	kbuild
	Defconfig string // "qemu_arm_defconfig"
}

// ubootPlanFor is the U-Boot plan for a source tree and build dir.
func ubootPlanFor(src, build, arch, crossCompile string, jobs int, defconfig string) ubootPlan {
	return ubootPlan{
		kbuild:    kbuild{Src: src, Build: build, Arch: arch, CrossCompile: crossCompile, Jobs: jobs},
		Defconfig: defconfig,
	}
}

func (u ubootPlan) step(phase string, targets ...string) step {
	s := u.kbuild.Step(phase, targets...)
	s.Env = append(s.Env, "SOURCE_DATE_EPOCH="+strconv.Itoa(sourceDateEpoch))
	return s
}

// Configure is the defconfig step; the fragment is merged after it.
func (u ubootPlan) Configure() step { return u.step("u-boot: "+u.Defconfig, u.Defconfig) }

// Resolve is olddefconfig over the merged .config.
func (u ubootPlan) Resolve() step { return u.step("u-boot: olddefconfig", "olddefconfig") }

// Compile builds u-boot.bin (U-Boot with its device tree appended).
func (u ubootPlan) Compile() step {
	s := u.step("u-boot: compile", "u-boot.bin")
	s.Objects = 470 // qemu_arm_defconfig cold: 467
	return s
}

// ImagePath is the built u-boot.bin.
func (u ubootPlan) ImagePath() string { return filepath.Join(u.Build, UBootFile) }

// uboot builds the profile's U-Boot, if it names one, from Debian's
// u-boot source (or Config.UBootSrc) and copies it to the output.
func (b builder) uboot(ctx context.Context) error {
	ub := b.c.Board.UBoot.Build
	if ub == nil {
		if b.c.Target == TargetUBoot {
			return fmt.Errorf("u-boot: profile %s has no uboot.build: it boots a U-Boot bootrig does not build", b.c.Board.Source)
		}
		return nil
	}
	var src source
	err := b.withSources(ctx, func(dir string) (err error) {
		if b.c.UBootSrc != "" {
			src, err = resolveSource(ctx, b.r, b.c.UBootSrc, dir)
		} else {
			src, err = debianSource(ctx, b.r, ubootSourcePackage, filepath.Join(dir, "u-boot-apt"))
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("u-boot source: %w", err)
	}
	plan := ubootPlanFor(src.Dir, filepath.Join(b.dir, "u-boot-build"), b.c.Board.Arch, b.res.Toolchain.Prefix, b.c.Jobs, ub.Defconfig)
	comp := component{
		name: "u-boot", build: plan.Build,
		configure: plan.Configure(), resolve: plan.Resolve(), compile: plan.Compile(),
		fragment: []byte(ub.Fragment), fragmentName: b.fragmentName("uboot.build"),
		inputs:  append([]string{src.ID}, b.toolchainID()...),
		outputs: []string{plan.ImagePath()},
	}
	compiled, err := comp.run(ctx, b.r)
	if err != nil {
		return err
	}
	if compiled {
		b.res.Compiled = append(b.res.Compiled, "u-boot")
	}
	b.res.UBoot = UBootImage(b.c.Out)
	return copyIfChanged(plan.ImagePath(), b.res.UBoot)
}
