package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/farm"
	"github.com/bootrig/bootrig/servers"
)

// oneBoardFlags name one board's trees or clients: a farm file names
// each board's.
var oneBoardFlags = []string{"board", "board-file", "rootfs", "tftp-root", "devices", "allow", "root"}

// fromEnv reports whether flag f has its value from its environment
// variable (BOOTRIG_BOARD, BOOTRIG_ROOT), which a farm leaves alone.
func fromEnv(c *cli.Context, f string) bool {
	for _, fl := range c.Command.Flags {
		if ev, ok := fl.(interface{ GetEnvVars() []string }); ok && slices.Contains(fl.Names(), f) {
			for _, e := range ev.GetEnvVars() {
				if v, set := os.LookupEnv(e); set && v == c.String(f) {
					return true
				}
			}
		}
	}
	return false
}

// runServeFarm serves every board of --farm on one set of ports, each
// board its own TFTP directory and its own export, which only it mounts.
func runServeFarm(c *cli.Context) error {
	for _, f := range oneBoardFlags {
		if c.IsSet(f) && !fromEnv(c, f) {
			return usagef("serve", "--%s names one board's; with --farm the farm file names each board's", f)
		}
	}
	path := c.String("farm")
	list, err := farm.Load(path, catalog(c).Lookup)
	if err != nil {
		return err
	}
	cfg, err := serveConfig(c)
	if err != nil {
		return err
	}
	if !c.Bool("no-tftp") {
		if cfg.TFTP, err = tftpOptions(c); err != nil {
			return err
		}
	}
	if !c.Bool("no-nfs") {
		if cfg.NFS, err = nfsOptions(c); err != nil {
			return err
		}
	}
	notes := make([]string, len(list))
	for i, b := range list {
		sb := servers.Board{Name: b.Name, IP: b.IP, TFTPRoot: b.TFTP, Dir: b.RootFS, Check: verifier(c, b.Profile)}
		out := outDir(b.Profile.Name)
		if sb.TFTPRoot == "" {
			sb.TFTPRoot = out
		}
		if cfg.NFS != nil {
			built := sameDir(b.RootFS, filepath.Join(out, "rootfs"))
			if sb.Devices, notes[i], err = seedTable(b.RootFS, "", b.Profile.Linux.Console, cfg.NFS.ReadOnly, built); err != nil {
				return fmt.Errorf("farm %s:%d: board %s: %w", path, b.Line, b.Name, err)
			}
		}
		cfg.Boards = append(cfg.Boards, sb)
	}
	what := fmt.Sprintf("farm %s (%d boards)", path, len(list))
	return serveUntilStopped(c, cfg, what, func(r *servers.Running) []string {
		lines := served(cfg, r, cfg.Log, "")
		for i, b := range list {
			lines = append(lines, farmLine(cfg, r, b, cfg.Boards[i], notes[i]))
		}
		return lines
	})
}

// farmLine says what one board of the farm is served.
func farmLine(cfg servers.Config, r *servers.Running, b farm.Board, sb servers.Board, note string) string {
	who := b.IP.String()
	if b.MAC != nil {
		who += " " + b.MAC.String()
	}
	line := fmt.Sprintf("board %-10s %-15s %s:", b.Name, who, b.Profile.Name)
	if cfg.TFTP != nil {
		line += " TFTP " + sb.TFTPRoot
		if cfg.NFS != nil {
			line += ";"
		}
	}
	if cfg.NFS != nil {
		cfg.Log.Info("NFS server exporting", "board", b.Name, "rootfs", r.ExportDir(b.Name), "tcp", r.Addrs.NFS, "allow", b.IP, "read-only", cfg.NFS.ReadOnly)
		line += fmt.Sprintf(" NFS %s to %s alone (%s; %s)", r.ExportDir(b.Name), b.IP, note, owners(cfg.NFS, r.ExportDir(b.Name)))
	}
	return line
}
