package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/servers"
	"github.com/bootrig/bootrig/tftp"
)

// serveEnv is what serve's parts for one board share: the board, its
// build output, the logger. tftpPart and nfsPart read their own flags
// from the context.
type serveEnv struct {
	Board  *boards.Profile
	OutDir string // the board's build output (TFTP root, rootfs parent)
	Log    *slog.Logger
}

func serveCommand() *cli.Command {
	flags := append(boardFlags(),
		&cli.StringFlag{Name: "listen", Usage: "listen on `IP` only (default: all addresses)"},
		&cli.BoolFlag{Name: "no-tftp", Usage: "do not start the TFTP server"},
		&cli.BoolFlag{Name: "no-nfs", Usage: "do not start the NFS server"},
		&cli.StringFlag{Name: "farm", Usage: "serve every board the farm `FILE` lists (YAML: name, profile, ip, rootfs, tftp), each its own export and TFTP directory"},
		rootFlag,
	)
	flags = append(flags, tftpFlags()...)
	flags = append(flags, nfsFlags()...)
	return &cli.Command{
		Name:  "serve",
		Usage: "serve the kernel over TFTP and the root filesystem over NFS until interrupted",
		UsageText: "bootrig serve [--board NAME] [--tftp-root DIR] [--rootfs DIR] [--listen IP]\n" +
			"bootrig serve --farm FILE [--listen IP]\n\n" +
			"Example: serve a mini2440's build output to the lab LAN on 192.168.1.113:\n" +
			"   bootrig serve --board mini2440 --listen 192.168.1.113",
		Flags:  flags,
		Action: runServe,
	}
}

func runServe(c *cli.Context) error {
	if c.String("farm") != "" {
		return runServeFarm(c)
	}
	p, err := board(c)
	if err != nil {
		return err
	}
	cfg, err := serveConfig(c)
	if err != nil {
		return err
	}
	env := &serveEnv{Board: p, OutDir: outDir(p.Name), Log: cfg.Log}
	root, err := rootMode(c, p)
	if err != nil {
		return err
	}
	if !c.Bool("no-tftp") {
		if cfg.TFTP, err = tftpPart(c, env); err != nil {
			return err
		}
	}
	var seeded string
	if !c.Bool("no-nfs") && !root.InRAM() { // a RAM root needs no NFS
		if cfg.NFS, seeded, err = nfsPart(c, env); err != nil {
			return err
		}
	}
	return serveUntilStopped(c, cfg, "board "+p.Name, func(r *servers.Running) []string { return served(cfg, r, env.Log, seeded) })
}

// serveConfig is what serve's flags say for every board: where to
// listen, and the logger.
func serveConfig(c *cli.Context) (cfg servers.Config, err error) {
	cfg.Log = logger(c)
	if s := c.String("listen"); s != "" {
		if cfg.IP, err = netip.ParseAddr(s); err != nil {
			return cfg, usagef("serve", "--listen %q is not an IP address", s)
		}
	}
	if c.Bool("no-tftp") && c.Bool("no-nfs") {
		return cfg, usagef("serve", "--no-tftp and --no-nfs leave nothing to serve")
	}
	return cfg, nil
}

// serveUntilStopped starts cfg's servers, says on stdout what they serve
// (what's lines), and serves until Ctrl-C or a server stops on its own.
func serveUntilStopped(c *cli.Context, cfg servers.Config, what string, lines func(*servers.Running) []string) error {
	r, err := servers.Start(cfg)
	if err != nil {
		return serveHint(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Close(sctx); err != nil {
			cfg.Log.Warn("shutdown", "err", err)
		}
	}()
	fmt.Fprintf(c.App.Writer, "serving %s:\n", what)
	for _, l := range lines(r) {
		fmt.Fprintf(c.App.Writer, "  %s\n", l)
	}
	fmt.Fprintln(c.App.Writer, "Ctrl-C stops")
	select {
	case <-c.Context.Done():
		return nil
	case <-r.Done():
		return r.Err()
	}
}

// serveHint adds to a server that could not start the flag that helps.
func serveHint(err error) error {
	var se *servers.Error
	if !errors.As(err, &se) {
		return err
	}
	var op *net.OpError
	listen := errors.As(err, &op) && op.Op == "listen"
	switch {
	case errors.Is(err, servers.ErrNotDir) && se.Server == servers.TFTPServer:
		return fmt.Errorf("%w (build first, or pass --tftp-root DIR)", err)
	case errors.Is(err, servers.ErrNotDir):
		return fmt.Errorf("%w: build it with `bootrig rootfs` or pass --rootfs DIR", err)
	case errors.Is(err, tftp.ErrPortPrivileged) || errors.Is(err, tftp.ErrPortInUse):
		return fmt.Errorf("%w (or pick another port with --tftp-port)", err)
	case listen && se.Server == servers.NFSServer:
		return fmt.Errorf("%w (another NFS server running? try --nfs-port)", err)
	case listen && se.Server == servers.Portmapper:
		return fmt.Errorf("%w (rpcbind running? stop it, or --portmap=false / --portmap-port)", err)
	}
	return err
}

// served is what serve's stdout says each server serves, one line each
// ("TFTP  127.0.0.1:69  DIR (read-only)"); each is logged too. For a
// farm, the trees are each board's (farmLine).
func served(cfg servers.Config, r *servers.Running, log *slog.Logger, seeded string) []string {
	farm := len(cfg.Boards) > 0
	var lines []string
	if t := cfg.TFTP; t != nil {
		root := t.Root
		if farm {
			root = "each board's directory"
		}
		log.Info("tftp: serving", "addr", r.Addrs.TFTP, "root", root, "writable", t.Writable, "allow", t.Allow)
		mode := "read-only"
		if t.Writable {
			mode = "uploads accepted"
		}
		lines = append(lines, fmt.Sprintf("TFTP        %-21s %s (%s)", r.Addrs.TFTP, root, mode))
	}
	if n := cfg.NFS; n != nil {
		what := "each board's export, to that board alone"
		if !farm {
			log.Info("NFS server exporting", "rootfs", r.ExportDir(""), "tcp", r.Addrs.NFS, "allow", n.Allow, "read-only", n.ReadOnly)
			what = fmt.Sprintf("%s (%s; %s)", r.ExportDir(""), seeded, owners(n, r.ExportDir("")))
		}
		lines = append(lines, fmt.Sprintf("NFS v3      %-21s %s", r.Addrs.NFS, what))
	}
	if r.Addrs.Portmap != nil {
		nfsPort := r.Addrs.NFS.(*net.TCPAddr).Port
		log.Info("portmapper answering for NFS and MOUNT", "addr", r.Addrs.Portmap, "nfs-port", nfsPort)
		lines = append(lines, fmt.Sprintf("portmapper  %-21s NFS and MOUNT on port %d", r.Addrs.Portmap, nfsPort))
	}
	return lines
}
