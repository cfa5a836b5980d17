package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/crossbuild"
	"github.com/bootrig/bootrig/devtable"
	"github.com/bootrig/bootrig/nfsroot"
	"github.com/bootrig/bootrig/portmap"
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

// nfsConfig is serve's NFS part, from its flags.
type nfsConfig struct {
	rootfs        string
	listen        netip.Addr
	nfsPort       int
	portmapPort   int
	portmap       bool
	devices       string
	readOnly      bool
	realOwnership bool
	rootSquash    bool
	allow         []netip.Prefix
	console       string
	nfsUDP        bool
	insecurePorts bool
}

func nfsConfigFrom(c *cli.Context, env *serveEnv) (nfsConfig, error) {
	cfg := nfsConfig{
		rootfs: c.String("rootfs"), listen: env.Listen,
		nfsPort: c.Int("nfs-port"), portmapPort: c.Int("portmap-port"), portmap: c.Bool("portmap"),
		devices: c.String("devices"), readOnly: c.Bool("read-only"), realOwnership: c.Bool("real-ownership"),
		rootSquash: c.Bool("root-squash"), nfsUDP: c.Bool("nfs-udp"), insecurePorts: c.Bool("insecure-ports"),
		console: env.Board.Linux.Console,
	}
	if cfg.rootfs == "" {
		cfg.rootfs = filepath.Join(env.OutDir, "rootfs")
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"nfs-port", cfg.nfsPort}, {"portmap-port", cfg.portmapPort}} {
		if p.v < 1 || p.v > 65535 {
			return cfg, usagef("serve", "--%s %d is not a port number (1-65535)", p.name, p.v)
		}
	}
	if cfg.realOwnership && os.Geteuid() != 0 {
		return cfg, usagef("serve", "--real-ownership needs bootrig to run as root")
	}
	allow, err := parseAllow(c.StringSlice("allow"))
	if err != nil {
		return cfg, usagef("serve", "%v", err)
	}
	if len(allow) == 0 {
		allow = defaultAllow(env.Board.Network.BoardIP)
	}
	cfg.allow = allow
	return cfg, nil
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

// deviceTable is --devices, else the table bootrig build wrote beside the
// rootfs, else (from "") the default for the board's console.
func deviceTable(cfg nfsConfig) (table []devtable.Entry, from string, err error) {
	path := cfg.devices
	if path == "" {
		beside := crossbuild.DevTablePath(cfg.rootfs)
		if _, err := os.Stat(beside); err != nil {
			return devtable.Default(cfg.console), "", nil
		}
		path = beside
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, path, fmt.Errorf("device table: %w", err)
	}
	defer f.Close()
	table, err = devtable.Parse(f, path)
	return table, path, err
}

// seedTable is what serve creates in the export: a device table's
// entries, or the default one in a tree bootrig built. A tree the user
// gave without a table is left as it is (nil), and note says so.
func seedTable(cfg nfsConfig, built bool) (table []devtable.Entry, note string, err error) {
	table, from, err := deviceTable(cfg)
	switch {
	case err != nil:
		return nil, "", err
	case cfg.readOnly:
		return nil, "read-only: nothing created in it", nil
	case from != "":
		return table, "device table " + from, nil
	case built:
		return table, "bootrig's default /dev and mount points", nil
	}
	return nil, "not bootrig's build: nothing created in it (--devices FILE seeds /dev and ownership)", nil
}

