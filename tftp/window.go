package tftp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// send serves an admitted octet download on a socket of its own and
// releases it when it is over.
func (s *Server) send(t *transfer, r request) {
	defer s.sending.Done()
	defer s.forget(t)
	defer t.release()
	t.start = time.Now()
	conn, err := dialBlocking(t.client)
	if err != nil {
		s.refuse(t.client, t.op, t.name, fmt.Errorf("%w: %w", errNotStarted, err))
		return
	}
	defer conn.Close()
	t.mu.Lock()
	t.conn = conn
	t.mu.Unlock()
	w := s.newWindowSender(conn, t, r.opts)
	defer w.unmap()
	err = w.run()
	t.finish(outcome{blksize: w.blksize, window: w.window, retransmits: w.resent, mapped: w.fromMap}, err)
}

// ErrTimeout: the client stopped answering for Retries timeouts.
var ErrTimeout = errors.New("client stopped answering")

// windowSender sends one file in windows of blocks: a window of blocks
// goes out, then the sender waits for the ACK of one of them and goes
// on from the block after it (RFC 7440 section 4). Without the
// windowsize option the window is one block: RFC 1350's lock-step. Block n holds the
// file's bytes from (n-1)*blksize; the block number on the wire is n
// modulo 65536, so it rolls over to 0 as most clients expect.
type windowSender struct {
	conn    *blockingConn // connected to the client: other sources never reach it
	t       *transfer
	oack    []byte
	blksize int
	window  int
	timeout time.Duration // Timeout: the longest wait for an ACK
	rto     time.Duration // the wait before a window is resent
	srtt    time.Duration // smoothed time from a window to its ACK
	retries int
	pkt     []byte // one DATA packet
	ahead   []byte // the read-ahead buffer
	buf     []byte // the part of it read, the file's bytes from bufOff
	bufOff  int64
	bufEOF  bool   // buf ends at the end of the file
	mapped  []byte // the file, mapped (see sendMapped); nil: read it
	fromMap int    // blocks sent from the mapping
	in      []byte // one received packet
	last    uint64 // the final (short) block, once read; 0 before
	sent    uint64 // the highest block sent
	resent  int    // blocks sent more than once
}

func (s *Server) newWindowSender(conn *blockingConn, t *transfer, opts map[string]string) *windowSender {
	w := &windowSender{conn: conn, t: t, timeout: s.timeout(), rto: s.timeout(), retries: s.retries()}
	w.oack, w.blksize, w.window = s.negotiate(opts, t.size)
	w.pkt = make([]byte, 4+w.blksize)
	w.in = make([]byte, 516)
	binary.BigEndian.PutUint16(w.pkt, opDATA)
	if !w.readsAhead() {
		w.mapped = mapFile(t.file, t.size)
	}
	return w
}

// negotiate answers the options of a download: blksize
// (RFC 2348, 8 to MaxBlockSize), tsize (RFC 2349) and windowsize
// (RFC 7440, 1 to MaxWindowSize); it returns the OACK and the block and
// window sizes. Other options, and values out of range, are left out,
// and so is tsize for an empty file, as pin/tftp does: curl takes
// "tsize 0" in an OACK for an error.
func (s *Server) negotiate(opts map[string]string, size int64) (oack []byte, blksize, window int) {
	blksize, window = 512, 1
	oack = binary.BigEndian.AppendUint16(nil, opOACK)
	add := func(k string, v int64) {
		oack = append(append(append(append(oack, k...), 0), strconv.FormatInt(v, 10)...), 0)
	}
	if n, err := strconv.Atoi(opts["blksize"]); err == nil && n >= 8 && n <= MaxBlockSize {
		blksize = min(n, cmp(s.MaxBlockSize, MaxBlockSize))
		add("blksize", int64(blksize))
	}
	if _, ok := opts["tsize"]; ok && size > 0 {
		add("tsize", size) // curl refuses an OACK with tsize 0
	}
	if n, err := strconv.Atoi(opts["windowsize"]); err == nil && n >= 1 && n <= 65535 {
		window = min(n, cmp(s.MaxWindowSize, DefaultMaxWindowSize), maxWindowSize)
		add("windowsize", int64(window))
	}
	return oack, blksize, window
}

