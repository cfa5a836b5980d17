package serialcon

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Telnet and RFC 2217 (COM-PORT-OPTION) codes.
const (
	tIAC  = 255
	tDONT = 254
	tDO   = 253
	tWONT = 252
	tWILL = 251
	tSB   = 250
	tSE   = 240

	optBinary   = 0
	optSGA      = 3
	optComPort  = 44
	cpSetBaud   = 1
	cpSetData   = 2
	cpSetParity = 3
	cpSetStop   = 4
	cpSetCtl    = 5
	ctlFlowNone = 1 // SET-CONTROL 1 to 3: no, XON/XOFF, hardware flow control
	ctlFlowHW   = 3
	ctlBreakOn  = 5
	ctlBreakOff = 6
	cpServerOff = 100 // server replies to command c with c+100
)

// rfc2217 is a Telnet connection to a port server speaking RFC 2217.
// Data bytes 0xff are doubled on the wire both ways; options other than
// binary, suppress-go-ahead and COM-PORT-OPTION are refused.
type rfc2217 struct {
	conn net.Conn
	addr string
	r    *bufio.Reader
	wmu  sync.Mutex // one writer on the wire: data and negotiation replies

	mu      sync.Mutex
	acks    map[byte][]byte // last server reply per COM-PORT command
	telnet  bool            // the server sent a Telnet command
	refused bool            // it refused COM-PORT-OPTION
}

// ErrBaudNotSet is the error of [LineSetter.LineSettings] when the port
// server did not take the baud rate.
var ErrBaudNotSet = errors.New("the baud rate was not set")

// LineSetter is a port whose line settings go over the wire to a port
// server (rfc2217://).
type LineSetter interface {
	// LineSettings is nil once the server confirmed the baud rate, else
	// an error wrapping ErrBaudNotSet that says why.
	LineSettings() error
}

func dialRFC2217(ctx context.Context, sp Spec) (*rfc2217, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", sp.Addr)
	if err != nil {
		return nil, fmt.Errorf("console rfc2217://%s: %w (is ser2net listening there with telnet(rfc2217)?)", sp.Addr, err)
	}
	t := &rfc2217{conn: c, addr: sp.Addr, r: bufio.NewReader(c), acks: map[byte][]byte{}}
	var neg []byte
	for _, o := range [][]byte{
		{tIAC, tWILL, optComPort}, {tIAC, tWILL, optBinary}, {tIAC, tDO, optBinary},
		{tIAC, tWILL, optSGA}, {tIAC, tDO, optSGA},
	} {
		neg = append(neg, o...)
	}
	for _, cmd := range []byte{cpSetBaud, cpSetData, cpSetParity, cpSetStop} {
		neg = append(neg, sub(cmd, comPortValue(sp.Line, cmd)...)...)
	}
	if err := t.writeRaw(neg); err != nil {
		c.Close()
		return nil, err
	}
	return t, nil
}

// comPortValue is the value of COM-PORT-OPTION command cmd that says
// what l has (RFC 2217: SET-BAUDRATE, -DATASIZE, -PARITY, -STOPSIZE, and
// SET-CONTROL's flow control).
func comPortValue(l Line, cmd byte) []byte {
	switch cmd {
	case cpSetBaud:
		return binary.BigEndian.AppendUint32(nil, uint32(l.Baud))
	case cpSetData:
		return []byte{byte(l.DataBits)}
	case cpSetParity:
		return []byte{byte(strings.IndexByte(parities, l.Parity) + 1)}
	case cpSetStop:
		return []byte{byte(l.StopBits)}
	case cpSetCtl:
		return []byte{ctlFlowNone + byte(l.Flow)}
	}
	return nil
}

// comPortLine is l with what COM-PORT-OPTION command cmd with value val
// asks for, and whether it asks for a setting at all: a request for the
// current value (0) or a value a serial port cannot have (1.5 stop bits,
// 9 data bits) asks for none.
func comPortLine(l Line, cmd byte, val []byte) (Line, bool) {
	if len(val) == 0 || cmd != cpSetBaud && len(val) != 1 {
		return l, false
	}
	v := val[0]
	switch {
	case cmd == cpSetBaud && len(val) == 4:
		l.Baud = int(binary.BigEndian.Uint32(val))
		return l, l.Baud != 0
	case cmd == cpSetData && v >= 5 && v <= 8:
		l.DataBits = int(v)
	case cmd == cpSetParity && v >= 1 && int(v) <= len(parities):
		l.Parity = parities[v-1]
	case cmd == cpSetStop && (v == 1 || v == 2):
		l.StopBits = int(v)
	case cmd == cpSetCtl && v >= ctlFlowNone && v <= ctlFlowHW:
		l.Flow = Flow(v - ctlFlowNone)
	default:
		return l, false
	}
	return l, true
}

