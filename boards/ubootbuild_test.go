package boards

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUBootBuildErrors: a U-Boot build whose fragment contradicts the
// profile's console dialect, or an emulated board with no U-Boot or two,
// is one error naming the field.
func TestUBootBuildErrors(t *testing.T) {
	good, err := shipped.ReadFile("profiles/qemu-arm-oldboot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		s := string(good)
		if !strings.Contains(s, old) {
			t.Fatalf("test setup: %q not in qemu-arm-oldboot.yaml", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	for _, tc := range []struct {
		name, yaml, field, want string
	}{
		{"cbsize", edit("CONFIG_SYS_CBSIZE=256", "CONFIG_SYS_CBSIZE=512"), "uboot.cbsize", "CONFIG_SYS_CBSIZE=512"},
		{"hush", edit("# CONFIG_HUSH_PARSER is not set", "CONFIG_HUSH_PARSER=y"), "uboot.hush", "CONFIG_HUSH_PARSER"},
		{"prompt", edit(`CONFIG_SYS_PROMPT="MINI2440 # "`, `CONFIG_SYS_PROMPT="=> "`), "uboot.prompt", "CONFIG_SYS_PROMPT"},
		{"bootdelay", edit("CONFIG_BOOTDELAY=3", "CONFIG_BOOTDELAY=1"), "uboot.bootdelay", "CONFIG_BOOTDELAY=1"},
		{"env size", edit("CONFIG_ENV_SIZE=0x2000", "CONFIG_ENV_SIZE=0x4000"), "qemu.env_size", "CRC"},
		{"no defconfig", edit("defconfig: qemu_arm_defconfig", "defconfig: ''"), "uboot.build.defconfig", "missing"},
		{"two U-Boots", edit("  env_size: 0x2000", "  bios: /usr/lib/u-boot/qemu_arm/u-boot.bin\n  env_size: 0x2000"), "qemu.bios", "keep one"},
		{"no U-Boot", withoutBuild(string(good)), "qemu.bios", "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "broken.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadFile(path)
			var fe *FieldError
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) {
				t.Fatalf("LoadFile = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q (field %q), want field %q saying %q", err, fe.Field, tc.field, tc.want)
			}
		})
	}
}

// withoutBuild is a profile with its uboot.build section cut out.
func withoutBuild(s string) string {
	i, j := strings.Index(s, "  build:\n"), strings.Index(s, "\nlinux:\n")
	return s[:i] + s[j+1:]
}
