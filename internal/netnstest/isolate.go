package netnstest

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"
)

// isolateEnv names the test a child process runs isolated.
const isolateEnv = "BOOTRIG_NETNS_TEST"

// Isolate runs the calling top-level test again in a child process of
// its own, in a new network namespace with lo up, and reports whether
// the caller is that child. Use it where Run's one-thread namespace is
// not enough: when the code under test opens sockets from goroutines of
// its own, or the test changes process-wide state (resource limits):
//
//	if !netnstest.Isolate(t) {
//		return // the child ran the test
//	}
//
// The parent fails t when the child fails, with the child's output.
func Isolate(t *testing.T) bool {
	t.Helper()
	if os.Getenv(isolateEnv) == t.Name() {
		lo, err := netlink.LinkByName("lo")
		if err == nil {
			err = netlink.LinkSetUp(lo)
		}
		if err != nil {
			t.Fatalf("bringing lo up in the test's network namespace: %v", err)
		}
		return true
	}
	cmd := exec.Command(os.Args[0], isolateArgs(t.Name())...)
	cmd.Env = append(os.Environ(), isolateEnv+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s in a new network namespace: %v\n%s", t.Name(), err, out)
	}
	t.Logf("in a new network namespace:\n%s", out)
	return false
}

// isolateArgs is the child's command line: the one test, verbose (its
// PASS line is the parent's proof that it ran).
func isolateArgs(name string) []string {
	return []string{"-test.run=^" + name + "$", "-test.count=1", "-test.v"}
}
