package up

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"github.com/bootrig/bootrig/crossbuild"
	"github.com/bootrig/bootrig/devtable"
	"github.com/bootrig/bootrig/servers"
)

// serve starts the board's servers on the lab's server address: TFTP
// for the build output, and for an NFS root the NFS server and the
// portmapper, fed to the board's Watch.
func (b *Board) serve(ctx context.Context) error {
	c := b.cfg
	// Nothing the board cannot execute is served (a pass is remembered).
	if err := crossbuild.VerifyRootFS(ctx, c.RootFS, c.Board, c.Notes); err != nil {
		return err
	}
	table, err := devices(c)
	if err != nil {
		return err
	}
	b.Watch = NewWatch()
	b.serversConfig = servers.Config{
		IP:   c.Netboot.ServerIP,
		TFTP: &servers.TFTP{Root: c.Out, Port: servers.TFTPPort, Allow: c.Allow},
		Log:  c.Logger,
	}
	if !c.Netboot.Root.InRAM() { // a root in RAM needs no NFS server and no portmapper
		allow := c.Allow
		if c.NFSAllow != nil {
			allow = c.NFSAllow
		}
		b.serversConfig.NFS = &servers.NFS{
			Dir: c.RootFS, Devices: table, Allow: allow, UDP: c.NFSOverUDP, InsecurePorts: c.InsecurePorts,
			Port: servers.NFSPort, PortmapPort: servers.PortmapPort, NoPortmap: c.NoPortmap, Hooks: b.Watch.Hooks(),
		}
	}
	return b.startServers()
}

// devices is the device table the build wrote beside its rootfs (a named
// instance's copy has none of its own), else the default one for the
// board's console.
func devices(c Config) ([]devtable.Entry, error) {
	table, _, err := crossbuild.FindDevTable("", filepath.Join(c.Out, "rootfs"), c.Board.Linux.Console)
	return table, err
}

// startServers starts b.serversConfig; a server that stops on its own
// while the board runs is said on Notes and logged.
func (b *Board) startServers() error {
	r, err := servers.Start(b.serversConfig)
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		return fmt.Errorf("%w: give it to the interface wired to the board, or pass --server-ip", err)
	}
	if err != nil {
		return err
	}
	b.Servers = r
	go func() {
		if err := r.Wait(); err != nil {
			b.cfg.Logger.Error("server stopped while the board runs", "err", err)
			fmt.Fprintf(b.cfg.Notes, "bootrig: %v\n", err)
		}
	}()
	return nil
}

// RestartServers stops the servers and starts them again, as a restart
// of bootrig would: the board's NFS client retries through the gap, and
// its file handles stay valid across it.
func (b *Board) RestartServers(ctx context.Context) error {
	if err := b.stopServers(ctx); err != nil {
		return err
	}
	return b.startServers()
}

func (b *Board) stopServers(ctx context.Context) error {
	if b.Servers == nil {
		return nil
	}
	err := b.Servers.Close(ctx)
	b.Servers = nil
	return err
}
