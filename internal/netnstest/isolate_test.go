package netnstest

import (
	"net"
	"os"
	"slices"
	"testing"
)

// TestIsolate: the child runs in a namespace of its own (its lo has no
// listener the parent opened) and the parent sees it pass.
func TestIsolate(t *testing.T) {
	if os.Getenv(isolateEnv) == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		t.Setenv("NETNSTEST_PARENT_ADDR", l.Addr().String())
	}
	if !Isolate(t) {
		return
	}
	if c, err := net.Dial("tcp", os.Getenv("NETNSTEST_PARENT_ADDR")); err == nil {
		c.Close()
		t.Fatalf("the child reached the parent's listener on %s: same namespace", os.Getenv("NETNSTEST_PARENT_ADDR"))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0") // lo is up
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

func TestIsolateArgs(t *testing.T) {
	if got, want := isolateArgs("TestX"), []string{"-test.run=^TestX$", "-test.count=1", "-test.v"}; !slices.Equal(got, want) {
		t.Errorf("isolateArgs = %q, want %q", got, want)
	}
}