// run sends the OACK, then the file, window by window.
func (w *windowSender) run() error {
	if len(w.oack) > 2 {
		if err := w.sendOACK(); err != nil {
			return err
		}
	}
	next := uint64(1) // the first block not acknowledged
	inflight := 0     // DATA packets sent since the ACK that last moved next on
	for tries, resent := 0, false; ; {
		sent := time.Now()
		k, err := w.sendWindow(next, w.room(inflight))
		if err != nil {
			return err
		}
		inflight += k
		lo := next
		if w.room(inflight) == 0 {
			lo = next - 1 // the client's own resent ACK: it has nothing new
		}
		acked, err := w.awaitAck(lo, w.sent, w.rto)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if w.rto >= w.timeout {
				if tries++; tries > w.retries {
					return fmt.Errorf("%w: no ACK after block %d for %d timeouts of %v or more", ErrTimeout, next-1, tries-1, w.timeout)
				}
			}
			w.rto, resent = min(2*w.rto, maxBackoff*w.timeout), true
			continue
		}
		if err != nil {
			return err
		}
		if acked == next-1 {
			inflight = 0 // the client heard nothing of what was resent: once more
			continue
		}
		if !resent { // Karn: time only windows sent once
			w.measured(time.Since(sent))
		}
		tries, resent, w.rto, inflight = 0, false, w.initialRTO(), 0
		w.t.advance(min(int64(acked)*int64(w.blksize), max(w.t.size, 0)))
		if w.last != 0 && acked == w.last {
			return nil
		}
		next = acked + 1
	}
}

// room is how many blocks may go out now, inflight sent since the last
// ACK that moved the transfer on: a window, and with windows of more
// than one block, resends on timeouts up to resendable blocks in all.
// Once there is no room, the sender waits for the client's own resent
// ACK.
func (w *windowSender) room(inflight int) int {
	if w.window == 1 {
		return 1 // lock-step: one block, resent on every timeout
	}
	return max(min(w.window, w.window+w.resendable()-inflight), 0)
}

// resendable is how many blocks timeouts may resend between two ACKs
// that move the transfer on. A slow client finds them behind the window
// it has not read yet, and some of the last ones still there when the
// next window comes: with windows that fit in maxUnread, a window and
// twice the resends stay within it. A client that asks for a larger
// window says it has room for two.
func (w *windowSender) resendable() int {
	if w.window > maxUnread {
		return w.window
	}
	return min(w.window, (maxUnread-w.window)/2)
}

// maxUnread bounds the packets a client of windows may find waiting
// unread: Debian 12's U-Boot (2023.01) has 32 receive buffers on
// virtio-net and gives them back without telling QEMU, so QEMU stops
// delivering for good once it has filled all 32 (resends piling up
// while a starved board slept did it, and 31 with the host's own
// packets, ARP probes, did too). 24 leaves the rest for such.
const maxUnread = 24

// maxBackoff caps the wait before a window is resent at this many
// Timeouts. The waits grow past Timeout because some clients (atftp)
// ignore a window they already have and re-acknowledge only when their
// own timer fires, which every resend restarts: a client whose
// acknowledgements were lost hears nothing for a while and answers.
const maxBackoff = 8

// measured takes the time a window took to be acknowledged into the
// smoothed time the retransmission timeout is made from.
func (w *windowSender) measured(d time.Duration) {
	if w.srtt == 0 {
		w.srtt = d
	} else {
		w.srtt += (d - w.srtt) / 8
	}
}

// initialRTO is the first wait before a window is resent: three times
// the smoothed time to an ACK, from minRTO up to Timeout (Timeout until
// a time was measured). A window whose tail the client dropped (a
// receive buffer too small for it) is then resent after a few round
// trips rather than after a full Timeout.
func (w *windowSender) initialRTO() time.Duration {
	if w.srtt == 0 {
		return w.timeout
	}
	return min(max(3*w.srtt, minRTO), w.timeout)
}

// minRTO is the shortest wait before a window is resent: long enough
// for a client on a loaded machine (or an emulated board) to answer.
const minRTO = 50 * time.Millisecond

// sendOACK sends the OACK until the client acknowledges it with ACK 0.
func (w *windowSender) sendOACK() error {
	for tries := 0; ; tries++ {
		sent := time.Now()
		if _, err := w.conn.Write(w.oack); err != nil {
			return fmt.Errorf("sending OACK: %w", err)
		}
		_, err := w.awaitAck(0, 0, w.timeout)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			if err == nil && tries == 0 {
				w.measured(time.Since(sent))
				w.rto = w.initialRTO()
			}
			return err
		}
		if tries >= w.retries {
			return fmt.Errorf("%w: no ACK of the OACK after %d timeouts", ErrTimeout, tries+1)
		}
	}
}

// sendWindow sends up to n blocks from first on, stopping after the
// final one; it returns how many it sent.
func (w *windowSender) sendWindow(first uint64, n int) (int, error) {
	k := 0
	for b := first; k < n; b++ {
		if w.last != 0 && b > w.last {
			break
		}
		if err := w.sendBlock(b); err != nil {
			return k, err
		}
		k++
	}
	return k, nil
}

// sendBlock sends block n, from the file's mapping or else read into
// the packet. A short block is the final one.
func (w *windowSender) sendBlock(n uint64) error {
	binary.BigEndian.PutUint16(w.pkt[2:], uint16(n))
	if sent, err := w.sendMapped(n); err != nil {
		return err
	} else if !sent {
		if err := w.sendRead(n); err != nil {
			return err
		}
	}
	if n <= w.sent {
		w.resent++
	}
	w.sent = max(w.sent, n)
	return nil
}

