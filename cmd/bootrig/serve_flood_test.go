package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bootrig/bootrig/internal/bootrigtest"
	"github.com/bootrig/bootrig/internal/netnstest"
	"github.com/bootrig/bootrig/internal/oncrpc"
)

// nfsCall is an NFSv3 or MOUNT v3 call with AUTH_UNIX root credentials.
func nfsCall(xid, prog, proc uint32, args func(e *oncrpc.Encoder)) []byte {
	e := &oncrpc.Encoder{}
	for _, v := range []uint32{xid, oncrpc.Call, 2, prog, 3, proc, oncrpc.AuthUnix} {
		e.Uint32(v)
	}
	cred := &oncrpc.Encoder{}
	for _, v := range []uint32{0, 0, 0, 0, 0} { // stamp, empty machine name, uid, gid, no groups
		cred.Uint32(v)
	}
	e.Opaque(cred.B)
	e.Uint32(oncrpc.AuthNone)
	e.Uint32(0)
	args(e)
	m := oncrpc.RecordMark(len(e.B))
	return append(m[:], e.B...)
}

// nfsResult sends a call on c and returns the results after the
// accepted reply's header and the status word, which must be 0.
func nfsResult(c net.Conn, call []byte) (oncrpc.Decoder, error) {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(call); err != nil {
		return oncrpc.Decoder{}, err
	}
	rec, err := oncrpc.ReadRecord(bufio.NewReader(c), 2<<20)
	if err != nil {
		return oncrpc.Decoder{}, err
	}
	d := oncrpc.NewDecoder(rec)
	words := []uint32{d.Uint32(), d.Uint32(), d.Uint32(), d.Uint32(), d.Uint32(), d.Uint32(), d.Uint32()}
	if words[2] != oncrpc.MsgAccepted || words[5] != oncrpc.Success || words[6] != 0 {
		return d, fmt.Errorf("reply %v", words)
	}
	return d, d.Err()
}

// lookupFile mounts / and looks name up in it.
func lookupFile(addr, name string) ([]byte, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	d, err := nfsResult(c, nfsCall(1, oncrpc.ProgMount, 1, func(e *oncrpc.Encoder) { e.String("/") }))
	if err != nil {
		return nil, fmt.Errorf("MNT: %w", err)
	}
	root := d.Opaque(64)
	d, err = nfsResult(c, nfsCall(2, oncrpc.ProgNFS, 3, func(e *oncrpc.Encoder) { e.Opaque(root); e.String(name) }))
	if err != nil {
		return nil, fmt.Errorf("LOOKUP %s: %w", name, err)
	}
	return d.Opaque(64), nil
}

func readCall(xid uint32, fh []byte, off uint64, count uint32) []byte {
	return nfsCall(xid, oncrpc.ProgNFS, 6, func(e *oncrpc.Encoder) { e.Opaque(fh); e.Uint64(off); e.Uint32(count) })
}

// peakRSS is a process's peak resident memory (VmHWM), in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}

// logWatch collects a process's log lines and tells when one containing
// a string has arrived.
type logWatch struct {
	mu    sync.Mutex
	lines strings.Builder
	more  chan struct{} // closed and replaced on each line
}

