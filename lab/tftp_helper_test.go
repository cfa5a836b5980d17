package lab

import (
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/pin/tftp/v3"
)

// startTestTFTP serves root over TFTP on ip:69 for U-Boot.
func startTestTFTP(t *testing.T, ip netip.Addr, root string) {
	t.Helper()
	s := tftp.NewServer(func(name string, rf io.ReaderFrom) error {
		f, err := os.Open(filepath.Join(root, filepath.Base(name)))
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = rf.ReadFrom(f)
		return err
	}, nil)
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip.AsSlice(), Port: 69})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(pc)
	t.Cleanup(s.Shutdown)
}
