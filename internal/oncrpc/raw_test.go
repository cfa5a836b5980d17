package oncrpc

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return s.(*net.TCPConn), c.(*net.TCPConn)
}

// TestRawWriteRead sends records bigger than the socket buffers with
// writeRaw (it must wait in the poller while the socket is full, and
// finish partial writes) and reads them back with rawReader under
// bufio, as serveConn does; then a passed read deadline and the end of
// the stream come back as net.Conn's would.
func TestRawWriteRead(t *testing.T) {
	srv, cli := tcpPair(t)
	srv.SetWriteBuffer(16 << 10)
	cli.SetReadBuffer(16 << 10)
	wraw, err := srv.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rraw, err := cli.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{bytes.Repeat([]byte("x"), 3<<20+1), {1, 2, 3}, bytes.Repeat([]byte("yz"), 600<<10)}
	done := make(chan error, 1)
	go func() {
		for _, b := range bodies {
			mark := RecordMark(len(b))
			if err := writeRaw(wraw, [][]byte{mark[:], b[:len(b)/2], b[len(b)/2:]}); err != nil {
				done <- err
				return
			}
		}
		done <- srv.CloseWrite()
	}()
	br := bufio.NewReader(rawReader{rraw})
	for i, want := range bodies {
		got, err := ReadRecord(br, 4<<20)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("record %d: %d bytes, %v; want %d bytes as sent", i, len(got), err, len(want))
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("writeRaw: %v", err)
	}
	if _, err := ReadRecord(br, 4<<20); err != io.EOF {
		t.Fatalf("after the last record: %v, want EOF", err)
	}

	srv2, cli2 := tcpPair(t)
	defer srv2.Close()
	rraw2, _ := cli2.SyscallConn()
	cli2.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := (rawReader{rraw2}).Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v, want os.ErrDeadlineExceeded", err)
	}
}
