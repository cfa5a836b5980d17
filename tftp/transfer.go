package tftp

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pin "github.com/pin/tftp/v3"
)

// progressThreshold is the size above which a transfer shows progress.
const progressThreshold = 1 << 20

// readBuffer is how much a netascii download reads from its file at a
// time: one read(2) per 64 KiB rather than one per block.
const readBuffer = 64 << 10

// transfer is one download or upload, from the moment its request is
// admitted until it is over. It holds a slot of the Server's limits and
// its file until release.
type transfer struct {
	s      *Server
	id     uint64
	slot   bool // holds a slot; guarded by s.mu
	op     string
	client netip.AddrPort
	name   string
	file   *os.File
	tmp    string // uploads: the temporary name below the root until renamed
	size   int64  // -1: unknown
	start  time.Time
	bytes  atomic.Int64
	shown  time.Time // last progress line; only the transfer's goroutine
	shownN int64     // bytes it showed
	logged atomic.Bool
	ends   atomic.Int32 // pin/tftp transfers: handler and hook done

	mu   sync.Mutex
	conn *blockingConn // downloads the Server sends: the transfer's socket
	once sync.Once
}

// release closes the file, removes an upload's temporary file that was
// not renamed, and gives the slot back. It is safe to call more than
// once.
func (t *transfer) release() {
	t.once.Do(func() {
		if t.file != nil {
			t.file.Close()
		}
		if t.tmp != "" {
			t.s.root.Remove(t.tmp)
		}
		t.s.unreserve(t)
	})
}

// abort makes a transfer in progress stop at its next block.
func (t *transfer) abort() {
	if t.file != nil {
		t.file.Close()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn != nil {
		t.conn.Shutdown()
	}
}

// ended records that pin/tftp's handler or hook is done with t; after
// both, the hook can no longer look it up.
func (t *transfer) ended() {
	if t.ends.Add(1) == 2 {
		t.s.forget(t)
	}
}

// serveRead is pin/tftp's read handler for a netascii download: it
// sends the file opened when the request was admitted.
func (s *Server) serveRead(tok string, rf io.ReaderFrom) error {
	t, err := s.lookup(tok)
	if err != nil {
		return err
	}
	defer t.ended()
	defer t.release()
	t.start = time.Now()
	rf.(pin.OutgoingTransfer).SetSize(t.size)
	_, err = rf.ReadFrom(&countingReader{r: bufio.NewReaderSize(t.file, readBuffer), t: t})
	return err
}

// serveWrite is pin/tftp's write handler: it receives into the
// temporary file and renames it over the name once the upload is
// complete.
func (s *Server) serveWrite(tok string, wt io.WriterTo) error {
	t, err := s.lookup(tok)
	if err != nil {
		return err
	}
	defer t.ended()
	defer t.release()
	t.start = time.Now()
	if n, ok := wt.(pin.IncomingTransfer).Size(); ok {
		t.size = n
	}
	_, err = wt.WriteTo(&countingWriter{w: t.file, t: t})
	if err == nil {
		err = t.file.Sync()
	}
	if cerr := t.file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.root.Rename(t.tmp, rootName(t.name))
	}
	if err != nil {
		return fmt.Errorf("upload of %s: %w", t.name, err)
	}
	t.tmp = ""
	return nil
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

type countingReader struct {
	r io.Reader
	t *transfer
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.t.add(n)
	return n, err
}

type countingWriter struct {
	w io.Writer
	t *transfer
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.t.add(n)
	return n, err
}

// add counts n bytes and redraws the progress line at most 4 times a
// second.
func (t *transfer) add(n int) {
	total := t.bytes.Add(int64(n))
	if t.s.Progress == nil || t.size <= progressThreshold {
		return
	}
	now := time.Now()
	if total == t.shownN || now.Sub(t.shown) < 250*time.Millisecond && total < t.size {
		return
	}
	t.shown, t.shownN = now, total
	t.s.progress.Lock()
	defer t.s.progress.Unlock()
	fmt.Fprintf(t.s.Progress, "\rtftp %s %s %s: %5.1f%% of %s, %s\x1b[K", t.op, t.name, t.client,
		100*float64(total)/float64(t.size), mib(t.size), rate(total, now.Sub(t.start)))
}

// outcome is what the log line of a finished transfer reports.
type outcome struct {
	blksize, window int
	retransmits     int
	mapped          int // blocks sent from the file's mapping
}

// finish ends the progress line and logs the transfer, once.
func (t *transfer) finish(o outcome, err error) {
	if t.logged.Swap(true) {
		return
	}
	n := t.bytes.Load()
	d := time.Since(t.start)
	if t.s.Progress != nil && t.size > progressThreshold {
		t.s.progress.Lock()
		fmt.Fprintln(t.s.Progress)
		t.s.progress.Unlock()
	}
	args := []any{"client", t.client, "op", t.op, "file", t.name, "bytes", n, "blksize", o.blksize,
		"duration", d.Round(time.Millisecond), "rate", rate(n, d),
		"retransmits", o.retransmits, "window", o.window}
	if o.mapped > 0 {
		args = append(args, "mapped", o.mapped)
	}
	if err != nil {
		t.s.log(slog.LevelWarn, "tftp: transfer failed", append(args, "err", err)...)
		return
	}
	t.s.log(slog.LevelInfo, "tftp: transfer", args...)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MiB/s", float64(n)/(1<<20)/d.Seconds())
}

// hook receives pin/tftp's per-transfer statistics.
type hook struct{ s *Server }

func (h hook) OnSuccess(st pin.TransferStats)          { h.s.finished(st, nil) }
func (h hook) OnFailure(st pin.TransferStats, e error) { h.s.finished(st, e) }

// finished logs the transfer pin/tftp reports on. A report without a
// name comes from pin/tftp's request loop: the request it read last
// could not start (no socket: out of descriptors), so that transfer is
// released here and the client told.
func (s *Server) finished(st pin.TransferStats, err error) {
	if st.Filename == "" {
		if t := s.lookupID(s.requests.failed()); t != nil {
			t.release()
			s.forget(t)
			s.refuse(t.client, t.op, t.name, fmt.Errorf("%w: %w", errNotStarted, err))
		}
		return
	}
	t, lerr := s.lookup(st.Filename)
	if lerr != nil {
		return
	}
	blksize := 512
	if v, ok := st.Opts["blksize"]; ok {
		if b, e := strconv.Atoi(v); e == nil {
			blksize = b
		}
	}
	t.finish(outcome{blksize: blksize, window: 1, retransmits: max(0, st.DatagramsSent-st.DatagramsAcked)}, err)
	t.ended()
}
