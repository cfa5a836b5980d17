package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/serialcon/terminal"
	"github.com/bootrig/bootrig/tftp"
)

// tftpFlags are serve's TFTP flags, and --allow, which the NFS server
// reads too (parseAllow).
func tftpFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tftp-root", Usage: "serve `DIR` over TFTP (default: the board's build output)"},
		&cli.IntFlag{Name: "tftp-port", Value: 69, Usage: "TFTP UDP `PORT`"},
		&cli.BoolFlag{Name: "tftp-writable", Usage: "accept TFTP uploads into the TFTP root (without it: read-only)"},
		&cli.StringSliceFlag{Name: "allow", Usage: "serve TFTP and NFS only to clients in `CIDR` (e.g. 192.168.1.0/24) " +
			"or one address (repeatable; default: TFTP serves everyone, NFS the board's address and loopback)"},
	}
}

// tftpConfig is what serve's TFTP flags say.
type tftpConfig struct {
	root     string
	port     int
	writable bool
	allow    []netip.Prefix
}

func tftpFlagValues(c *cli.Context, env *serveEnv) (tftpConfig, error) {
	cfg := tftpConfig{root: c.String("tftp-root"), port: c.Int("tftp-port"), writable: c.Bool("tftp-writable")}
	if cfg.root == "" {
		cfg.root = env.OutDir
	}
	if cfg.port < 1 || cfg.port > 65535 {
		return cfg, usagef("serve", "--tftp-port %d is not a UDP port (1-65535)", cfg.port)
	}
	allow, err := parseAllow(c.StringSlice("allow")) // serve_nfs.go
	if err != nil {
		return cfg, usagef("serve", "%v", err)
	}
	cfg.allow = allow
	return cfg, nil
}

// startTFTP starts the TFTP server from serve's flags; stop shuts it down.
func startTFTP(ctx context.Context, c *cli.Context, env *serveEnv) (stop func(context.Context) error, err error) {
	cfg, err := tftpFlagValues(c, env)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(cfg.root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("TFTP root %s is not a directory (build first, or pass --tftp-root DIR)", cfg.root)
	}
	addr := ":" + strconv.Itoa(cfg.port)
	if env.Listen.IsValid() && !env.Listen.IsUnspecified() {
		addr = netip.AddrPortFrom(env.Listen, uint16(cfg.port)).String()
	}
	conn, err := tftp.Listen(addr)
	if errors.Is(err, tftp.ErrPortPrivileged) || errors.Is(err, tftp.ErrPortInUse) {
		return nil, fmt.Errorf("%w (or pick another port with --tftp-port)", err)
	}
	if err != nil {
		return nil, err
	}
	srv := &tftp.Server{
		Root:     cfg.root,
		Writable: cfg.writable,
		Allow:    cfg.allow,
		Logger:   env.Log,
		Progress: progressWriter(c.App.ErrWriter),
	}
	done := env.serve("TFTP server", func() error { return srv.Serve(conn) })
	env.Log.Info("tftp: serving", "addr", conn.LocalAddr(), "root", cfg.root, "writable", cfg.writable, "allow", cfg.allow)
	mode := "read-only"
	if cfg.writable {
		mode = "uploads accepted"
	}
	env.served("TFTP        %-21s %s (%s)", conn.LocalAddr(), cfg.root, mode)
	return func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if serr := <-done; !errors.Is(serr, tftp.ErrServerClosed) && err == nil {
			err = serr
		}
		return err
	}, nil
}

// progressWriter is w when it is a terminal, else nil (no progress lines).
func progressWriter(w io.Writer) io.Writer {
	if terminal.Is(w) {
		return w
	}
	return nil
}
