package serialcon

// Telnet options a console share's RFC 2217 side agrees to.
const optEcho = 1

// telnetGreeting asks an RFC 2217 client for binary both ways and
// offers COM-PORT-OPTION, as ser2net does.
var telnetGreeting = []byte{
	tIAC, tDO, optBinary, tIAC, tWILL, optBinary,
	tIAC, tWILL, optComPort, tIAC, tWILL, optSGA, tIAC, tWILL, optEcho,
}

// telnetServer is the server side of Telnet with COM-PORT-OPTION (RFC
// 2217): it takes the data out of what a client sends and answers its
// negotiations; what a COM-PORT-OPTION command is answered with is the
// share's to say (comPort).
type telnetServer struct {
	reply func([]byte) // to the client, in order with its data
	// comPort carries out COM-PORT-OPTION command cmd with value val and
	// returns the value to answer with.
	comPort func(cmd byte, val []byte) []byte
	state   int
	verb    byte
	sb      []byte
	// agreed holds the answers given per (verb, option), so that an
	// acknowledgement is not answered again (no negotiation loops).
	agreed map[[2]byte]bool
}

const (
	tsData = iota
	tsIAC
	tsVerb
	tsSB
	tsSBIAC
)

// parse returns the data bytes in b, answering the commands among them.
func (t *telnetServer) parse(b []byte) []byte {
	var data []byte
	for _, x := range b {
		switch t.state {
		case tsData:
			if x == tIAC {
				t.state = tsIAC
			} else {
				data = append(data, x)
			}
		case tsIAC:
			t.state = tsData
			switch x {
			case tIAC:
				data = append(data, x)
			case tDO, tDONT, tWILL, tWONT:
				t.verb, t.state = x, tsVerb
			case tSB:
				t.sb, t.state = t.sb[:0], tsSB
			}
		case tsVerb:
			t.state = tsData
			t.negotiate(t.verb, x)
		case tsSB:
			if x == tIAC {
				t.state = tsSBIAC
			} else if len(t.sb) < 64 {
				t.sb = append(t.sb, x)
			}
		case tsSBIAC:
			t.state = tsSB
			switch x {
			case tSE:
				t.state = tsData
				t.subnegotiation(t.sb)
			case tIAC:
				if len(t.sb) < 64 {
					t.sb = append(t.sb, x)
				}
			}
		}
	}
	return data
}

// negotiate answers DO/WILL for the options a share has (binary,
// suppress-go-ahead, echo: the board echoes, COM-PORT-OPTION) and
// refuses the rest, each answer given once.
func (t *telnetServer) negotiate(verb, opt byte) {
	ours := opt == optBinary || opt == optSGA || opt == optComPort || opt == optEcho
	var ans byte
	switch verb {
	case tDO:
		ans = map[bool]byte{true: tWILL, false: tWONT}[ours]
	case tWILL:
		ans = map[bool]byte{true: tDO, false: tDONT}[ours && opt != optEcho]
	case tDONT:
		ans = tWONT
	case tWONT:
		ans = tDONT
	}
	if t.agreed == nil {
		t.agreed = map[[2]byte]bool{}
	}
	key := [2]byte{ans, opt}
	if _, greeted := greeted[key]; t.agreed[key] || greeted && ans != tWONT && ans != tDONT {
		return
	}
	t.agreed[key] = true
	t.reply([]byte{tIAC, ans, opt})
}

// greeted is what telnetGreeting said already.
var greeted = func() map[[2]byte]struct{} {
	m := map[[2]byte]struct{}{}
	for i := 0; i+2 < len(telnetGreeting); i += 3 {
		m[[2]byte{telnetGreeting[i+1], telnetGreeting[i+2]}] = struct{}{}
	}
	return m
}()

// subnegotiation answers a COM-PORT-OPTION command (RFC 2217's server
// reply: command + 100, with the value comPort gives).
func (t *telnetServer) subnegotiation(b []byte) {
	if len(b) < 2 || b[0] != optComPort || b[1] >= cpServerOff {
		return
	}
	t.reply(sub(b[1]+cpServerOff, t.comPort(b[1], b[2:])...))
}

// escapeIAC is b with every 0xff doubled, as Telnet sends data.
func escapeIAC(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for _, x := range b {
		out = append(out, x)
		if x == tIAC {
			out = append(out, tIAC)
		}
	}
	return out
}
