package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/lab"
)

// nameFlag selects one of the board's instances.
func nameFlag() cli.Flag {
	return &cli.StringFlag{Name: "name", Aliases: []string{"n"}, EnvVars: []string{"BOOTRIG_NAME"},
		Usage: "the instance `NAME` (default: the board's): each has its own state, logs, environment store, rootfs and lab",
		Action: func(c *cli.Context, v string) error {
			if err := lab.CheckName(v); err != nil {
				return usagef(c.Command.FullName(), "--name: %v", err)
			}
			return nil
		}}
}

// instance is the board's instance the flags name.
func instance(c *cli.Context, board string) lab.Instance {
	return lab.Instance{Board: board, Name: c.String("name")}
}

// stateRoot holds the instances' directories: $BOOTRIG_STATE, else the
// cache (~/.cache/bootrig/BOARD/state for a board's default instance).
func stateRoot() string {
	if d := os.Getenv("BOOTRIG_STATE"); d != "" {
		return d
	}
	return cacheDir()
}

// instanceRootfs is the root filesystem an instance boots unless
// --rootfs says otherwise: the build's for the board's default instance,
// a copy of its own for a named one (one NFS server serves an export).
func instanceRootfs(c *cli.Context, p *boards.Profile) string {
	if own := instance(c, p.Name).RootFS(stateRoot()); own != "" {
		return own
	}
	return filepath.Join(outDir(p.Name), "rootfs")
}

// seedRootfs gives a named instance its copy of the build's rootfs on
// its first up.
func seedRootfs(c *cli.Context, p *boards.Profile) error {
	dst := instance(c, p.Name).RootFS(stateRoot())
	if dst == "" || c.String("rootfs") != "" {
		return nil
	}
	if _, err := os.Stat(dst); err == nil || !errors.Is(err, os.ErrNotExist) {
		return err
	}
	src := filepath.Join(outDir(p.Name), "rootfs")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("instance %s: %w", c.String("name"), err)
	}
	tmp := dst + ".tmp"
	os.RemoveAll(tmp)
	if out, err := exec.CommandContext(c.Context, "cp", copyArgs(src, tmp)...).CombinedOutput(); err != nil {
		return fmt.Errorf("instance %s: copy the rootfs %s: %w: %s", c.String("name"), src, err, out)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("instance %s: %w", c.String("name"), err)
	}
	fmt.Fprintf(c.App.ErrWriter, "bootrig: instance %s boots its own copy of %s: %s\n", c.String("name"), src, dst)
	return nil
}

// copyArgs is cp's argv copying the tree src to dst as it is.
func copyArgs(src, dst string) []string {
	return []string{"-a", "--reflink=auto", "--", src, dst}
}

// boardOfName is --board; without it, the board of the one running
// instance --name names, if any (bootrig console --name v1 finds a
// vexpress-a9 instance), else the default board.
func boardOfName(c *cli.Context) string {
	name := c.String("name")
	if name == "" || c.IsSet("board") {
		return c.String("board")
	}
	sts, _ := lab.Running(stateRoot())
	var found []string
	for _, st := range sts {
		if st.Name == name && st.Board != name {
			found = append(found, st.Board)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return c.String("board")
}
