package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
)

// boardFlags select a board: --board NAME or --board-file PATH.
func boardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "board", Aliases: []string{"b"}, Value: boards.Default, EnvVars: []string{"BOOTRIG_BOARD"},
			Usage: "board profile `NAME` (see 'bootrig boards list')"},
		&cli.StringFlag{Name: "board-file", Usage: "load the board profile from `PATH` instead"},
	}
}

// board resolves the board the flags name. An unknown board is a usage
// error; a broken profile file is a failure.
func board(c *cli.Context) (*boards.Profile, error) {
	if f := c.String("board-file"); f != "" {
		return boards.LoadFile(f)
	}
	p, err := catalog(c).Lookup(boardOfName(c))
	if errors.Is(err, boards.ErrUnknownBoard) {
		return nil, usagef(c.Command.FullName(), "--board: %v", err)
	}
	return p, err
}

// catalog is the shipped and user board profiles; a broken user profile
// that is not the board asked for is one warning on stderr.
func catalog(c *cli.Context) boards.Catalog {
	return boards.Catalog{UserDir: boards.DefaultUserDir(), Warn: func(err error) {
		fmt.Fprintf(c.App.ErrWriter, "bootrig: warning: %s (skipped)\n", oneLine(err.Error()))
	}}
}

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

// lab reads the network flags over the profile's defaults.
func lab(c *cli.Context, p *boards.Profile) (boards.Lab, error) {
	var l boards.Lab
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
	l, err = p.Lab(l)
	if err != nil {
		return l, usagef(c.Command.FullName(), "%v", err)
	}
	return l, nil
}

// cacheDir is bootrig's cache: ~/.cache/bootrig (or $BOOTRIG_CACHE).
func cacheDir() string { return crossbuild.DefaultCache() }

// outDir is where a board's build results go by default.
func outDir(board string) string { return crossbuild.DefaultOut(cacheDir(), board) }

// logger is the command's logger: debug level with --verbose.
func logger(c *cli.Context) *slog.Logger {
	return newLogger(c.App.ErrWriter, c.Bool("verbose"))
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
