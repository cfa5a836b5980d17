package portmap

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/internal/netnstest"
)

// TestRpcinfo points the real rpcinfo (package rpcbind) at the server
// on port 111, in a private network namespace.
func TestRpcinfo(t *testing.T) {
	type result struct {
		argv string
		code int
		out  string
	}
	var results []result
	err := netnstest.Run(func() error {
		l, err := net.Listen("tcp", ":111")
		if err != nil {
			return err
		}
		pc, err := net.ListenPacket("udp", ":111")
		if err != nil {
			return err
		}
		srv := &Server{Mappings: testTable}
		errc := make(chan error, 2)
		go func() { errc <- srv.Serve(l) }()
		go func() { errc <- srv.ServeUDP(pc) }()
		for _, argv := range [][]string{
			{"rpcinfo", "-p", "127.0.0.1"},
			{"rpcinfo", "127.0.0.1"},
			{"rpcinfo", "-t", "127.0.0.1", "100000", "2"},
			{"rpcinfo", "-u", "127.0.0.1", "100000", "4"},
			{"rpcinfo", "-u", "127.0.0.1", "100000", "7"},
			{"rpcinfo", "-l", "127.0.0.1", "100005", "3"},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
			cancel()
			var ee *exec.ExitError
			code := 0
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				return err
			}
			results = append(results, result{strings.Join(argv, " "), code, string(out)})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			return err
		}
		for range 2 {
			if err := <-errc; !errors.Is(err, ErrServerClosed) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		code int
		has  []string
	}{
		{0, []string{"100000    2   tcp    111  portmapper", "100003    3   tcp   2049  nfs", "100005    3   udp  20048  mountd", "100005    1   udp  20048  mountd"}},
		{0, []string{"100000    4    udp       127.0.0.1.0.111        portmapper superuser", "100003    3    tcp       127.0.0.1.8.1          nfs        superuser"}},
		{0, []string{"program 100000 version 2 ready and waiting"}},
		{0, []string{"program 100000 version 4 ready and waiting"}},
		{1, []string{"low version = 2, high version = 4"}},
		{0, []string{"100005  3    inet/udp/clts           127.0.0.1.78.80", "100005  3    inet/tcp/cots_ord       127.0.0.1.78.80"}},
	}
	for i, r := range results {
		t.Logf("%s (exit %d):\n%s", r.argv, r.code, r.out)
		if r.code != want[i].code {
			t.Errorf("%s: exit %d, want %d", r.argv, r.code, want[i].code)
		}
		for _, s := range want[i].has {
			if !strings.Contains(r.out, s) {
				t.Errorf("%s: output lacks %q", r.argv, s)
			}
		}
	}
}
