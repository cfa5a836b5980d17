package tftp

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	pin "github.com/pin/tftp/v3"
)

// progressThreshold is the size above which a transfer shows progress.
const progressThreshold = 1 << 20

// transfer is one download or upload in progress.
type transfer struct {
	s      *Server
	op     string
	client netip.AddrPort
	name   string
	file   *os.File
	size   int64 // -1: unknown
	start  time.Time
	bytes  atomic.Int64
	shown  time.Time // last progress line; only the transfer's goroutine
	shownN int64     // bytes it showed
	logged atomic.Bool
}

func (s *Server) begin(op string, client netip.AddrPort, name string, p *pending) *transfer {
	t := &transfer{s: s, op: op, client: client, name: name, file: p.file, size: p.size, start: time.Now()}
	s.mu.Lock()
	s.active[transferKey(client, name)] = t
	s.mu.Unlock()
	return t
}

func (s *Server) end(t *transfer) {
	s.mu.Lock()
	if s.active[transferKey(t.client, t.name)] == t {
		delete(s.active, transferKey(t.client, t.name))
	}
	s.mu.Unlock()
}

// serveRead is pin/tftp's read handler: it sends the file handle opened
// when the request was checked.
func (s *Server) serveRead(name string, rf io.ReaderFrom) error {
	ot := rf.(pin.OutgoingTransfer)
	ra := ot.RemoteAddr()
	client := unmap(ra.AddrPort())
	p, err := s.take(client, name)
	if err != nil {
		return err
	}
	defer p.file.Close()
	t := s.begin("read", client, name, p)
	defer s.end(t)
	ot.SetSize(p.size)
	// One read(2) per 256 KiB rather than one per block.
	_, err = rf.ReadFrom(&countingReader{r: bufio.NewReaderSize(p.file, 256<<10), t: t})
	return err
}

// serveWrite is pin/tftp's write handler: it receives into the
// temporary file and renames it over name once the upload is complete.
func (s *Server) serveWrite(name string, wt io.WriterTo) error {
	it := wt.(pin.IncomingTransfer)
	ra := it.RemoteAddr()
	client := unmap(ra.AddrPort())
	p, err := s.take(client, name)
	if err != nil {
		return err
	}
	if n, ok := it.Size(); ok {
		p.size = n
	}
	// pin/tftp reports a finished upload after this returns; the hook
	// (finish) removes t from the active transfers.
	t := s.begin("write", client, name, p)
	_, err = wt.WriteTo(&countingWriter{w: p.file, t: t})
	if err == nil {
		err = p.file.Sync()
	}
	if cerr := p.file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.root.Rename(p.tmp, name)
	}
	if err != nil {
		s.root.Remove(p.tmp)
		return fmt.Errorf("upload of %s: %w", name, err)
	}
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

// finish ends the progress line and logs the transfer, once.
func (t *transfer) finish(stats pin.TransferStats, err error) {
	if t.logged.Swap(true) {
		return
	}
	t.s.end(t)
	n := t.bytes.Load()
	d := time.Since(t.start)
	if t.s.Progress != nil && t.size > progressThreshold {
		t.s.progress.Lock()
		fmt.Fprintln(t.s.Progress)
		t.s.progress.Unlock()
	}
	blksize := 512
	if v, ok := stats.Opts["blksize"]; ok {
		if b, e := strconv.Atoi(v); e == nil {
			blksize = b
		}
	}
	args := []any{"client", t.client, "op", t.op, "file", t.name, "bytes", n, "blksize", blksize,
		"duration", d.Round(time.Millisecond), "rate", rate(n, d),
		"retransmits", max(0, stats.DatagramsSent-stats.DatagramsAcked)}
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

// finished finds the transfer pin/tftp reports on: by client address,
// port (its TID, 0 when an upload failed before the first block) and
// name.
func (s *Server) finished(st pin.TransferStats, err error) {
	if st.Filename == "" {
		return // pin/tftp's request loop: requests reach it pre-checked
	}
	ip, ok := netip.AddrFromSlice(st.RemoteAddr)
	if !ok {
		return
	}
	ip = ip.Unmap()
	s.mu.Lock()
	var t *transfer
	if st.Tid != 0 {
		t = s.active[transferKey(netip.AddrPortFrom(ip, uint16(st.Tid)), st.Filename)]
	} else {
		for _, a := range s.active {
			if a.client.Addr() == ip && a.name == st.Filename && a.bytes.Load() == 0 {
				t = a
				break
			}
		}
	}
	s.mu.Unlock()
	if t == nil {
		s.log(slog.LevelWarn, "tftp: transfer failed", "client", ip, "file", st.Filename, "err", err)
		return
	}
	t.finish(st, err)
}
