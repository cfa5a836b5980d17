package main

import (
	"fmt"
	"net/netip"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
)

// labFlags are the network flags of bootargs, flash-env and up.
func labFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "server-ip", Usage: "host `IP` the board reaches TFTP and NFS on (default: the profile's)"},
		&cli.StringFlag{Name: "board-ip", Usage: "board's `IP` (default: the profile's)"},
		&cli.StringFlag{Name: "gateway", Usage: "gateway `IP` (default: the profile's)"},
		&cli.StringFlag{Name: "netmask", Usage: "netmask, e.g. `255.255.255.0` (default: the profile's)"},
		&cli.StringFlag{Name: "rootfs", Usage: "root filesystem `DIR` the board mounts (default: the board's build output)"},
		rootFlag,
	}
}

// netboot reads the network flags over the profile's defaults.
func netboot(c *cli.Context, p *boards.Profile) (boards.Netboot, error) {
	var l boards.Netboot
	for _, f := range []struct {
		flag string
		dst  *netip.Addr
	}{{"server-ip", &l.ServerIP}, {"board-ip", &l.BoardIP}, {"gateway", &l.Gateway}, {"netmask", &l.Netmask}} {
		if s := c.String(f.flag); s != "" {
			ip, err := netip.ParseAddr(s)
			if err != nil || !ip.Is4() {
				return l, usagef(c.Command.FullName(), "--%s %q is not an IPv4 address", f.flag, s)
			}
			*f.dst = ip
		}
	}
	rootfs := c.String("rootfs")
	if rootfs == "" {
		rootfs = instanceRootfs(c, p)
	}
	abs, err := filepath.Abs(rootfs)
	if err != nil {
		return l, fmt.Errorf("--rootfs %s: %w", rootfs, err)
	}
	l.Export = abs
	if l.Root, err = rootMode(c, p); err != nil {
		return l, err
	}
	l, err = p.Netboot(l)
	if err != nil {
		return l, usagef(c.Command.FullName(), "%v", err)
	}
	return l, nil
}
