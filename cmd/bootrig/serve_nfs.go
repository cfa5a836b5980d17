package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
	"github.com/bootrig/bootrig/devtable"
	"github.com/bootrig/bootrig/nfsroot"
	"github.com/bootrig/bootrig/servers"
)

// nfsFlags are serve's NFS and portmapper flags.
func nfsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "rootfs", Usage: "export `DIR` as the board's root filesystem (default: OUT/rootfs)"},
		&cli.IntFlag{Name: "nfs-port", Value: 2049, Usage: "NFS and MOUNT `PORT` (TCP, and UDP for MOUNT)"},
		&cli.IntFlag{Name: "portmap-port", Value: 111, Usage: "portmapper `PORT`"},
		&cli.BoolFlag{Name: "portmap", Value: true, Usage: "answer portmapper queries for NFS and MOUNT (--portmap=false: off)"},
		&cli.StringFlag{Name: "devices", Usage: "device table `FILE` (gen_init_cpio syntax) seeding /dev and ownership (default: DIR.devtable beside the rootfs, as bootrig build writes it, else a minimal /dev)"},
		&cli.BoolFlag{Name: "read-only", Usage: "export the root filesystem read-only"},
		&cli.BoolFlag{Name: "real-ownership", Usage: "serve the host's own ownership and device files (bootrig must run as root)"},
		&cli.BoolFlag{Name: "root-squash", Usage: "serve the board's root (uid 0) as the anonymous user 65534: for an export that is not the board's root filesystem"},
		&cli.BoolFlag{Name: "nfs-udp", Usage: "serve NFS over UDP too, for a kernel whose nfsroot= says udp (MOUNT is always served over UDP; forged datagrams get past --allow)"},
		&cli.BoolFlag{Name: "insecure-ports", Usage: "serve NFS calls from source ports >= 1024 (the kernel's client uses privileged ports)"},
	}
}

// nfsOptions are serve's NFS and portmapper flags that hold for every
// board served: ports and modes.
func nfsOptions(c *cli.Context) (*servers.NFS, error) {
	cfg := &servers.NFS{
		Port: c.Int("nfs-port"), PortmapPort: c.Int("portmap-port"), NoPortmap: !c.Bool("portmap"),
		ReadOnly: c.Bool("read-only"), RealOwnership: c.Bool("real-ownership"), RootSquash: c.Bool("root-squash"),
		UDP: c.Bool("nfs-udp"), InsecurePorts: c.Bool("insecure-ports"),
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"nfs-port", cfg.Port}, {"portmap-port", cfg.PortmapPort}} {
		if p.v < 1 || p.v > 65535 {
			return nil, usagef("serve", "--%s %d is not a port number (1-65535)", p.name, p.v)
		}
	}
	if cfg.RealOwnership && os.Geteuid() != 0 {
		return nil, usagef("serve", "--real-ownership needs bootrig to run as root")
	}
	return cfg, nil
}

// nfsPart is serve's NFS server and portmapper for one board, from its
// flags, and a note on what is seeded in the export.
func nfsPart(c *cli.Context, env *serveEnv) (cfg *servers.NFS, seeded string, err error) {
	if cfg, err = nfsOptions(c); err != nil {
		return nil, "", err
	}
	built := filepath.Join(env.OutDir, "rootfs")
	if cfg.Dir = c.String("rootfs"); cfg.Dir == "" {
		cfg.Dir = built
	}
	if cfg.Allow, err = parseAllow(c.StringSlice("allow")); err != nil {
		return nil, "", usagef("serve", "%v", err)
	}
	if len(cfg.Allow) == 0 {
		cfg.Allow = defaultAllow(env.Board.Network.BoardIP)
	}
	cfg.Check = verifier(c, env.Board)
	cfg.Devices, seeded, err = seedTable(cfg.Dir, c.String("devices"), env.Board.Linux.Console, cfg.ReadOnly, sameDir(cfg.Dir, built))
	return cfg, seeded, err
}

// verifier checks a tree before it is exported: nothing the board
// cannot execute is served.
func verifier(c *cli.Context, p *boards.Profile) func(string) error {
	return func(dir string) error { return crossbuild.VerifyRootFS(c.Context, dir, p, c.App.ErrWriter) }
}

// sameDir reports whether a and b name one directory path.
func sameDir(a, b string) bool {
	a, _ = filepath.Abs(a)
	b, _ = filepath.Abs(b)
	return a == b
}

// parseAllow reads --allow values: CIDR prefixes or single addresses.
func parseAllow(vals []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range vals {
		if p, err := netip.ParsePrefix(v); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil, fmt.Errorf("--allow %q is neither a CIDR prefix (10.0.0.0/24) nor an IP address", v)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// defaultAllow is the board's own address plus loopback.
func defaultAllow(board netip.Addr) []netip.Prefix {
	out := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if board.IsValid() {
		out = append(out, netip.PrefixFrom(board, board.BitLen()))
	}
	return out
}

// seedTable is what serve creates in the export: the device table
// (--devices FILE, or the one beside the rootfs), or the default one in
// a tree bootrig built. A tree the user gave without a table is left as
// it is (nil), and note says so.
func seedTable(dir, devices, console string, readOnly, built bool) (table []devtable.Entry, note string, err error) {
	table, from, err := crossbuild.FindDevTable(devices, dir, console)
	switch {
	case err != nil:
		return nil, "", err
	case readOnly:
		return nil, "read-only: nothing created in it", nil
	case from != "":
		return table, "device table " + from, nil
	case built:
		return table, "bootrig's default /dev and mount points", nil
	}
	return nil, "not bootrig's build: nothing created in it (--devices FILE seeds /dev and ownership)", nil
}

// owners is whose owners, modes and devices the export serves.
func owners(cfg *servers.NFS, dir string) string {
	if cfg.RealOwnership {
		return "the host's own owners, modes and devices"
	}
	return "the board's owners, modes and devices in " + nfsroot.DefaultStatePath(dir)
}
