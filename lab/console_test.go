package lab

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/term"
)

// testConsole is a minimal console for this package's own tests: the pty
// in raw mode, one reader keeping every byte, and waits on the output.
type testConsole struct {
	f    *os.File
	mu   sync.Mutex
	cond *sync.Cond
	buf  bytes.Buffer
	err  error
	seen int // bytes before this offset were consumed by waits
}

func openTestConsole(t *testing.T, path string) *testConsole {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Raw before the board sends anything: a cooked pty echoes the
	// board's output back to it as input.
	if _, err := term.MakeRaw(int(f.Fd())); err != nil {
		t.Fatal(err)
	}
	c := &testConsole{f: f}
	c.cond = sync.NewCond(&c.mu)
	go c.read()
	t.Cleanup(func() { f.Close() })
	return c
}

func (c *testConsole) read() {
	b := make([]byte, 4096)
	for {
		n, err := c.f.Read(b)
		c.mu.Lock()
		c.buf.Write(b[:n])
		if err != nil {
			c.err = err
		}
		c.cond.Broadcast()
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// wait waits for re in the output after the last match and returns the
// text up to and including the match.
func (c *testConsole) wait(t *testing.T, re string, d time.Duration) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	timer := time.AfterFunc(d, func() { c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() })
	defer timer.Stop()
	deadline := time.Now().Add(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		rest := c.buf.Bytes()[c.seen:]
		if loc := rx.FindIndex(rest); loc != nil {
			c.seen += loc[1]
			return string(rest[:loc[1]])
		}
		if c.err != nil || time.Now().After(deadline) {
			t.Fatalf("console: no %q within %v (err %v); last output:\n%s", re, d, c.err, tail(rest, 600))
		}
		c.cond.Wait()
	}
}

func (c *testConsole) send(t *testing.T, format string, args ...any) {
	t.Helper()
	if _, err := fmt.Fprintf(c.f, format, args...); err != nil {
		t.Fatal(err)
	}
}

// bytes is everything received so far.
func (c *testConsole) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf.Bytes()...)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
