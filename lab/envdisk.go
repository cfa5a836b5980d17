package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/bootrig/bootrig/boards"
)

// envDiskKiB is the size of the disk holding an EnvFAT board's
// environment: room for FAT16 (4085 clusters or more) with 2 KiB
// clusters; the file is sparse, what takes space is the FAT and uboot.env.
const envDiskKiB = 32 << 10

// EnsureEnvDisk makes path the virtio disk of a board whose U-Boot keeps
// its environment in FAT ([boards.EnvFAT]): a missing disk becomes an
// empty FAT file system (mkfs.vfat), with no uboot.env, so U-Boot starts
// from its default environment; an existing one is kept, with what U-Boot
// saved in it.
func EnsureEnvDisk(ctx context.Context, path string) error {
	_, err := os.Stat(path)
	if err == nil {
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("environment disk %s: %w", path, err)
	}
	// Made beside it and renamed into place: a disk is whole or absent.
	f, err := os.CreateTemp(filepath.Dir(path), ".envdisk-*")
	if err != nil {
		return fmt.Errorf("environment disk %s: %w", path, err)
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	os.Remove(tmp) // mkfs.vfat -C creates the file itself
	if err := runTool(ctx, sbin("mkfs.vfat"), mkfsArgs(tmp)); err != nil {
		return fmt.Errorf("environment disk %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("environment disk %s: %w", path, err)
	}
	return nil
}

// WriteEnvDisk writes img, a U-Boot environment image, as uboot.env into
// the FAT file system of the disk at path (made first if missing), as
// U-Boot's saveenv would. Only do it while the board is off.
func WriteEnvDisk(ctx context.Context, path string, img []byte) error {
	if err := EnsureEnvDisk(ctx, path); err != nil {
		return err
	}
	src, err := os.CreateTemp(filepath.Dir(path), ".uboot-env-*")
	if err != nil {
		return fmt.Errorf("environment disk %s: %w", path, err)
	}
	defer os.Remove(src.Name())
	_, err = src.Write(img)
	if cerr := src.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = runTool(ctx, "mcopy", mcopyArgs(path, src.Name()))
	}
	if err != nil {
		return fmt.Errorf("environment disk %s: %w", path, err)
	}
	return nil
}

// mkfsArgs is mkfs.vfat's argv (after the name) creating the disk file.
func mkfsArgs(path string) []string {
	return []string{"-C", "-F", "16", "-n", "BOOTRIG", path, strconv.Itoa(envDiskKiB)}
}

// mcopyArgs is mcopy's argv (after the name) copying src into the disk
// image as the environment's file, replacing it.
func mcopyArgs(disk, src string) []string {
	return []string{"-o", "-i", disk, src, "::" + boards.EnvFATFile}
}

// sbin is the path of a system tool that may not be in a user's PATH
// (Debian puts mkfs.vfat in /usr/sbin): PATH's, else /usr/sbin's or
// /sbin's, else the name (the error then says it is not found).
func sbin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return name
}

// runTool runs a host tool, its output in the error if it fails.
func runTool(ctx context.Context, name string, args []string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%s: %w (bootrig doctor --install: dosfstools, mtools)", name, err)
		}
		return fmt.Errorf("%s %v: %w: %s", name, args, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
