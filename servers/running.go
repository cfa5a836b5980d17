package servers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/bootrig/bootrig/nfsroot"
	"github.com/bootrig/bootrig/portmap"
	"github.com/bootrig/bootrig/tftp"
)

// Running is a started set of servers. Close stops it; a server that
// stops on its own before (its Serve returned) closes Done and is Err.
type Running struct {
	Addrs Addrs

	exportDirs map[string]string // by board name; "" without Boards
	exports    []*nfsroot.Export
	stops      []func(context.Context) error // shutdowns, in start order
	served     []chan error                  // each Serve's return
	closing    atomic.Bool                   // Close has begun: Serve returning is expected
	done       chan struct{}
	once       sync.Once
	closeMu    sync.Mutex // one Close at a time
	mu         sync.Mutex
	err        error // the first server that stopped on its own
}

// Start starts the servers cfg names: TFTP, then NFS, then the
// portmapper. An error is an [*Error] naming the server; nothing is
// left running then.
func Start(cfg Config) (_ *Running, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	r := &Running{done: make(chan struct{}), exportDirs: map[string]string{}}
	defer func() {
		if err != nil {
			r.Close(context.Background())
		}
	}()
	sites, err := sites(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.TFTP != nil {
		if err := r.startTFTP(cfg, sites); err != nil {
			return nil, &Error{TFTPServer, err}
		}
	}
	if cfg.NFS != nil {
		if err := r.startNFS(cfg, sites); err != nil {
			return nil, &Error{NFSServer, err}
		}
		if !cfg.NFS.NoPortmap {
			if err := r.startPortmap(cfg); err != nil {
				return nil, &Error{Portmapper, err}
			}
		}
	}
	return r, nil
}

func (r *Running) startTFTP(cfg Config, sites []site) error {
	c := cfg.TFTP
	for _, st := range sites {
		if err := checkDir("TFTP root", st.tftpRoot); err != nil {
			return st.named(err)
		}
	}
	conn, err := tftp.Listen(listenAddr(cfg.IP, c.Port))
	if err != nil {
		return notHere(cfg, err)
	}
	r.Addrs.TFTP = conn.LocalAddr()
	_, pcs := r.split(TFTPServer, cfg, sites, nil, conn)
	for i, st := range sites {
		srv := &tftp.Server{Root: st.tftpRoot, Writable: c.Writable, Allow: st.tftpAllow, Logger: cfg.Log, Progress: c.Progress}
		r.serve(TFTPServer, srv.Shutdown, func() error { return srv.Serve(pcs[i]) })
	}
	return nil
}

func (r *Running) startNFS(cfg Config, sites []site) error {
	c := cfg.NFS
	var exports []*nfsroot.Export
	for _, st := range sites {
		x, err := r.openExport(cfg, st)
		if err != nil {
			return st.named(err)
		}
		exports = append(exports, x)
	}
	l, pc, err := listenPair(cfg.IP, c.Port)
	if err != nil {
		return notHere(cfg, err)
	}
	r.Addrs.NFS = l.Addr()
	ls, pcs := r.split(NFSServer, cfg, sites, l, pc)
	for i, st := range sites {
		srv := &nfsroot.Server{Export: exports[i], Allow: st.nfsAllow, ReadOnly: c.ReadOnly, RootSquash: c.RootSquash,
			NFSOverUDP: c.UDP, InsecurePorts: c.InsecurePorts, Log: cfg.Log, Hooks: c.Hooks}
		r.serve(NFSServer, srv.Shutdown, func() error { return srv.Serve(ls[i]) }, func() error { return srv.ServePacket(pcs[i]) })
	}
	return nil
}

// openExport checks, opens and seeds a site's export; Close closes it.
func (r *Running) openExport(cfg Config, st site) (*nfsroot.Export, error) {
	if err := checkDir("NFS root", st.dir); err != nil {
		return nil, err
	}
	if st.check != nil {
		if err := st.check(st.dir); err != nil {
			return nil, err
		}
	}
	x, err := nfsroot.OpenExport(st.dir, nfsroot.ExportOptions{RealOwnership: cfg.NFS.RealOwnership, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	r.exports = append(r.exports, x)
	r.exportDirs[st.board] = x.Dir()
	if len(st.devices) > 0 {
		if err := x.Seed(st.devices); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// split is l and pc as each site reads them: themselves for one site,
// for a farm's boards a route each of a mux that runs until Close.
func (r *Running) split(k Kind, cfg Config, sites []site, l net.Listener, pc net.PacketConn) ([]net.Listener, []net.PacketConn) {
	if len(cfg.Boards) == 0 {
		return []net.Listener{l}, []net.PacketConn{pc}
	}
	m := newMux(k, cfg.Log)
	conns, packets := map[netip.Addr]*route{}, map[netip.Addr]*route{}
	ls, pcs := make([]net.Listener, len(sites)), make([]net.PacketConn, len(sites))
	for i, st := range sites {
		packets[st.ip] = newRoute(pc.LocalAddr(), pc.WriteTo)
		pcs[i] = packets[st.ip]
		if l != nil {
			conns[st.ip] = newRoute(l.Addr(), nil)
			ls[i] = conns[st.ip]
		}
	}
	loops := []func() error{func() error { return m.read(pc, packets) }}
	if l != nil {
		loops = append(loops, func() error { return m.accept(l, conns) })
	}
	r.serve(k, func(context.Context) error {
		pc.Close()
		if l != nil {
			l.Close()
		}
		return nil
	}, loops...)
	return ls, pcs
}

func (r *Running) startPortmap(cfg Config) error {
	c := cfg.NFS
	l, pc, err := listenPair(cfg.IP, c.PortmapPort)
	if err != nil {
		return notHere(cfg, err)
	}
	nfsPort := uint16(r.Addrs.NFS.(*net.TCPAddr).Port)
	srv := &portmap.Server{Mappings: portmap.NFSMappings(nfsPort, c.UDP), Logger: cfg.Log, Hooks: c.Hooks}
	r.Addrs.Portmap = l.Addr()
	r.serve(Portmapper, srv.Shutdown, func() error { return srv.Serve(l) }, func() error { return srv.ServeUDP(pc) })
	return nil
}

// serve runs each of fns until shutdown stops them; one that returns
// before Close is the set's Err.
func (r *Running) serve(k Kind, shutdown func(context.Context) error, fns ...func() error) {
	r.stops = append(r.stops, shutdown)
	for _, f := range fns {
		ch := make(chan error, 1)
		r.served = append(r.served, ch)
		go func() {
			err := f()
			if !r.closing.Load() {
				r.stopped(fmt.Errorf("%s stopped: %w", k, err))
			}
			ch <- err
		}()
	}
}

// stopped records the first server that stopped on its own.
func (r *Running) stopped(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.once.Do(func() { close(r.done) })
}

// ExportDir is the directory the NFS server exports to board (a name in
// Config.Boards; "" without them), symlinks resolved (its metadata
// store is beside it: nfsroot.DefaultStatePath); "" with no NFS server.
func (r *Running) ExportDir(board string) string { return r.exportDirs[board] }

// Done is closed when a server stops on its own, or when Close begins.
func (r *Running) Done() <-chan struct{} { return r.done }

// Err is the first server that stopped on its own, naming it ("NFS
// server stopped: ..."); nil while every server runs, and after a Close
// when none had.
func (r *Running) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Wait waits for Done and returns Err.
func (r *Running) Wait() error {
	<-r.done
	return r.Err()
}

// Close shuts the servers down, last started first, waits for each
// Serve to return and closes the export. It returns what went wrong:
// shutdowns that failed, and Serve errors other than a shutdown's
// (Err's among them). A second Close does nothing.
func (r *Running) Close(ctx context.Context) error {
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	r.closing.Store(true)
	r.once.Do(func() { close(r.done) })
	var errs []error
	for i := len(r.stops) - 1; i >= 0; i-- {
		errs = append(errs, r.stops[i](ctx))
	}
	r.stops = nil
	for _, ch := range r.served {
		if err := <-ch; !closed(err) {
			errs = append(errs, err)
		}
	}
	r.served = nil
	for _, x := range r.exports {
		errs = append(errs, x.Close())
	}
	r.exports = nil
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
