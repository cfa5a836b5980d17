package up

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bootrig/bootrig/boards"
)

// call is an RPC call message header for prog/vers, padded with body.
func call(prog, vers uint32, body int) []byte {
	b := make([]byte, callHeader+body)
	binary.BigEndian.PutUint32(b[0:], rand.Uint32()) // xid
	binary.BigEndian.PutUint32(b[8:], 2)             // RPC version
	binary.BigEndian.PutUint32(b[12:], prog)
	binary.BigEndian.PutUint32(b[16:], vers)
	return b
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

func TestRecordSniffer(t *testing.T) {
	var stream []byte
	want := map[uint32]int{}
	for i := range 50 {
		prog := []uint32{progMount, progNFS, progNFS, progPortmap}[i%4]
		want[prog]++
		// Fragments as small as 5 bytes split the call header itself.
		stream = append(stream, record(call(prog, 3, i*37), 5+i*3)...)
	}
	for _, chunk := range []int{1, 3, 7, 4096} {
		got := map[uint32]int{}
		s := recordSniffer{start: true, onCall: func(prog, vers uint32) { got[prog]++ }}
		for b := stream; len(b) > 0; {
			n := min(chunk, len(b))
			s.feed(b[:n])
			b = b[n:]
		}
		for prog, n := range want {
			if got[prog] != n {
				t.Errorf("read %d bytes at a time: %d calls of program %d, want %d", chunk, got[prog], prog, n)
			}
		}
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
		{"portmapper only", [][2]uint32{{progPortmap, 2}}, 0, ErrNFSNoMount, "port or version"},
		{"connected, no call", nil, 3, ErrNFSRefused, "not allowed"},
		{"MOUNT v1 (nfsroot= without v3)", [][2]uint32{{progPortmap, 2}, {progMount, 1}}, 1, ErrNFSMountFailed, "add v3"},
		{"MOUNT v3, no NFS", [][2]uint32{{progMount, 3}}, 1, ErrNFSMountFailed, "export path"},
		{"mounted", [][2]uint32{{progMount, 3}, {progNFS, 3}}, 1, nil, ""},
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
	l, err := p.Lab(boards.Lab{Export: "/srv/rootfs"})
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
