package crossbuild

import (
	"fmt"
	"time"

	"github.com/bootrig/bootrig/uboot"
)

// imageTime is the header timestamp of the uImages bootrig writes: pinned,
// so that the same payload gives the same image (SOURCE_DATE_EPOCH style).
var imageTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// kernelImage is the uImage header for a kernel loaded and entered at
// the given addresses.
func kernelImage(name string, load, entry uint32) uboot.Header {
	return uboot.Header{Name: name, Time: imageTime, Load: load, Entry: entry,
		OS: uboot.OSLinux, Arch: uboot.ArchARM, Type: uboot.TypeKernel, Comp: uboot.CompNone}
}

// ramdiskImage is the uImage header for a gzip'd initramfs for
// 'bootm KERNEL INITRD': compression none, as the kernel (not U-Boot)
// unpacks the gzip.
func ramdiskImage(name string) uboot.Header {
	return uboot.Header{Name: name, Time: imageTime,
		OS: uboot.OSLinux, Arch: uboot.ArchARM, Type: uboot.TypeRamdisk, Comp: uboot.CompNone}
}

// writeUImage wraps payload in a legacy U-Boot image at out (written
// beside it and renamed over it).
func writeUImage(h uboot.Header, payload, out string) error {
	if _, err := uboot.WriteFile(out, h, payload); err != nil {
		return fmt.Errorf("uImage %s: %w", out, err)
	}
	return nil
}
