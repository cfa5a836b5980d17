package up

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/internal/oncrpc"
	"github.com/bootrig/bootrig/portmap"
)

// callMsg is an RPC call of prog/vers procedure 0 with AUTH_NONE,
// padded with body bytes.
func callMsg(prog, vers uint32, body int) []byte {
	e := &oncrpc.Encoder{}
	for _, v := range []uint32{rand.Uint32(), oncrpc.Call, 2, prog, vers, 0, oncrpc.AuthNone, 0, oncrpc.AuthNone, 0} {
		e.Uint32(v)
	}
	e.B = append(e.B, make([]byte, body)...)
	return e.B
}

// record frames msg as fragments of at most frag bytes.
func record(msg []byte, frag int) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(frag, len(msg))
		mark := uint32(n)
		if n == len(msg) {
			mark |= 1 << 31
		}
		out = binary.BigEndian.AppendUint32(out, mark)
		out, msg = append(out, msg[:n]...), msg[n:]
	}
	return out
}

// TestWatchHooks sends calls of every program, over TCP in small
// fragments and over UDP, to a portmapper fed by the watch's hooks, and
// checks what the watch counted.
func TestWatchHooks(t *testing.T) {
	w := NewWatch()
	srv := &portmap.Server{Hooks: w.Hooks()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	go srv.ServeUDP(pc)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	progs := []uint32{oncrpc.ProgMount, oncrpc.ProgNFS, oncrpc.ProgNFS, oncrpc.ProgPortmap}
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	br := bufio.NewReader(c)
	for i := range 20 {
		// Fragments as small as 5 bytes split the call header itself.
		c.Write(record(callMsg(progs[i%4], 3, i*37), 5+i*3))
		if _, err := oncrpc.ReadRecord(br, 1<<16); err != nil {
			t.Fatal(err)
		}
		u.Write(callMsg(progs[i%4], 3, 0))
		if _, err := u.Read(make([]byte, 512)); err != nil {
			t.Fatal(err)
		}
	}
	if w.conns.Load() != 1 || w.portmap.Load() != 10 || w.mount.Load() != 10 || w.NFSCalls() != 20 || !w.nfsVers[3] {
		t.Errorf("watch counted %d connections, %d portmapper, %d MOUNT, %d NFS calls; want 1, 10, 10, 20",
			w.conns.Load(), w.portmap.Load(), w.mount.Load(), w.NFSCalls())
	}
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name  string
		calls [][2]uint32 // prog, vers
		conns int64
		want  error
		text  string
	}{
		{"nothing at all", nil, 0, ErrNFSUnreachable, "no portmapper query"},
		{"portmapper only", [][2]uint32{{oncrpc.ProgPortmap, 2}}, 0, ErrNFSNoMount, "port or version"},
		{"connected, no call", nil, 3, ErrNFSRefused, "not allowed"},
		{"MOUNT v1 (nfsroot= without v3)", [][2]uint32{{oncrpc.ProgPortmap, 2}, {oncrpc.ProgMount, 1}}, 1, ErrNFSMountFailed, "add v3"},
		{"MOUNT v3, no NFS", [][2]uint32{{oncrpc.ProgMount, 3}}, 1, ErrNFSMountFailed, "export path"},
		{"mounted", [][2]uint32{{oncrpc.ProgMount, 3}, {oncrpc.ProgNFS, 3}}, 1, nil, ""},
	}
	for _, tt := range tests {
		w := NewWatch()
		w.conns.Add(tt.conns)
		for _, c := range tt.calls {
			w.call(c[0], c[1])
		}
		err := w.Diagnose("192.168.7.1")
		if !errors.Is(err, tt.want) || (err != nil && !strings.Contains(err.Error(), tt.text)) {
			t.Errorf("%s: %v, want %v (%q)", tt.name, err, tt.want, tt.text)
		}
	}
}

func TestFlashEnv(t *testing.T) {
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		t.Fatal(err)
	}
	l, err := p.Netboot(boards.Netboot{Export: "/srv/rootfs"})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, v := range FlashEnv(p, l) {
		env[v.Name] = v.Value
	}
	want := map[string]string{
		"bootargs": p.Bootargs(l), "bootcmd": p.Bootcmd(l), "bootdelay": "0", "baudrate": "115200",
		"ipaddr": "192.168.7.2", "serverip": "192.168.7.1", "netmask": "255.255.255.0", "gatewayip": "192.168.7.1",
		"kernel_addr_r": "0x40400000", "ramdisk_addr_r": "0x44000000", "scriptaddr": "0x40200000",
		"tftpwindowsize": "16", // the profile's uboot.env
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
	if len(env) != len(want) {
		t.Errorf("%d variables, want %d: %v", len(env), len(want), env)
	}
	if !strings.Contains(env["bootcmd"], "${kernel_addr_r}") {
		t.Errorf("bootcmd %q does not use kernel_addr_r, which the image must then define", env["bootcmd"])
	}
}

func TestCommandMarkers(t *testing.T) {
	c := NewCommand("echo hi")
	typed := c.Typed()
	// The echo of what was typed never matches a marker; the output does.
	if c.begin().MatchString(typed) || c.end().MatchString(typed) {
		t.Errorf("typed line %q matches its own markers", typed)
	}
	out := "bR" + c.nonce + "B\r\nhi\r\nbR" + c.nonce + "E 0\r\n"
	if !c.begin().MatchString(out) || !c.end().MatchString(out) {
		t.Errorf("markers do not match the shell's output %q", out)
	}
	if NewCommand("x").nonce == c.nonce {
		t.Error("two commands share a nonce")
	}
}
