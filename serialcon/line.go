package serialcon

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Line is a serial line's settings: speed, frame and flow control.
type Line struct {
	Baud     int  // bits per second
	DataBits int  // 5 to 8
	Parity   byte // 'N', 'E', 'O', 'M' or 'S'
	StopBits int  // 1 or 2
	Flow     Flow // none unless set
}

// Flow is a line's flow control.
type Flow byte

// Flow controls.
const (
	FlowNone    Flow = iota
	FlowXonXoff      // software: XON/XOFF characters
	FlowRTSCTS       // hardware: the RTS and CTS lines
)

// LineControl is a port whose line settings can be read and changed: a
// tty device (termios).
type LineControl interface {
	Line() (Line, error)
	// SetLine asks for l and returns the settings in force after it,
	// which may differ (a UART rounds the speed); on error, those in
	// force still, as far as they could be read.
	SetLine(l Line) (Line, error)
}

// Errors of [LineControl.SetLine].
var (
	ErrLineFixed   = errors.New("the line settings cannot be changed here")
	ErrLineInvalid = errors.New("invalid line settings")
)

// FixedLine is a line whose settings stay as they are: a TCP port to a
// serial server whose line bootrig does not control.
type FixedLine Line

// Line is f.
func (f FixedLine) Line() (Line, error) { return Line(f), nil }

// SetLine refuses any change with ErrLineFixed.
func (f FixedLine) SetLine(l Line) (Line, error) {
	if l == Line(f) {
		return l, nil
	}
	return Line(f), fmt.Errorf("line %s: want %s: %w", Line(f), l, ErrLineFixed)
}

// EmulatedLine is the line of an emulated UART (QEMU's pty): it has no
// speed or frame that could be wrong, so it takes any valid settings and
// reports them back, as a pty takes a speed, and a client that opens it
// at 9600 (pyserial's default) sees what it asked for. It starts at
// what it is made with.
type EmulatedLine struct {
	mu sync.Mutex
	l  Line
}

// NewEmulatedLine is an emulated UART's line at l.
func NewEmulatedLine(l Line) *EmulatedLine { return &EmulatedLine{l: l} }

// Line is the settings last taken.
func (e *EmulatedLine) Line() (Line, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.l, nil
}

// SetLine takes l unless a serial port could not have it
// (ErrLineInvalid).
func (e *EmulatedLine) SetLine(l Line) (Line, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := l.check(); err != nil {
		return e.l, err
	}
	e.l = l
	return l, nil
}

// String is the line as a port spec ends: "115200,8N1", with the flow
// control after it when there is one ("115200,8N1,rtscts").
func (l Line) String() string {
	s := l.frame()
	switch l.Flow {
	case FlowXonXoff:
		s += ",xonxoff"
	case FlowRTSCTS:
		s += ",rtscts"
	}
	return s
}

// frame is "115200,8N1": the speed and frame as a port spec ends.
func (l Line) frame() string {
	return fmt.Sprintf("%d,%d%c%d", l.Baud, l.DataBits, l.Parity, l.StopBits)
}

// check says what in l a serial port cannot take.
func (l Line) check() error {
	switch {
	case l.Baud <= 0:
		return fmt.Errorf("%w: baud %d", ErrLineInvalid, l.Baud)
	case l.DataBits < 5 || l.DataBits > 8:
		return fmt.Errorf("%w: %d data bits (want 5 to 8)", ErrLineInvalid, l.DataBits)
	case l.Parity == 0 || !strings.ContainsRune(parities, rune(l.Parity)):
		return fmt.Errorf("%w: parity %q (want N, O, E, M or S)", ErrLineInvalid, l.Parity)
	case l.StopBits != 1 && l.StopBits != 2:
		return fmt.Errorf("%w: %d stop bits (want 1 or 2)", ErrLineInvalid, l.StopBits)
	case l.Flow > FlowRTSCTS:
		return fmt.Errorf("%w: flow control %d", ErrLineInvalid, l.Flow)
	}
	return nil
}

// parities are the parity letters, in RFC 2217's order (SET-PARITY 1 to 5).
const parities = "NOEMS"
