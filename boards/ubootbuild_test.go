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
		t.Run(tc.name, func(t *testing.T) { wantFieldError(t, tc.yaml, tc.field, tc.want) })
	}
}

// withoutBuild is a profile with its uboot.build section cut out.
func withoutBuild(s string) string {
	i, j := strings.Index(s, "  build:\n"), strings.Index(s, "\nlinux:\n")
	return s[:i] + s[j+1:]
}

// TestEnvStoreErrors: qemu.env names where U-Boot keeps its environment,
// and so where the lab writes it; a fragment that keeps it elsewhere or
// would not load it at power-on, or a store the lab does not know, is one
// error naming the field.
func TestEnvStoreErrors(t *testing.T) {
	fat, err := shipped.ReadFile("profiles/qemu-arm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	flash, err := shipped.ReadFile("profiles/qemu-arm-oldboot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(profile []byte, old, new string) string {
		s := string(profile)
		if !strings.Contains(s, old) {
			t.Fatalf("test setup: %q not in the profile", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	for _, tc := range []struct {
		name, yaml, field, want string
	}{
		{"unknown store", edit(fat, "\n  env: fat\n", "\n  env: nand\n"), "qemu.env", `"nand": want flash or fat`},
		{"fat with a flash bank", edit(fat, "\n  env: fat\n", "\n  env: fat\n  flash_size: 64M\n"), "qemu.flash_size", "no flash bank"},
		{"flash without a bank", edit(flash, "  flash_size: 64M\n", ""), "qemu.flash_size", "missing"},
		{"negative NIC frames", edit(flash, "  flash_size: 64M\n", "  flash_size: 64M\n  nic_rx_frames: -6\n"), "qemu.nic_rx_frames", "-6: want 1 to 1000"},
		{"fat on a prebuilt U-Boot", edit([]byte(withoutBuild(string(fat))), "  env: fat", "  bios: /usr/lib/u-boot/qemu_arm/u-boot.bin\n  env: fat"), "qemu.env", "uboot.build"},
		{"fat, flash env on", edit(fat, "# CONFIG_ENV_IS_IN_FLASH is not set", "CONFIG_ENV_IS_IN_FLASH=y"), "uboot.build.fragment", "# CONFIG_ENV_IS_IN_FLASH is not set"},
		{"fat, another disk", edit(fat, `CONFIG_ENV_FAT_DEVICE_AND_PART="0:0"`, `CONFIG_ENV_FAT_DEVICE_AND_PART="0:1"`), "uboot.build.fragment", `"0:0"`},
		{"fat, another file", edit(fat, `CONFIG_ENV_FAT_FILE="uboot.env"`, `CONFIG_ENV_FAT_FILE="boot.env"`), "uboot.build.fragment", "uboot.env"},
		{"fat, not loaded at power-on", edit(fat, `CONFIG_PREBOOT="virtio scan; fdtctl=${fdtcontroladdr}; env load; setenv fdtcontroladdr ${fdtctl}"`, `CONFIG_PREBOOT=""`), "uboot.build.fragment", "env load"},
		{"fat, fdtcontroladdr lost", edit(fat, `CONFIG_PREBOOT="virtio scan; fdtctl=${fdtcontroladdr}; env load; setenv fdtcontroladdr ${fdtctl}"`, `CONFIG_PREBOOT="virtio scan; env load"`), "uboot.build.fragment", "fdtcontroladdr"},
		{"flash store, FAT fragment", edit(fat, "  env: fat\n", "  flash_size: 64M\n"), "qemu.env", "CONFIG_ENV_IS_IN_FAT=y"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantFieldError(t, tc.yaml, tc.field, tc.want) })
	}
}

// wantFieldError loads yaml as a profile file and wants it refused with
// a *FieldError on field that says want.
func wantFieldError(t *testing.T, yaml, field, want string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path)
	var fe *FieldError
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) {
		t.Fatalf("LoadFile = %v, want a *FieldError", err)
	}
	if fe.Field != field || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q (field %q), want field %q saying %q", err, fe.Field, field, want)
	}
}
