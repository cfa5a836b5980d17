package serialcon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"
	"time"
)

// Options configure a [Session]. Every field is optional.
type Options struct {
	Name   string    // the port, for errors: "/dev/ttyUSB0"
	Clock  Clock     // SystemClock when nil
	Log    io.Writer // timestamped log (see [Log])
	Raw    io.Writer // every byte as received
	Phases *Phases   // fed every byte
}

// ErrTimeout is wrapped by the error of a wait that hit its deadline.
var ErrTimeout = errors.New("timed out")

// ErrClosed is returned by waits on a session whose port has closed.
var ErrClosed = errors.New("console closed")

// keep is how many unconsumed bytes a session holds for Expect; older ones
// are dropped (a console nobody waits on must not grow without bound).
const keep = 256 << 10

// tailSize is how many of the last bytes received an error shows.
const tailSize = 200

// Session is one open console: one reader goroutine fans what the board
// sends out to the logs, the phase tracker, attached terminals and the
// matcher; writes go through [Session.Write].
type Session struct {
	port  Port
	opt   Options
	log   *Log
	start time.Time

	wmu sync.Mutex // one writer

	mu      sync.Mutex
	buf     []byte // received, not yet consumed by a wait
	tail    []byte // last bytes received, for errors
	total   int64
	changed chan struct{} // closed and replaced on every arrival
	err     error         // why the reader stopped
	done    chan struct{}
	terms   map[int]io.Writer
	nterm   int
	logErr  error
}

// NewSession starts reading p. Close the session to stop.
func NewSession(p Port, opt Options) *Session {
	if opt.Clock == nil {
		opt.Clock = SystemClock
	}
	s := &Session{port: p, opt: opt, start: opt.Clock.Now(), changed: make(chan struct{}), done: make(chan struct{}), terms: map[int]io.Writer{}}
	if opt.Log != nil {
		s.log = NewLog(opt.Log, s.start)
	}
	go s.read()
	return s
}

// Start is when the session began: time zero of the log.
func (s *Session) Start() time.Time { return s.start }

// Clock is the session's clock.
func (s *Session) Clock() Clock { return s.opt.Clock }

func (s *Session) read() {
	b := make([]byte, 4096)
	for {
		n, err := s.port.Read(b)
		if n > 0 {
			s.deliver(b[:n], s.opt.Clock.Now())
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: %s: end of stream", ErrClosed, s.opt.Name)
			} else {
				err = fmt.Errorf("%w: %s: %w", ErrClosed, s.opt.Name, err)
			}
			s.mu.Lock()
			s.err = err
			close(s.changed)
			s.mu.Unlock()
			close(s.done)
			return
		}
	}
}

func (s *Session) deliver(b []byte, t time.Time) {
	if s.opt.Raw != nil {
		if _, err := s.opt.Raw.Write(b); err != nil && s.logErr == nil {
			s.logErr = err
		}
	}
	if s.log != nil {
		if err := s.log.WriteAt(b, t); err != nil && s.logErr == nil {
			s.logErr = err
		}
	}
	if s.opt.Phases != nil {
		s.opt.Phases.Feed(b, t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.terms {
		w.Write(b)
	}
	s.buf = append(s.buf, b...)
	if len(s.buf) > keep {
		s.buf = append(s.buf[:0], s.buf[len(s.buf)-keep:]...)
	}
	s.tail = append(s.tail, b...)
	if len(s.tail) > tailSize {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-tailSize:]...)
	}
	s.total += int64(len(b))
	close(s.changed)
	s.changed = make(chan struct{})
}

// Attach copies everything received from now on to w (a terminal) until
// the returned function is called.
func (s *Session) Attach(w io.Writer) (detach func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nterm
	s.nterm++
	s.terms[id] = w
	return func() {
		s.mu.Lock()
		delete(s.terms, id)
		s.mu.Unlock()
	}
}

// Write sends p to the board.
func (s *Session) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	n, err := s.port.Write(p)
	if err != nil {
		return n, fmt.Errorf("console %s: write: %w", s.opt.Name, err)
	}
	return n, nil
}

// Send writes a string.
func (s *Session) Send(str string) error {
	_, err := s.Write([]byte(str))
	return err
}

