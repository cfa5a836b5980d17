package serialcon

// defaultLine is what a board's console runs at.
var defaultLine = Line{Baud: DefaultBaud, DataBits: 8, Parity: 'N', StopBits: 1}

// line is s.Line, or the emulated UART's when s has none; s.lineMu held.
func (s *Share) line() LineControl {
	if s.Line != nil {
		return s.Line
	}
	if s.emulated == nil {
		s.emulated = NewEmulatedLine(defaultLine)
	}
	return s.emulated
}

// comPort carries out client c's COM-PORT-OPTION command cmd (value
// val) and returns the value to answer with: RFC 2217's server answers
// with the setting in force, so a client whose change did not happen
// (another writes; the line cannot change) sees its value refused.
// Other commands (SET-CONTROL's break, DTR and RTS, PURGE-DATA,
// signature, masks) are acknowledged as asked.
func (s *Share) comPort(c *shareClient, cmd byte, val []byte) []byte {
	if comPortValue(Line{}, cmd) == nil || cmd == cpSetCtl && (len(val) != 1 || val[0] > ctlFlowHW) {
		return val
	}
	s.lineMu.Lock()
	defer s.lineMu.Unlock()
	lc := s.line()
	cur, err := lc.Line()
	if err != nil {
		s.logger().Warn("console share: line settings", "console", s.Name, "err", err)
		return comPortValue(defaultLine, cmd)
	}
	want, asks := comPortLine(cur, cmd, val)
	if !asks || want == cur {
		return comPortValue(cur, cmd)
	}
	if w := s.claimWriter(c); w != c {
		s.tellReadOnly(c, w)
		return comPortValue(cur, cmd)
	}
	got, err := lc.SetLine(want)
	if err != nil {
		s.logger().Warn("console share: line settings refused", "console", s.Name, "client", c.conn.RemoteAddr(), "err", err)
		if got == (Line{}) {
			got = cur
		}
	} else {
		s.logger().Info("console share: line set", "console", s.Name, "client", c.conn.RemoteAddr(), "line", got)
	}
	return comPortValue(got, cmd)
}
