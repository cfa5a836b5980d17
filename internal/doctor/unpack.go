package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// LAVAServer is where doctor unpacks Debian's lava-server package (not
// installed: it is a Django server with a database), and
// LAVADeviceTypes its device-type templates: LAVA's own, which the lava
// package's tests render device dictionaries with.
const (
	LAVAServer      = "/usr/local/share/bootrig/lava-server"
	LAVADeviceTypes = LAVAServer + "/usr/share/lava-server/device-types"
)

// Unpacked are the requirements in reqs met by unpacking a package's
// files (Requirement.Unpack) rather than installing it.
func Unpacked(reqs []Requirement) []Requirement {
	var out []Requirement
	for _, r := range reqs {
		if r.Unpack != "" {
			out = append(out, r)
		}
	}
	return out
}

// UnpackPlan is the argv of each command Unpack runs for package pkg
// into dir, the .deb having been downloaded as deb into the current
// directory; a pure function of its inputs.
func UnpackPlan(pkg, deb, dir string, root bool) [][]string {
	sudo := []string{}
	if !root {
		sudo = []string{"sudo"}
	}
	return [][]string{
		{"apt-get", "download", "-q", pkg},
		append(sudo, "mkdir", "-p", dir),
		append(sudo, "dpkg-deb", "-x", deb, dir),
	}
}

// Unpack downloads each requirement's package with apt-get download and
// unpacks its files into its Unpack directory, running none of its
// scripts.
func (in Installer) Unpack(ctx context.Context, reqs []Requirement) error {
	for _, r := range reqs {
		if err := in.unpack(ctx, r.Package, r.Unpack); err != nil {
			return err
		}
	}
	return nil
}

func (in Installer) unpack(ctx context.Context, pkg, dir string) error {
	tmp, err := os.MkdirTemp("", "bootrig-doctor-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	os.Chmod(tmp, 0o755) // apt's _apt user downloads into it
	plan := UnpackPlan(pkg, pkg+"_*.deb", dir, os.Geteuid() == 0)
	for i, argv := range plan {
		fmt.Fprintf(in.Out, "+ %s\n", strings.Join(argv, " "))
		if in.DryRun {
			continue
		}
		if i == len(plan)-1 {
			debs, _ := filepath.Glob(filepath.Join(tmp, pkg+"_*.deb"))
			if len(debs) != 1 {
				return fmt.Errorf("apt-get download %s: %d .deb files in %s, want 1", pkg, len(debs), tmp)
			}
			argv[len(argv)-2] = debs[0]
		}
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = tmp, in.Out, in.Out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w (run it by hand to see why)", strings.Join(argv, " "), err)
		}
	}
	return nil
}