// Break sends a break if the port can; ErrUnsupported if it cannot.
func (s *Session) Break(d time.Duration) error {
	b, ok := s.port.(Breaker)
	if !ok {
		return fmt.Errorf("console %s: break: %w", s.opt.Name, errors.ErrUnsupported)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return b.Break(d)
}

// Line is the port's line settings, if it has any to read: a tty device
// does; tcp, unix and rfc2217 ports give ErrUnsupported.
func (s *Session) Line() (Line, error) {
	lc, ok := s.port.(LineControl)
	if !ok {
		return Line{}, fmt.Errorf("console %s: line settings: %w", s.opt.Name, errors.ErrUnsupported)
	}
	return lc.Line()
}

// SetLine changes the port's line settings (see [LineControl]),
// between writes.
func (s *Session) SetLine(l Line) (Line, error) {
	lc, ok := s.port.(LineControl)
	if !ok {
		return Line{}, fmt.Errorf("console %s: line settings: %w", s.opt.Name, errors.ErrUnsupported)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return lc.SetLine(l)
}

// Discard drops what was received and not yet consumed by a wait.
func (s *Session) Discard() {
	s.mu.Lock()
	s.buf = s.buf[:0]
	s.mu.Unlock()
}

// Received is how many bytes arrived so far.
func (s *Session) Received() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Match is what a wait found.
type Match struct {
	Before string   // text received before the match
	Text   string   // the match
	Groups []string // submatches, Groups[0] == Text
}

// Expect waits until re matches the text received and not yet consumed,
// consumes it through the end of the match and returns it. The wait ends
// with an error wrapping ErrTimeout at ctx's deadline (showing the last
// bytes received) or ErrClosed when the port closes.
func (s *Session) Expect(ctx context.Context, re *regexp.Regexp) (Match, error) {
	var m Match
	_, err := s.ExpectFunc(ctx, func(b []byte) (int, bool) {
		loc := re.FindSubmatchIndex(b)
		if loc == nil {
			return 0, false
		}
		m.Before, m.Text = string(b[:loc[0]]), string(b[loc[0]:loc[1]])
		for i := 0; i < len(loc); i += 2 {
			if loc[i] >= 0 {
				m.Groups = append(m.Groups, string(b[loc[i]:loc[i+1]]))
			} else {
				m.Groups = append(m.Groups, "")
			}
		}
		return loc[1], true
	})
	if err != nil {
		return m, fmt.Errorf("waiting for %q: %w", re, err)
	}
	return m, nil
}

// ExpectFunc waits until match, called with the unconsumed text each time
// more arrives, says done; it consumes the first n bytes and returns them.
func (s *Session) ExpectFunc(ctx context.Context, match func(b []byte) (n int, done bool)) ([]byte, error) {
	for {
		s.mu.Lock()
		if n, ok := match(s.buf); ok {
			got := append([]byte(nil), s.buf[:n]...)
			s.buf = append(s.buf[:0], s.buf[n:]...)
			s.mu.Unlock()
			return got, nil
		}
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return nil, err
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, s.timeoutError(ctx)
		}
	}
}

// TimeoutError is a wait that ended at its deadline.
type TimeoutError struct {
	Port    string
	Pending []byte // received during the wait and not consumed
	Last    []byte // the last bytes received, consumed or not
	Cause   error  // the context's error
}

func (e *TimeoutError) Error() string {
	if len(e.Last) == 0 {
		return fmt.Sprintf("console %s: %v: nothing received (is the board powered and the port right?)", e.Port, ErrTimeout)
	}
	return fmt.Sprintf("console %s: %v; last bytes received: %q", e.Port, ErrTimeout, e.Last)
}

func (e *TimeoutError) Unwrap() []error { return []error{ErrTimeout, e.Cause} }

func (s *Session) timeoutError(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &TimeoutError{Port: s.opt.Name, Pending: append([]byte(nil), s.buf...), Last: append([]byte(nil), s.tail...), Cause: ctx.Err()}
}

// Done is closed when the reader stops (the port closed or failed).
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the reader stopped, nil while it runs.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close closes the port, waits for the reader and flushes the log. It
// returns the first error writing a log.
func (s *Session) Close() error {
	s.port.Close()
	<-s.done
	if s.log != nil {
		if lerr := s.log.Close(); lerr != nil && s.logErr == nil {
			s.logErr = lerr
		}
	}
	if s.logErr != nil {
		return fmt.Errorf("console %s: log: %w", s.opt.Name, s.logErr)
	}
	return nil
}

// PendingBytes is what arrived during the wait and was not consumed.
func (e *TimeoutError) PendingBytes() []byte { return e.Pending }