// startNFS starts the NFS server (and portmapper) from serve's flags;
// stop shuts it down.
func startNFS(ctx context.Context, c *cli.Context, env *serveEnv) (stop func(context.Context) error, err error) {
	cfg, err := nfsConfigFrom(c, env)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(cfg.rootfs); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("NFS root %s is not a directory: build it with `bootrig rootfs` or pass --rootfs DIR", cfg.rootfs)
	}
	// Nothing the board cannot execute is served.
	if err := crossbuild.VerifyRootFS(ctx, cfg.rootfs, env.Board, c.App.ErrWriter); err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(cfg.rootfs)
	built := abs == filepath.Join(env.OutDir, "rootfs")
	table, note, err := seedTable(cfg, built)
	if err != nil {
		return nil, err
	}
	x, err := nfsroot.OpenExport(cfg.rootfs, nfsroot.ExportOptions{RealOwnership: cfg.realOwnership, Log: env.Log})
	if err != nil {
		return nil, err
	}
	if len(table) > 0 {
		if err := x.Seed(table); err != nil {
			x.Close()
			return nil, err
		}
	}
	srv := &nfsroot.Server{Export: x, Allow: cfg.allow, ReadOnly: cfg.readOnly, RootSquash: cfg.rootSquash, Log: env.Log,
		NFSOverUDP: cfg.nfsUDP, InsecurePorts: cfg.insecurePorts}
	var stops []func(context.Context) error
	cleanup := func(ctx context.Context) error {
		var errs []error
		for i := len(stops) - 1; i >= 0; i-- {
			errs = append(errs, stops[i](ctx))
		}
		errs = append(errs, x.Close())
		return errors.Join(errs...)
	}
	addr := func(port int) string {
		host := ""
		if cfg.listen.IsValid() && !cfg.listen.IsUnspecified() {
			host = cfg.listen.String()
		}
		return net.JoinHostPort(host, strconv.Itoa(port))
	}
	l, err := net.Listen("tcp", addr(cfg.nfsPort))
	if err != nil {
		cleanup(ctx)
		return nil, fmt.Errorf("NFS server: listen on TCP %s: %w (another NFS server running? try --nfs-port)", addr(cfg.nfsPort), err)
	}
	pc, err := net.ListenPacket("udp", addr(cfg.nfsPort))
	if err != nil {
		l.Close()
		cleanup(ctx)
		return nil, fmt.Errorf("NFS server: listen on UDP %s: %w", addr(cfg.nfsPort), err)
	}
	env.serve("NFS server", func() error { return srv.Serve(l) })
	env.serve("NFS server (UDP)", func() error { return srv.ServePacket(pc) })
	stops = append(stops, srv.Shutdown)
	if cfg.portmap {
		pstop, err := startPortmap(cfg, addr(cfg.portmapPort), env)
		if err != nil {
			cleanup(ctx)
			return nil, err
		}
		stops = append(stops, pstop)
	}
	env.Log.Info("NFS server exporting", "rootfs", x.Dir(), "tcp", l.Addr().String(), "allow", cfg.allow, "read-only", cfg.readOnly)
	owners := "the board's owners, modes and devices in " + nfsroot.DefaultStatePath(x.Dir())
	if cfg.realOwnership {
		owners = "the host's own owners, modes and devices"
	}
	env.served("NFS v3      %-21s %s (%s; %s)", l.Addr(), x.Dir(), note, owners)
	return cleanup, nil
}

// startPortmap answers portmapper queries for NFS and MOUNT on addr.
func startPortmap(cfg nfsConfig, addr string, env *serveEnv) (func(context.Context) error, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("portmapper: listen on TCP %s: %w (rpcbind running? stop it, or --portmap=false / --portmap-port)", addr, err)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("portmapper: listen on UDP %s: %w (rpcbind running? stop it, or --portmap=false / --portmap-port)", addr, err)
	}
	srv := &portmap.Server{Mappings: portmap.NFSMappings(uint16(cfg.nfsPort), cfg.nfsUDP), Logger: env.Log}
	env.serve("portmapper", func() error { return srv.Serve(l) })
	env.serve("portmapper (UDP)", func() error { return srv.ServeUDP(pc) })
	env.Log.Info("portmapper answering for NFS and MOUNT", "addr", l.Addr().String(), "nfs-port", cfg.nfsPort)
	env.served("portmapper  %-21s NFS and MOUNT on port %d", l.Addr(), cfg.nfsPort)
	return srv.Shutdown, nil
}
