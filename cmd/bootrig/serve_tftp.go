package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/serialcon/terminal"
	"github.com/bootrig/bootrig/servers"
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

// tftpOptions are serve's TFTP flags that hold for every board served.
func tftpOptions(c *cli.Context) (*servers.TFTP, error) {
	cfg := &servers.TFTP{Port: c.Int("tftp-port"), Writable: c.Bool("tftp-writable"), Progress: progressWriter(c.App.ErrWriter)}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, usagef("serve", "--tftp-port %d is not a UDP port (1-65535)", cfg.Port)
	}
	return cfg, nil
}

// tftpPart is serve's TFTP server for one board, from its flags.
func tftpPart(c *cli.Context, env *serveEnv) (*servers.TFTP, error) {
	cfg, err := tftpOptions(c)
	if err != nil {
		return nil, err
	}
	if cfg.Root = c.String("tftp-root"); cfg.Root == "" {
		cfg.Root = env.OutDir
	}
	if cfg.Allow, err = parseAllow(c.StringSlice("allow")); err != nil { // serve_nfs.go
		return nil, usagef("serve", "%v", err)
	}
	return cfg, nil
}

// progressWriter is w when it is a terminal, else nil (no progress lines).
func progressWriter(w io.Writer) io.Writer {
	if terminal.Is(w) {
		return w
	}
	return nil
}
