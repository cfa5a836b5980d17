// Package servers starts bootrig's servers for a board, on one address:
// TFTP for the kernel, NFS (with MOUNT) for the root filesystem, and a
// portmapper that tells the board's kernel where NFS and MOUNT are. It is
// the one place that wires [tftp], [nfsroot] and [portmap] together:
// `bootrig serve` and `bootrig up` both start their servers here.
//
// Start from a [Config]; [Start] returns the [Running] set, with the
// addresses it bound, the first error a server stopped with, and Close.
package servers

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"

	"github.com/bootrig/bootrig/devtable"
	"github.com/bootrig/bootrig/internal/oncrpc"
)

// The servers' well-known ports. A board's U-Boot asks port 69 for its
// kernel and its kernel asks port 111 where NFS is; 2049 is NFS's own.
const (
	TFTPPort    = 69
	NFSPort     = 2049
	PortmapPort = 111
)

// Config is a set of servers to start.
type Config struct {
	// IP is the address every server listens on. The zero Addr or an
	// unspecified one (0.0.0.0, ::) listens on all of the host's
	// addresses, IPv4 and IPv6 alike (see listenAddr).
	IP   netip.Addr
	TFTP *TFTP // nil: no TFTP server
	NFS  *NFS  // nil: no NFS server and no portmapper
	Log  *slog.Logger
	// Boards, when set, share the one set of ports among several
	// boards (bootrig serve --farm): each board, told apart by its IP
	// address, gets its own TFTP root and its own export, which no
	// other client may mount; a client that is no board is refused.
	// TFTP and NFS then give the ports and the options the boards
	// share, and their Root, Dir, Check, Devices and Allow are unused.
	Boards []Board
}

// Board is one board of a farm (Config.Boards).
type Board struct {
	Name     string
	IP       netip.Addr
	TFTPRoot string
	Dir      string                 // exported to IP alone
	Check    func(dir string) error // as NFS.Check
	Devices  []devtable.Entry       // as NFS.Devices
}

// site is what one server of each kind serves: the single board's
// roots, or one of the farm's boards'.
type site struct {
	board               string     // the farm board's name; "" for a single board
	ip                  netip.Addr // the farm board's address
	tftpRoot, dir       string
	tftpAllow, nfsAllow []netip.Prefix
	check               func(string) error
	devices             []devtable.Entry
}

// sites are what cfg serves, a site for each board; boards must have
// addresses, and each its own.
func sites(cfg Config) ([]site, error) {
	if len(cfg.Boards) == 0 {
		var s site
		if t := cfg.TFTP; t != nil {
			s.tftpRoot, s.tftpAllow = t.Root, t.Allow
		}
		if n := cfg.NFS; n != nil {
			s.dir, s.nfsAllow, s.check, s.devices = n.Dir, n.Allow, n.Check, n.Devices
		}
		return []site{s}, nil
	}
	var out []site
	for i, b := range cfg.Boards {
		ip := b.IP.Unmap()
		if !ip.IsValid() || slices.ContainsFunc(cfg.Boards[:i], func(o Board) bool { return o.IP.Unmap() == ip }) {
			return nil, fmt.Errorf("servers: board %s: its IP address %v is none or another board's", b.Name, b.IP)
		}
		only := []netip.Prefix{netip.PrefixFrom(ip, ip.BitLen())}
		out = append(out, site{board: b.Name, ip: ip, tftpRoot: b.TFTPRoot, dir: b.Dir,
			tftpAllow: only, nfsAllow: only, check: b.Check, devices: b.Devices})
	}
	return out, nil
}

// named is err said of the site's board.
func (s site) named(err error) error {
	if s.board == "" {
		return err
	}
	return fmt.Errorf("board %s: %w", s.board, err)
}

// TFTP is the TFTP server's part of a [Config].
type TFTP struct {
	Root     string         // the directory served
	Port     int            // UDP port: TFTPPort; 0 picks a free one
	Writable bool           // accept uploads into Root
	Allow    []netip.Prefix // the clients served; empty: everyone
	Progress io.Writer      // transfers' progress lines (a terminal); nil: none
}

// NFS is the NFS server's part of a [Config]: one export, served with
// MOUNT on Port over TCP and UDP, and the portmapper that names it.
type NFS struct {
	Dir string // the directory exported
	// Check, if set, is run on Dir before it is opened: bootrig's
	// callers refuse a tree the board could not execute
	// (crossbuild.VerifyRootFS).
	Check func(dir string) error
	// Devices seed /dev and the board's ownership view of the export
	// (nfsroot.Export.Seed); empty: nothing is created in it.
	Devices       []devtable.Entry
	Allow         []netip.Prefix // the clients served; empty: everyone
	ReadOnly      bool
	RootSquash    bool // serve uid 0 as 65534: an export that is not a board's root
	RealOwnership bool // the host's own owners, modes and devices (bootrig as root)
	// UDP serves NFS over UDP too (MOUNT always is), for a kernel whose
	// nfsroot= says udp.
	UDP bool
	// InsecurePorts serves calls from source ports >= 1024 (the
	// kernel's client uses privileged ports).
	InsecurePorts bool
	// Port is NFS's and MOUNT's, TCP and UDP: NFSPort; 0 picks a port
	// free for both.
	Port int
	// PortmapPort is the portmapper's, TCP and UDP: PortmapPort; 0
	// picks a free one. NoPortmap starts none (a board whose nfsroot=
	// names port= and mountport= asks none).
	PortmapPort int
	NoPortmap   bool
	// Hooks see the connections and calls of the NFS server and the
	// portmapper (lab/up's mount watch).
	Hooks oncrpc.Hooks
}

// Kind names one of the servers.
type Kind int

// The servers a [Config] starts.
const (
	TFTPServer Kind = iota
	NFSServer
	Portmapper
)

func (k Kind) String() string {
	return [...]string{"TFTP server", "NFS server", "portmapper"}[k]
}

// An Error is a server that could not start: which one, and why. A
// failed listen wraps the *net.OpError (and, for TFTP, tftp's
// ErrPortInUse or ErrPortPrivileged).
type Error struct {
	Server Kind
	Err    error
}

func (e *Error) Error() string { return e.Server.String() + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrNotDir is a TFTP root or an export that is not a directory.
var ErrNotDir = errors.New("not a directory")

// Addrs are the addresses a [Running] set listens on; nil for a server
// it does not run.
type Addrs struct {
	TFTP    net.Addr // UDP
	NFS     net.Addr // TCP; MOUNT (and NFS with NFS.UDP) on the same UDP port
	Portmap net.Addr // TCP; UDP on the same port
}

// listenAddr is where a server listens on ip: the host's every address
// when ip is zero or unspecified. Networks are "tcp" and "udp", never
// "tcp4": a specific address picks its own family, and the wildcard is
// dual-stack, so `bootrig serve` without --listen answers IPv6 clients
// (::1 is in its default NFS allow list) as it answers IPv4 ones.
func listenAddr(ip netip.Addr, port int) string {
	host := ""
	if ip.IsValid() && !ip.IsUnspecified() {
		host = ip.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// checkDir returns ErrNotDir unless dir is a directory.
func checkDir(what, dir string) error {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s %s is %w", what, dir, ErrNotDir)
	}
	return nil
}
