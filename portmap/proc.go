package portmap

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/bootrig/bootrig/internal/oncrpc"
)

// Program is the portmapper's RPC program number.
const Program = oncrpc.ProgPortmap

// Protocol is an IP protocol number, as version 2 carries it.
type Protocol uint32

// The transports a Mapping names.
const (
	TCP Protocol = 6
	UDP Protocol = 17
)

func (p Protocol) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return fmt.Sprintf("proto-%d", uint32(p))
}

// Mapping says that version Vers of RPC program Prog listens on Port
// over Prot.
type Mapping struct {
	Prog, Vers uint32
	Prot       Protocol
	Port       uint16
}

// Procedures (RFC 1833). Versions 3 and 4 share numbers 0-8.
const (
	procNull    = 0
	procSet     = 1
	procUnset   = 2
	procGetport = 3 // v2; GETADDR in v3 and v4
	procDump    = 4
	procGettime = 6  // v3, v4
	procVersAdd = 9  // v4 GETVERSADDR
	procAddrLst = 11 // v4 GETADDRLIST
)

// transport is where a call arrived: its protocol and the local
// address it was sent to, which GETADDR puts in universal addresses.
type transport struct {
	prot  Protocol
	local netip.Addr
}

// answer answers one call.
func answer(c *oncrpc.CallMsg, t transport, table []Mapping, now func() time.Time) []byte {
	switch {
	case c.Prog != Program:
		return oncrpc.Accepted(c.XID, oncrpc.ProgUnavail)
	case c.Vers < 2 || c.Vers > 4:
		return oncrpc.Accepted(c.XID, oncrpc.ProgMismatch, 2, 4)
	case c.Vers == 2:
		return answerPMAPv2(c, table)
	}
	return answerRPCBIND(c, t, table, now)
}

// answerPMAPv2 answers PMAP version 2 (RFC 1833 section 3).
func answerPMAPv2(c *oncrpc.CallMsg, table []Mapping) []byte {
	switch c.Proc {
	case procNull:
		return oncrpc.Accepted(c.XID, oncrpc.Success)
	case procSet, procUnset:
		if _, err := decodeMapping(c.Args); err != nil {
			return oncrpc.Accepted(c.XID, oncrpc.GarbageArgs)
		}
		e := oncrpc.AcceptedReply(c.XID, oncrpc.Success)
		e.Bool(false) // the table is fixed
		return e.B
	case procGetport:
		m, err := decodeMapping(c.Args)
		if err != nil {
			return oncrpc.Accepted(c.XID, oncrpc.GarbageArgs)
		}
		e := oncrpc.AcceptedReply(c.XID, oncrpc.Success)
		e.Uint32(uint32(lookup(table, m.Prog, m.Vers, m.Prot, true).Port))
		return e.B
	case procDump:
		e := oncrpc.AcceptedReply(c.XID, oncrpc.Success)
		for _, m := range table {
			e.Bool(true)
			e.Uint32(m.Prog)
			e.Uint32(m.Vers)
			e.Uint32(uint32(m.Prot))
			e.Uint32(uint32(m.Port))
		}
		e.Bool(false)
		return e.B
	}
	return oncrpc.Accepted(c.XID, oncrpc.ProcUnavail)
}

func decodeMapping(d oncrpc.Decoder) (Mapping, error) {
	m := Mapping{Prog: d.Uint32(), Vers: d.Uint32(), Prot: Protocol(d.Uint32())}
	m.Port = uint16(d.Uint32())
	return m, d.Err()
}

// lookup finds prog's mapping: of version vers, or of any version
// unless exact.
func lookup(table []Mapping, prog, vers uint32, prot Protocol, exact bool) Mapping {
	var other Mapping
	for _, m := range table {
		if m.Prog != prog || m.Prot != prot {
			continue
		}
		if m.Vers == vers {
			return m
		}
		if other.Port == 0 {
			other = m
		}
	}
	if exact {
		return Mapping{}
	}
	return other
}

// rpcb is the argument of RPCBPROC_GETADDR and friends.
type rpcb struct {
	prog, vers         uint32
	netid, addr, owner string
}

func decodeRPCB(d oncrpc.Decoder) (rpcb, error) {
	r := rpcb{prog: d.Uint32(), vers: d.Uint32()}
	r.netid, r.addr, r.owner = d.String(128), d.String(128), d.String(128)
	return r, d.Err()
}

