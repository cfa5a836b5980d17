package portmap

import (
	"fmt"
	"net/netip"
	"time"
)

// Program is the portmapper's RPC program number.
const Program = 100000

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

// reply answers one call; nil when there is nobody to answer.
func reply(b []byte, t transport, table []Mapping, now func() time.Time) []byte {
	c, err := decodeCall(b)
	if err == errNotCall {
		return nil
	}
	if err == nil && c.rpcvers != 2 {
		return rpcMismatchReply(c.xid)
	}
	if err != nil {
		return acceptedReply(c.xid, garbageArgs).b
	}
	switch {
	case c.prog != Program:
		return acceptedReply(c.xid, progUnavail).b
	case c.vers < 2 || c.vers > 4:
		e := acceptedReply(c.xid, progMismatch)
		e.uint32(2)
		e.uint32(4)
		return e.b
	}
	if c.vers == 2 {
		return v2(c, table)
	}
	return v34(c, t, table, now)
}

// v2 answers PMAP version 2.
func v2(c call, table []Mapping) []byte {
	switch c.proc {
	case procNull:
		return acceptedReply(c.xid, success).b
	case procSet, procUnset:
		if _, err := decodeMapping(c.args); err != nil {
			return acceptedReply(c.xid, garbageArgs).b
		}
		e := acceptedReply(c.xid, success)
		e.bool(false) // the table is fixed
		return e.b
	case procGetport:
		m, err := decodeMapping(c.args)
		if err != nil {
			return acceptedReply(c.xid, garbageArgs).b
		}
		e := acceptedReply(c.xid, success)
		e.uint32(uint32(lookup(table, m.Prog, m.Vers, m.Prot, true).Port))
		return e.b
	case procDump:
		e := acceptedReply(c.xid, success)
		for _, m := range table {
			e.bool(true)
			e.uint32(m.Prog)
			e.uint32(m.Vers)
			e.uint32(uint32(m.Prot))
			e.uint32(uint32(m.Port))
		}
		e.bool(false)
		return e.b
	}
	return acceptedReply(c.xid, procUnavail).b
}

func decodeMapping(b []byte) (Mapping, error) {
	d := decoder{b: b}
	m := Mapping{Prog: d.uint32(), Vers: d.uint32(), Prot: Protocol(d.uint32())}
	m.Port = uint16(d.uint32())
	return m, d.err
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

func decodeRPCB(b []byte) (rpcb, error) {
	d := decoder{b: b}
	r := rpcb{prog: d.uint32(), vers: d.uint32()}
	r.netid, r.addr, r.owner = d.string(128), d.string(128), d.string(128)
	return r, d.err
}

// v34 answers RPCBIND versions 3 and 4.
func v34(c call, t transport, table []Mapping, now func() time.Time) []byte {
	switch {
	case c.proc == procNull:
		return acceptedReply(c.xid, success).b
	case c.proc == procSet || c.proc == procUnset:
		if _, err := decodeRPCB(c.args); err != nil {
			return acceptedReply(c.xid, garbageArgs).b
		}
		e := acceptedReply(c.xid, success)
		e.bool(false)
		return e.b
	case c.proc == procGetport || c.vers == 4 && c.proc == procVersAdd:
		r, err := decodeRPCB(c.args)
		if err != nil {
			return acceptedReply(c.xid, garbageArgs).b
		}
		prot, ok := netidProtocol(r.netid, t.prot)
		var m Mapping
		if ok {
			// Version 4's GETADDR may answer with another version;
			// GETVERSADDR and version 3 want the exact one.
			m = lookup(table, r.prog, r.vers, prot, c.vers == 3 || c.proc == procVersAdd)
		}
		e := acceptedReply(c.xid, success)
		if m.Port == 0 {
			e.string("")
		} else {
			e.string(uaddr(t.local, m.Port))
		}
		return e.b
	case c.proc == procDump:
		e := acceptedReply(c.xid, success)
		for _, m := range table {
			e.bool(true)
			e.uint32(m.Prog)
			e.uint32(m.Vers)
			e.string(netid(m.Prot, t.local))
			e.string(uaddr(t.local, m.Port))
			e.string("superuser")
		}
		e.bool(false)
		return e.b
	case c.vers == 4 && c.proc == procAddrLst:
		r, err := decodeRPCB(c.args)
		if err != nil {
			return acceptedReply(c.xid, garbageArgs).b
		}
		e := acceptedReply(c.xid, success)
		for _, m := range table {
			if m.Prog != r.prog || m.Vers != r.vers {
				continue
			}
			e.bool(true)
			e.string(uaddr(t.local, m.Port))
			e.string(netid(m.Prot, t.local))
			e.uint32(semantics(m.Prot))
			e.string(family(t.local))
			e.string(m.Prot.String())
		}
		e.bool(false)
		return e.b
	case c.proc == procGettime:
		e := acceptedReply(c.xid, success)
		e.uint32(uint32(now().Unix()))
		return e.b
	}
	return acceptedReply(c.xid, procUnavail).b
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
