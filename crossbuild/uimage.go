package crossbuild

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// mkimageEpoch pins the header timestamp so that the same payload gives
// the same uImage.
const mkimageEpoch = "1767225600" // 2026-01-01T00:00:00Z

// uImageSpec is what goes into a legacy uImage header.
type uImageSpec struct {
	Type        string // "kernel", "ramdisk"
	Comp        string // "none", "gzip"
	Load, Entry uint64
	Name        string
}

// TEMPORARY (until uboot.WriteImage lands): writeUImage runs
// /usr/bin/mkimage. Replace with the uboot package's Go writer.
func writeUImage(ctx context.Context, spec uImageSpec, payload, out string) error {
	args := []string{"mkimage", "-A", "arm", "-O", "linux", "-T", spec.Type, "-C", spec.Comp,
		"-a", fmt.Sprintf("0x%x", spec.Load), "-e", fmt.Sprintf("0x%x", spec.Entry),
		"-n", spec.Name, "-d", payload, out}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = mergeEnv(cmd.Environ(), []string{"SOURCE_DATE_EPOCH=" + mkimageEpoch})
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("uImage %s: %s: %w: %s", out, strings.Join(args, " "), err, strings.TrimSpace(string(b)))
	}
	return nil
}