// sendRead sends block n read from the file.
func (w *windowSender) sendRead(n uint64) error {
	k, err := w.fillPacket(n)
	if err != nil {
		return err
	}
	if k < w.blksize {
		w.last = n
	}
	if _, err := w.conn.Write(w.pkt[:4+k]); err != nil {
		return fmt.Errorf("sending block %d: %w", n, err)
	}
	return nil
}

// readAhead is how much of the file a transfer reads at a time: one
// pread(2) per 64 KiB rather than one per block, for blocks of which it
// holds at least minAheadBlocks.
const (
	readAhead      = 64 << 10
	minAheadBlocks = 16
)

// readsAhead reports whether the blocks are small enough (4 KiB or
// less) to come from the read-ahead buffer, where a pread(2) per block
// would cost more than the copy. Larger blocks are sent from the file's
// mapping (sendMapped), and where it cannot serve them read straight
// into the packet, a pread per block as tftpd-hpa reads: copied from a
// read-ahead buffer they cost a second copy per block (measured at
// blksize 8192: 0.91x tftpd-hpa's speed with it, 1.00x without). Small
// blocks are not sent from the mapping: a copy from the read-ahead
// buffer and a write(2) cost less than a writev(2) from the mapping
// (BenchmarkSendBlock, CPU per block: 7% less at blksize 512, 9% at
// 1468 and 10% at 4096), where a larger block costs 12-13% less from
// the mapping than by pread and write.
func (w *windowSender) readsAhead() bool {
	return readAhead/w.blksize >= minAheadBlocks
}

// fillPacket puts the file's bytes of block n into the DATA packet and
// returns how many: small blocks from the read-ahead buffer, larger ones
// read straight into the packet.
func (w *windowSender) fillPacket(n uint64) (int, error) {
	if w.readsAhead() {
		data, err := w.block(n)
		return copy(w.pkt[4:], data), err
	}
	k, err := w.t.file.ReadAt(w.pkt[4:], int64(n-1)*int64(w.blksize))
	if err != nil && err != io.EOF {
		return 0, fmt.Errorf("reading block %d: %w", n, err)
	}
	return k, nil
}

// block returns the file's bytes of block n, from the read-ahead buffer,
// refilled from the block's offset when the block is not in it.
func (w *windowSender) block(n uint64) ([]byte, error) {
	off := int64(n-1) * int64(w.blksize)
	end := off + int64(w.blksize)
	bufEnd := w.bufOff + int64(len(w.buf))
	if off < w.bufOff || off > bufEnd || end > bufEnd && !w.bufEOF || w.buf == nil {
		if w.ahead == nil {
			w.ahead = make([]byte, max(readAhead/w.blksize, 1)*w.blksize)
		}
		k, err := w.t.file.ReadAt(w.ahead, off)
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading block %d: %w", n, err)
		}
		w.buf, w.bufOff, w.bufEOF = w.ahead[:k], off, err == io.EOF
		bufEnd = off + int64(k)
	}
	return w.buf[off-w.bufOff : min(end, bufEnd)-w.bufOff], nil
}

// awaitAck waits up to wait for an ACK of a block from lo to hi and
// returns that block. Other ACKs are ignored: late duplicates, and
// (unless lo is that block) an ACK of the block before the first
// unacknowledged one, which says the client has nothing new.
// Answering that one whenever it comes would resend the window for each
// duplicate ACK a resend brings back, every block twice from then on
// (the Sorcerer's Apprentice of RFC 1350); the timeout resends instead,
// and run listens for it only once it may send nothing more. A timeout is
// returned as a net.Error that says so.
func (w *windowSender) awaitAck(lo, hi uint64, wait time.Duration) (uint64, error) {
	if err := w.conn.SetReadTimeout(wait); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(wait)
	for {
		n, err := w.conn.Read(w.in)
		if err != nil {
			return 0, err
		}
		p := w.in[:n]
		if time.Now().After(deadline) { // a stream of stale packets
			return 0, os.ErrDeadlineExceeded
		}
		if len(p) < 4 {
			continue
		}
		switch binary.BigEndian.Uint16(p) {
		case opACK:
			if d := uint64(binary.BigEndian.Uint16(p[2:]) - uint16(lo)); d <= hi-lo {
				return lo + d, nil
			}
		case opERROR:
			return 0, fmt.Errorf("%w: code %d: %s", errClient, binary.BigEndian.Uint16(p[2:]), cstring(p[4:]))
		}
	}
}

// errClient: the client sent an ERROR packet.
var errClient = errors.New("client sent an error")

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// advance sets the bytes acknowledged, for the log and the progress
// line.
func (t *transfer) advance(total int64) {
	if d := total - t.bytes.Load(); d > 0 {
		t.add(int(d))
	}
}