// answerRPCBIND answers RPCBIND versions 3 and 4 (RFC 1833 section 2).
func answerRPCBIND(c *oncrpc.CallMsg, t transport, table []Mapping, now func() time.Time) []byte {
	switch {
	case c.Proc == procNull:
		return oncrpc.Accepted(c.XID, oncrpc.Success)
	case c.Proc == procSet || c.Proc == procUnset:
		if _, err := decodeRPCB(c.Args); err != nil {
			return oncrpc.Accepted(c.XID, oncrpc.GarbageArgs)
		}
		e := oncrpc.AcceptedReply(c.XID, oncrpc.Success)
		e.Bool(false)
		return e.B
	case c.Proc == procGetport || c.Vers == 4 && c.Proc == procVersAdd:
		r, err := decodeRPCB(c.Args)
		if err != nil {
			return oncrpc.Accepted(c.XID, oncrpc.GarbageArgs)
		}
		prot, ok := netidProtocol(r.netid, t.prot)
		var m Mapping
		if ok {
			// Version 4's GETADDR may answer with another version;
			// GETVERSADDR and version 3 want the exact one.
			m = lookup(table, r.prog, r.vers, prot, c.Vers == 3 || c.Proc == procVersAdd)
		}
		e := oncrpc.AcceptedReply(c.XID, oncrpc.Success)
		if m.Port == 0 {
			e.String("")
		} else {
			e.String(uaddr(t.local, m.Port))
		}
		return e.B
	case c.Proc == procDump:
		e := oncrpc.AcceptedReply(c.XID, oncrpc.Success)
		for _, m := range table {
			e.Bool(true)
			e.Uint32(m.Prog)
			e.Uint32(m.Vers)
			e.String(netid(m.Prot, t.local))
			e.String(uaddr(t.local, m.Port))
			e.String("superuser")
		}
		e.Bool(false)
		return e.B
	case c.Vers == 4 && c.Proc == procAddrLst:
		r, err := decodeRPCB(c.Args)
		if err != nil {
			return oncrpc.Accepted(c.XID, oncrpc.GarbageArgs)
		}
		e := oncrpc.AcceptedReply(c.XID, oncrpc.Success)
		for _, m := range table {
			if m.Prog != r.prog || m.Vers != r.vers {
				continue
			}
			e.Bool(true)
			e.String(uaddr(t.local, m.Port))
			e.String(netid(m.Prot, t.local))
			e.Uint32(semantics(m.Prot))
			e.String(family(t.local))
			e.String(m.Prot.String())
		}
		e.Bool(false)
		return e.B
	case c.Proc == procGettime:
		e := oncrpc.AcceptedReply(c.XID, oncrpc.Success)
		e.Uint32(uint32(now().Unix()))
		return e.B
	}
	return oncrpc.Accepted(c.XID, oncrpc.ProcUnavail)
}

// netidProtocol maps a netid (RFC 5665) to a protocol; an empty netid
// means the transport the call came on.
func netidProtocol(id string, def Protocol) (Protocol, bool) {
	switch id {
	case "":
		return def, true
	case "tcp", "tcp6":
		return TCP, true
	case "udp", "udp6":
		return UDP, true
	}
	return 0, false
}

func netid(p Protocol, local netip.Addr) string {
	if local.Is6() && !local.Is4In6() {
		return p.String() + "6"
	}
	return p.String()
}

// uaddr is the universal address (RFC 5665) of port on ip:
// "h1.h2.h3.h4.p1.p2" for IPv4, "x:…:x.p1.p2" for IPv6.
func uaddr(ip netip.Addr, port uint16) string {
	if !ip.IsValid() {
		ip = netip.IPv4Unspecified()
	}
	return fmt.Sprintf("%s.%d.%d", ip.Unmap(), port>>8, port&0xff)
}

// semantics is a transport's netconfig semantics: NC_TPI_COTS_ORD for
// TCP, NC_TPI_CLTS for UDP.
func semantics(p Protocol) uint32 {
	if p == TCP {
		return 3
	}
	return 1
}

func family(local netip.Addr) string {
	if local.Is6() && !local.Is4In6() {
		return "inet6"
	}
	return "inet"
}

// NFSMappings is the table for bootrig's NFS server on port: NFSv3 and
// MOUNT v3 over TCP, MOUNT v3 over UDP, and NFSv3 over UDP when the
// server answers it there (nfsroot.Server.NFSOverUDP).
func NFSMappings(port uint16, nfsOverUDP bool) []Mapping {
	out := []Mapping{
		{oncrpc.ProgNFS, oncrpc.NFSVersion, TCP, port},
		{oncrpc.ProgMount, oncrpc.MountVersion, TCP, port},
		{oncrpc.ProgMount, oncrpc.MountVersion, UDP, port},
	}
	if nfsOverUDP {
		out = append(out, Mapping{oncrpc.ProgNFS, oncrpc.NFSVersion, UDP, port})
	}
	return out
}