func watchLog(r *bufio.Scanner) *logWatch {
	w := &logWatch{more: make(chan struct{})}
	go func() {
		for r.Scan() {
			w.mu.Lock()
			w.lines.WriteString(r.Text() + "\n")
			close(w.more)
			w.more = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lines.String()
}

// wait waits until a line containing s has been logged.
func (w *logWatch) wait(s string, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		found, more := strings.Contains(w.lines.String(), s), w.more
		w.mu.Unlock()
		if found {
			return nil
		}
		select {
		case <-more:
		case <-deadline:
			return fmt.Errorf("no %q logged in %v", s, timeout)
		}
	}
}

// TestServeNFSFloodBounded floods `bootrig serve`, in a private network
// namespace, as issue 11 did: 100 connections (from 4 loopback
// addresses) each pipelining 16 one-MiB READs whose replies are never
// read. Its resident memory must stay under 300 MB (it reached 1.16 GB),
// the limits must be logged once each, and after the flood it serves.
func TestServeNFSFloodBounded(t *testing.T) {
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	os.MkdirAll(rootfs, 0o755)
	if err := os.WriteFile(filepath.Join(rootfs, "big"), bytes.Repeat([]byte("bootrig!"), 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := bootrigtest.Binary(t)
	var peak int64
	var logs *logWatch
	err := netnstest.Run(func() error {
		cmd := exec.Command(bin, "serve", "--no-tftp", "--listen", "127.0.0.1", "--portmap=false",
			"--insecure-ports", "--rootfs", rootfs, "--allow", "127.0.0.0/8")
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir(), "BOOTRIG_CACHE="+t.TempDir())
		stderr, err := cmd.StderrPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		defer cmd.Process.Kill()
		logs = watchLog(bufio.NewScanner(stderr))
		if err := logs.wait("NFS server exporting", 30*time.Second); err != nil {
			return err
		}
		fh, err := lookupFile("127.0.0.1:2049", "big")
		if err != nil {
			return err
		}
		var flood []net.Conn
		defer func() {
			for _, c := range flood {
				c.Close()
			}
		}()
		for i := range 100 {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%4))}}
			c, err := d.Dial("tcp", "127.0.0.1:2049")
			if err != nil {
				return fmt.Errorf("flood connection %d: %w", i, err)
			}
			flood = append(flood, c)
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			var calls []byte
			for j := range 16 {
				calls = append(calls, readCall(uint32(j), fh, uint64(j%15)<<20, 1<<20)...)
			}
			c.Write(calls) // refused connections fail here: fine
		}
		if err := logs.wait("queued bytes at the limit", 30*time.Second); err != nil {
			return fmt.Errorf("under the flood: %w", err)
		}
		// Hold the flood a while: the server must stay bounded, not
		// just start so.
		time.Sleep(2 * time.Second)
		for _, c := range flood {
			c.Close()
		}
		flood = nil
		// A client that took no part in the flood is served. The server
		// may not have seen every close yet (it counts a connection
		// until it reads its EOF), so a refused connection is retried,
		// as the kernel's client reconnects, for at most 10 s.
		if err := readAfterFlood(fh, 10*time.Second); err != nil {
			return fmt.Errorf("READ after the flood: %w", err)
		}
		if peak, err = peakRSS(cmd.Process.Pid); err != nil {
			return err
		}
		cmd.Process.Signal(syscall.SIGINT)
		return cmd.Wait()
	})
	if err != nil {
		t.Fatalf("%v\nserver log:\n%.4000s", err, logs)
	}
	t.Logf("bootrig serve: peak resident memory %d MB under the flood", peak>>20)
	if peak > 300<<20 {
		t.Errorf("peak resident memory %d MB, want under 300 MB", peak>>20)
	}
	for _, msg := range []string{"the client is at its connection limit", "queued bytes at the limit"} {
		if n := strings.Count(logs.String(), msg); n != 1 {
			t.Errorf("%d log lines %q, want 1:\n%.4000s", n, msg, logs)
		}
	}
}

// readAfterFlood READs 8 bytes of fh from a fresh connection from
// 127.0.0.9, reconnecting while the server refuses the connection, until
// within.
func readAfterFlood(fh []byte, within time.Duration) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9)}, Timeout: 5 * time.Second}
	end := time.Now().Add(within)
	for {
		c, err := d.Dial("tcp", "127.0.0.1:2049")
		if err == nil {
			_, err = nfsResult(c, readCall(99, fh, 0, 8))
			c.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(end) {
			return err
		}
		time.Sleep(100 * time.Millisecond) // the server drains closed connections on its own time
	}
}
