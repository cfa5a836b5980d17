package nfsroot

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootrig/bootrig/internal/netnstest"
	"github.com/bootrig/bootrig/internal/oncrpc"

	"github.com/bootrig/bootrig/portmap"
)

// TestLibnfsThroughPortmapper mounts with libnfs-utils using only the
// standard ports, 111 (our portmapper) and 2049, in a private network
// namespace: the way a kernel that looks ports up finds the server.
func TestLibnfsThroughPortmapper(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rootfs")
	writeFile(t, filepath.Join(dir, "etc", "hostname"), []byte("board\n"))
	writeFile(t, filepath.Join(dir, "bin", "sh"), []byte("#!"))
	x := openExport(t, dir, ExportOptions{})
	defer x.Close()
	var outs []string
	logs := &lockedBuffer{}
	err := netnstest.Run(func() error {
		srv := &Server{Export: x, Log: slog.New(slog.NewTextHandler(logs, nil))}
		l, err := net.Listen("tcp", ":2049")
		if err != nil {
			return err
		}
		pc, err := net.ListenPacket("udp", ":2049")
		if err != nil {
			return err
		}
		go srv.Serve(l)
		go srv.ServePacket(pc)
		var table []portmap.Mapping
		for _, prog := range []uint32{oncrpc.ProgNFS, oncrpc.ProgMount} {
			for _, prot := range []portmap.Protocol{portmap.TCP, portmap.UDP} {
				table = append(table, portmap.Mapping{Prog: prog, Vers: 3, Prot: prot, Port: 2049})
			}
		}
		pm := &portmap.Server{Mappings: table}
		pl, err := net.Listen("tcp", ":111")
		if err != nil {
			return err
		}
		ppc, err := net.ListenPacket("udp", ":111")
		if err != nil {
			return err
		}
		go pm.Serve(pl)
		go pm.ServeUDP(ppc)
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			pm.Shutdown(ctx)
		}()
		for _, argv := range [][]string{
			{"nfs-ls", "nfs://127.0.0.1/?version=3"},
			{"nfs-cat", "nfs://127.0.0.1/etc/hostname?version=3"},
			{"nfs-ls", "nfs://127.0.0.1/bin"},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
			cancel()
			if err != nil {
				return fmt.Errorf("%q: %v\n%s", argv, err, out)
			}
			outs = append(outs, string(out))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, logs)
	}
	if !strings.Contains(outs[0], " etc\n") || outs[1] != "board\n" || !strings.Contains(outs[2], " sh\n") {
		t.Errorf("through the portmapper: %q", outs)
	}
}
