package up

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"

	"github.com/bootrig/bootrig/devtable"
	"github.com/bootrig/bootrig/nfsroot"
	"github.com/bootrig/bootrig/portmap"
	"github.com/bootrig/bootrig/tftp"
)

// Ports the servers listen on, on the server address.
const (
	TFTPPort    = 69
	NFSPort     = 2049
	PortmapPort = 111
)

// Servers are bootrig's servers for one board: TFTP for the kernel,
// NFS (with MOUNT) for the root filesystem, and a portmapper that tells
// the kernel where they are. Start and Stop may alternate while the board
// runs: the board's NFS client retries through the gap, and file handles
// stay valid across it.
type Servers struct {
	IP       netip.Addr       // listen address: the lab's server IP
	TFTPRoot string           // served over TFTP: the build output
	RootFS   string           // exported over NFS
	Devices  []devtable.Entry // seeds /dev and ownership in the export
	Allow    []netip.Prefix   // clients served; empty: everyone
	NFSAllow []netip.Prefix   // NFS clients served, when not Allow
	// NFSOverUDP serves NFS over UDP too (MOUNT always is); a board whose
	// nfsroot= says udp needs it.
	NFSOverUDP bool
	// InsecurePorts serves NFS calls from source ports >= 1024 (the
	// kernel's client uses privileged ports).
	InsecurePorts bool
	// Stopped, if set, hears of a server that stopped on its own (not
	// by Stop); the error names it. Such a stop is logged too.
	Stopped func(error)
	// NoPortmap leaves port 111 to another portmapper (a board whose
	// nfsroot= names port= and mountport= needs none).
	NoPortmap bool
	// NoNFS serves TFTP only: a root in RAM (initramfs, builtin) needs
	// no NFS server and no portmapper.
	NoNFS bool
	Log   *slog.Logger // nil: none
	// Watch counts the board's RPC calls; Start makes one if nil. It
	// lives across restarts.
	Watch *Watch

	running *running
}

// running is one start of the servers.
type running struct {
	stops    []func(context.Context) error // in start order
	served   []chan error
	stopping atomic.Bool // Stop has begun: Serve returning is expected
	export   *nfsroot.Export
}

// Start opens the export and starts serving. An error names the server
// and port that failed; nothing is left running then.
func (s *Servers) Start() (err error) {
	if s.running != nil {
		return errors.New("servers: already started")
	}
	if s.Watch == nil {
		s.Watch = NewWatch()
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	r := &running{}
	defer func() {
		if err != nil {
			r.stop(context.Background())
		}
	}()
	starts := []func(*running) error{s.startTFTP}
	if !s.NoNFS {
		starts = append(starts, s.startNFS)
	}
	if !s.NoPortmap && !s.NoNFS {
		starts = append(starts, s.startPortmap)
	}
	for _, start := range starts {
		if err := start(r); err != nil {
			if errors.Is(err, syscall.EADDRNOTAVAIL) {
				return fmt.Errorf("%w: %s is not an address of this host: give it to the interface wired to the board, or pass --server-ip", err, s.IP)
			}
			return err
		}
	}
	s.running = r
	return nil
}

func (s *Servers) addr(port int) string {
	return net.JoinHostPort(s.IP.String(), strconv.Itoa(port))
}

func (s *Servers) startTFTP(r *running) error {
	conn, err := tftp.Listen(s.addr(TFTPPort))
	if err != nil {
		return err
	}
	srv := &tftp.Server{Root: s.TFTPRoot, Allow: s.Allow, Logger: s.Log}
	r.serve(s, "TFTP server", srv.Shutdown, func() error { return srv.Serve(conn) })
	return nil
}

func (s *Servers) startNFS(r *running) error {
	if fi, err := os.Stat(s.RootFS); err != nil || !fi.IsDir() {
		return fmt.Errorf("NFS root %s is not a directory (build it: bootrig build rootfs)", s.RootFS)
	}
	x, err := nfsroot.OpenExport(s.RootFS, nfsroot.ExportOptions{Log: s.Log})
	if err != nil {
		return fmt.Errorf("NFS server: %w", err)
	}
	r.export = x
	if err := x.Seed(s.Devices); err != nil {
		return fmt.Errorf("NFS server: %w", err)
	}
	l, err := net.Listen("tcp4", s.addr(NFSPort))
	if err != nil {
		return fmt.Errorf("NFS server: listen on TCP %s: %w", s.addr(NFSPort), err)
	}
	pc, err := net.ListenPacket("udp4", s.addr(NFSPort))
	if err != nil {
		l.Close()
		return fmt.Errorf("NFS server: listen on UDP %s: %w", s.addr(NFSPort), err)
	}
	allow := s.Allow
	if s.NFSAllow != nil {
		allow = s.NFSAllow
	}
	srv := &nfsroot.Server{Export: x, Allow: allow, Log: s.Log, Hooks: s.Watch.Hooks(),
		NFSOverUDP: s.NFSOverUDP, InsecurePorts: s.InsecurePorts}
	r.serve(s, "NFS server", srv.Shutdown, func() error { return srv.Serve(l) }, func() error { return srv.ServePacket(pc) })
	return nil
}

// serve runs each of fns until shutdown stops them; one that returns
// before is reported as a stop of the server called name.
func (r *running) serve(s *Servers, name string, shutdown func(context.Context) error, fns ...func() error) {
	r.stops = append(r.stops, shutdown)
	for _, f := range fns {
		ch := make(chan error, 1)
		r.served = append(r.served, ch)
		go func() {
			err := f()
			if !r.stopping.Load() {
				s.stopped(fmt.Errorf("%s stopped: %w", name, err))
			}
			ch <- err
		}()
	}
}

// stopped reports a server that stopped on its own.
func (s *Servers) stopped(err error) {
	s.Log.Error("server stopped while the board runs", "err", err)
	if s.Stopped != nil {
		s.Stopped(err)
	}
}

// Stop shuts the servers down and closes the export; Start may follow.
func (s *Servers) Stop(ctx context.Context) error {
	if s.running == nil {
		return nil
	}
	err := s.running.stop(ctx)
	s.running = nil
	return err
}

// Restart stops and starts the servers, as a restart of bootrig would.
func (s *Servers) Restart(ctx context.Context) error {
	if err := s.Stop(ctx); err != nil {
		return err
	}
	return s.Start()
}

func (r *running) stop(ctx context.Context) error {
	r.stopping.Store(true)
	var errs []error
	for i := len(r.stops) - 1; i >= 0; i-- {
		errs = append(errs, r.stops[i](ctx))
	}
	for _, ch := range r.served {
		if err := <-ch; !closed(err) {
			errs = append(errs, err)
		}
	}
	if r.export != nil {
		errs = append(errs, r.export.Close())
	}
	return errors.Join(errs...)
}

// closed reports whether a Serve's error only says it was shut down.
func closed(err error) bool {
	for _, c := range []error{tftp.ErrServerClosed, nfsroot.ErrServerClosed, portmap.ErrServerClosed, net.ErrClosed} {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}
