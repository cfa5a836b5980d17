package doctor

import "github.com/bootrig/bootrig/boards"

// DebianQEMUUBoot is Debian's prebuilt U-Boot for QEMU's virt (package
// u-boot-qemu), which the qemu-arm-debian profile boots.
const DebianQEMUUBoot = "/usr/lib/u-boot/qemu_arm/u-boot.bin"

// ubootBuild is what building the profile's U-Boot (uboot.build) needs
// beyond what the kernel build does: Debian's u-boot source package, and
// of the build dependencies it lists (bc, bison, flex, libssl-dev,
// python3, swig, libgnutls28-dev, uuid-dev, device-tree-compiler, ...)
// the ones a u-boot.bin build of a 32-bit ARM board really runs: bison
// and flex for Kconfig and U-Boot's own dtc (listed for the kernel
// already), the OpenSSL headers for its host tools (also listed), and
// nothing else: U-Boot builds its own dtc, and no binman (python3,
// swig) or mkeficapsule (gnutls, uuid) runs for qemu_arm or
// vexpress_ca9x4.
func ubootBuild(p *boards.Profile) []Requirement {
	if p.UBoot.Build == nil {
		return nil
	}
	return []Requirement{{
		What: "U-Boot source (apt-get source u-boot)", Package: "dpkg-dev", For: Build,
		Present: all(anyCommand("dpkg-source"), DebSrcEnabled), Sources: true,
	}}
}

// envDisk is what the lab's disk for an environment in FAT
// (qemu.env: fat) needs: mkfs.vfat makes it, mcopy writes uboot.env into
// it while the board is off (its tests also run fsck.fat and mdir).
func envDisk(f Purpose) []Requirement {
	return []Requirement{
		{What: "mkfs.vfat (the environment's FAT disk)", Package: "dosfstools", For: f,
			Present: anyFile("/usr/sbin/mkfs.vfat", "/sbin/mkfs.vfat")},
		{What: "mcopy (uboot.env into the FAT disk)", Package: "mtools", For: f, Present: anyCommand("mcopy")},
	}
}