// sub is a COM-PORT-OPTION subnegotiation with IAC in the value doubled.
func sub(cmd byte, val ...byte) []byte {
	b := []byte{tIAC, tSB, optComPort, cmd}
	for _, v := range val {
		b = append(b, v)
		if v == tIAC {
			b = append(b, tIAC)
		}
	}
	return append(b, tIAC, tSE)
}

func (t *rfc2217) writeRaw(b []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if _, err := t.conn.Write(b); err != nil {
		return fmt.Errorf("console rfc2217://%s: %w", t.addr, err)
	}
	return nil
}

// Write sends data with 0xff escaped.
func (t *rfc2217) Write(p []byte) (int, error) {
	b := make([]byte, 0, len(p)+8)
	for _, c := range p {
		b = append(b, c)
		if c == tIAC {
			b = append(b, tIAC)
		}
	}
	if err := t.writeRaw(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Read returns data bytes, handling Telnet commands in between.
func (t *rfc2217) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if n > 0 && t.r.Buffered() == 0 {
			break
		}
		c, err := t.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if c != tIAC {
			p[n] = c
			n++
			continue
		}
		data, isData, err := t.command()
		if err != nil {
			return n, err
		}
		if isData {
			p[n] = data
			n++
		}
	}
	return n, nil
}

// command handles what follows an IAC; an escaped 0xff is data.
func (t *rfc2217) command() (byte, bool, error) {
	c, err := t.r.ReadByte()
	if err != nil {
		return 0, false, err
	}
	if c != tIAC {
		t.mu.Lock()
		t.telnet = true
		t.mu.Unlock()
	}
	switch c {
	case tIAC:
		return tIAC, true, nil
	case tDO, tDONT, tWILL, tWONT:
		opt, err := t.r.ReadByte()
		if err != nil {
			return 0, false, err
		}
		return 0, false, t.negotiate(c, opt)
	case tSB:
		return 0, false, t.subnegotiation()
	}
	return 0, false, nil // NOP, GA and friends
}

// negotiate answers the server: we offered binary, SGA and COM-PORT; any
// other option the server asks for is refused.
func (t *rfc2217) negotiate(verb, opt byte) error {
	known := opt == optBinary || opt == optSGA || opt == optComPort
	if opt == optComPort && (verb == tDONT || verb == tWONT) {
		t.mu.Lock()
		t.refused = true
		t.mu.Unlock()
	}
	switch {
	case known:
		return nil // the answer to our own offer, or agreement with it
	case verb == tDO:
		return t.writeRaw([]byte{tIAC, tWONT, opt})
	case verb == tWILL:
		return t.writeRaw([]byte{tIAC, tDONT, opt})
	}
	return nil
}

func (t *rfc2217) subnegotiation() error {
	var b []byte
	for {
		c, err := t.r.ReadByte()
		if err != nil {
			return err
		}
		if c == tIAC {
			c2, err := t.r.ReadByte()
			if err != nil {
				return err
			}
			if c2 == tSE {
				break
			}
			c = c2 // IAC IAC is a literal 0xff
		}
		b = append(b, c)
	}
	if len(b) >= 2 && b[0] == optComPort && b[1] >= cpServerOff {
		t.mu.Lock()
		t.acks[b[1]-cpServerOff] = b[2:]
		t.mu.Unlock()
	}
	return nil
}

// SetBaud asks the port server to change the line speed.
func (t *rfc2217) SetBaud(baud int) error {
	return t.writeRaw(sub(cpSetBaud, binary.BigEndian.AppendUint32(nil, uint32(baud))...))
}

// Baud is the speed the server last confirmed, 0 before any reply.
func (t *rfc2217) Baud() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.acks[cpSetBaud]; len(b) == 4 {
		return int(binary.BigEndian.Uint32(b))
	}
	return 0
}

// Break holds a break condition on the remote line for d.
func (t *rfc2217) Break(d time.Duration) error {
	if err := t.writeRaw(sub(cpSetCtl, ctlBreakOn)); err != nil {
		return err
	}
	time.Sleep(d)
	return t.writeRaw(sub(cpSetCtl, ctlBreakOff))
}

// Close closes the connection.
func (t *rfc2217) Close() error { return t.conn.Close() }

// LineSettings says whether the server took the baud rate (see [LineSetter]).
func (t *rfc2217) LineSettings() error {
	if t.Baud() != 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.refused:
		return fmt.Errorf("console rfc2217://%s: the server refused COM-PORT-OPTION (RFC 2217): %w (is it plain telnet? set the speed on the server)", t.addr, ErrBaudNotSet)
	case !t.telnet:
		return fmt.Errorf("console rfc2217://%s: the peer does not speak telnet: %w (a raw TCP port, such as ser2net's tcp accepter? then give tcp://%s and set the speed on the server)", t.addr, ErrBaudNotSet, t.addr)
	}
	return fmt.Errorf("console rfc2217://%s: no reply to the baud rate from the server: %w", t.addr, ErrBaudNotSet)
}
