package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
)

// serveEnv is what serve's parts share: the board, where to listen, the
// logger. startTFTP and startNFS read their own flags from the context.
type serveEnv struct {
	Board  *boards.Profile
	Listen netip.Addr // unspecified: all addresses
	OutDir string     // the board's build output (TFTP root, rootfs parent)
	Log    *slog.Logger
	Served []string // what each part serves, for stdout: "TFTP  :69  DIR (read-only)"
	// stopped hears of a server whose Serve returned before shutdown.
	stopped chan error
	closing atomic.Bool
}

// served records a line of what serve serves.
func (e *serveEnv) served(format string, args ...any) {
	e.Served = append(e.Served, fmt.Sprintf(format, args...))
}

// serve runs a server's Serve; its return before shutdown ends serve.
// The channel gets what Serve returned.
func (env *serveEnv) serve(name string, fn func() error) <-chan error {
	done := make(chan error, 1)
	go func() {
		err := fn()
		if !env.closing.Load() {
			env.stopped <- fmt.Errorf("%s stopped: %w", name, err)
		}
		done <- err
	}()
	return done
}

func serveCommand() *cli.Command {
	flags := append(boardFlags(),
		&cli.StringFlag{Name: "listen", Usage: "listen on `IP` only (default: all addresses)"},
		&cli.BoolFlag{Name: "no-tftp", Usage: "do not start the TFTP server"},
		&cli.BoolFlag{Name: "no-nfs", Usage: "do not start the NFS server"},
		rootFlag,
	)
	flags = append(flags, tftpFlags()...)
	flags = append(flags, nfsFlags()...)
	return &cli.Command{
		Name:  "serve",
		Usage: "serve the kernel over TFTP and the root filesystem over NFS until interrupted",
		UsageText: "bootrig serve [--board NAME] [--tftp-root DIR] [--rootfs DIR] [--listen IP]\n\n" +
			"Example: serve a mini2440's build output to the lab LAN on 192.168.1.113:\n" +
			"   bootrig serve --board mini2440 --listen 192.168.1.113",
		Flags:  flags,
		Action: runServe,
	}
}

func runServe(c *cli.Context) error {
	p, err := board(c)
	if err != nil {
		return err
	}
	env := &serveEnv{Board: p, OutDir: outDir(p.Name), Log: logger(c), stopped: make(chan error, 8)}
	if s := c.String("listen"); s != "" {
		if env.Listen, err = netip.ParseAddr(s); err != nil {
			return usagef("serve", "--listen %q is not an IP address", s)
		}
	}
	if c.Bool("no-tftp") && c.Bool("no-nfs") {
		return usagef("serve", "--no-tftp and --no-nfs leave nothing to serve")
	}
	root, err := rootMode(c, p)
	if err != nil {
		return err
	}
	ctx := c.Context
	var stops []func(context.Context) error
	defer func() {
		env.closing.Store(true)
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for i := len(stops) - 1; i >= 0; i-- {
			if err := stops[i](sctx); err != nil {
				env.Log.Warn("shutdown", "err", err)
			}
		}
	}()
	for _, part := range []struct {
		off   string
		start func(context.Context, *cli.Context, *serveEnv) (func(context.Context) error, error)
	}{{"no-tftp", startTFTP}, {"no-nfs", startNFS}} {
		if c.Bool(part.off) || part.off == "no-nfs" && root.InRAM() { // a RAM root needs no NFS
			continue
		}
		stop, err := part.start(ctx, c, env)
		if err != nil {
			return err
		}
		stops = append(stops, stop)
	}
	fmt.Fprintf(c.App.Writer, "serving board %s:\n", p.Name)
	for _, l := range env.Served {
		fmt.Fprintf(c.App.Writer, "  %s\n", l)
	}
	fmt.Fprintln(c.App.Writer, "Ctrl-C stops")
	select {
	case <-ctx.Done():
		return nil
	case err := <-env.stopped:
		return err
	}
}
