package ubootfake

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// readUntil reads the console until want has arrived, and returns all
// it read.
func readUntil(t *testing.T, b *Board, want string) string {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	for !strings.Contains(string(got), want) {
		n, err := b.Read(buf)
		if err != nil {
			t.Fatalf("console: %v, waiting for %q after %q", err, want, got)
		}
		got = append(got, buf[:n]...)
	}
	return string(got)
}

// TestPowerSwitch: power on starts U-Boot from reset (banner,
// environment, countdown); a key typed while the board is off is lost,
// so the countdown after the next power-on runs out and autoboot runs
// bootcmd; a board that is on stays as it is on power-on.
func TestPowerSwitch(t *testing.T) {
	b := New(Modern(), WithPowerOff(), WithSecond(20*time.Millisecond))
	defer b.Close()
	b.Write([]byte(" ")) // nobody home
	b.PowerOn()
	readUntil(t, b, "Hit any key to stop autoboot:  2")
	b.Write([]byte(" "))
	readUntil(t, b, "\b\b\b 0 \r\n=> ")
	b.PowerOff()
	b.Write([]byte(" ")) // lost with the power
	b.PowerOn()
	got := readUntil(t, b, "## Error: \"distro_bootcmd\" not defined\r\n=> ")
	if !strings.Contains(got, Modern().Banner) || !strings.Contains(got, "Hit any key to stop autoboot:  2 \b\b\b 1 \b\b\b 0 \r\n") {
		t.Errorf("after a power cycle: %q; want the banner and a countdown run out", got)
	}
	b.PowerOn() // on already: nothing happens
	b.Write([]byte("echo still here\r"))
	if got := readUntil(t, b, "still here\r\n=> "); strings.Contains(got, "U-Boot 20") {
		t.Errorf("power on of a board that is on reset it: %q", got)
	}
}

// TestAutobootDelay: bootdelay comes from the environment as U-Boot's
// bootdelay_process reads it; -1 stops at the prompt, -2 boots at once
// without a countdown.
func TestAutobootDelay(t *testing.T) {
	for _, tc := range []struct {
		delay string
		want  string // printed after "Err:   serial\r\n"
	}{
		{"0", "Hit any key to stop autoboot:  0 \r\n## Error: \"x\" not defined\r\n=> "},
		{"-1", "=> "},
		{"-2", "## Error: \"x\" not defined\r\n=> "},
	} {
		b := New(Modern(), WithSaved(map[string]string{"bootdelay": tc.delay, "bootcmd": "run x"}))
		got := readUntil(t, b, "=> ")
		b.Close()
		if _, after, _ := strings.Cut(got, "Err:   serial\r\n"); after != tc.want {
			t.Errorf("bootdelay %s: %q, want %q", tc.delay, after, tc.want)
		}
	}
}

// TestNetboot: tftp and bootm as U-Boot prints them (net/tftp.c,
// boot/bootm.c): a download, a file the server lacks, a server that
// never answers, bootm of what was loaded and of nothing.
func TestNetboot(t *testing.T) {
	env := map[string]string{"bootdelay": "-1", "ipaddr": "192.168.7.2", "serverip": "192.168.7.1", "bootargs": "console=ttyAMA0 rdinit=/init"}
	for _, tc := range []struct {
		name  string
		tftp  map[string]int
		line  string
		wants []string
	}{
		{"download and boot", map[string]int{"uImage": 100 << 10}, "tftp 0x40400000 uImage; bootm 0x40400000",
			[]string{"TFTP from server 192.168.7.1; our IP address is 192.168.7.2\r\nFilename 'uImage'.\r\nLoad address: 0x40400000\r\n",
				"Bytes transferred = 102400 (19000 hex)\r\n", "## Booting kernel from Legacy Image at 40400000 ...",
				"Starting kernel ...", "Kernel command line: console=ttyAMA0 rdinit=/init\r\n", "Run /init as init process\r\n/ # "}},
		{"file not found", map[string]int{}, "tftp 0x40400000 uImage; bootm 0x40400000",
			[]string{"TFTP error: 'File not found' (1)\r\nNot retrying...\r\n", "Wrong Image Format for bootm command\r\nERROR: can't get kernel image!\r\n=> "}},
		{"no server", nil, "tftp 0x40400000 uImage",
			[]string{"Loading: *\bT T T T T T T T T T \r\nRetry count exceeded; starting again\r\n=> "}},
		{"ramdisk missing", map[string]int{"uImage": 1 << 10}, "tftp 0x40400000 uImage; bootm 0x40400000 0x44000000",
			[]string{"Wrong Ramdisk Image Format\r\nRamdisk image is corrupt or invalid\r\n=> "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New(Modern(), WithSaved(env), WithTFTP(tc.tftp), WithSecond(10*time.Millisecond))
			defer b.Close()
			readUntil(t, b, "=> ")
			b.Write([]byte(tc.line + "\r"))
			got := readUntil(t, b, tc.wants[len(tc.wants)-1])
			for _, w := range tc.wants {
				if !strings.Contains(got, w) {
					t.Errorf("console lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestKernel: the kernel's NFS root (nfsroot= and ip=, as the kernel's
// nfsroot.rst documents them), its mount failing, and its panic.
func TestKernel(t *testing.T) {
	const nfs = "root=/dev/nfs nfsroot=192.168.7.1:/srv/rootfs,v3,tcp ip=192.168.7.2:192.168.7.1:192.168.7.1:255.255.255.0::eth0:off"
	refused := errors.New("refused")
	for _, tc := range []struct {
		name   string
		args   string
		mount  error
		panic  string
		want   string
		server string
	}{
		{"NFS root", nfs, nil, "", "VFS: Mounted root (nfs filesystem) on device 0:14.\r\n", "192.168.7.1:/srv/rootfs"},
		{"server from ip=", "root=/dev/nfs nfsroot=/srv/rootfs ip=192.168.7.2:192.168.7.9::255.255.255.0::eth0:off", nil, "",
			"IP-Config: Complete:\r\n", "192.168.7.9:/srv/rootfs"},
		{"mount refused", nfs, refused, "", "VFS: Unable to mount root fs via NFS.\r\n", "192.168.7.1:/srv/rootfs"},
		{"panic", nfs, nil, "No working init found.", "Run /sbin/init as init process\r\n[    1.150000] Kernel panic - not syncing: No working init found.\r\n", "192.168.7.1:/srv/rootfs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var mounted string
			k := Kernel{Panic: tc.panic, MountNFS: func(_ context.Context, server, path string) error {
				mu.Lock()
				mounted = server + ":" + path
				mu.Unlock()
				return tc.mount
			}}
			env := map[string]string{"bootdelay": "-1", "ipaddr": "192.168.7.2", "serverip": "192.168.7.1", "bootargs": tc.args}
			b := New(Modern(), WithSaved(env), WithTFTP(map[string]int{"uImage": 1 << 10}), WithKernel(k))
			defer b.Close()
			readUntil(t, b, "=> ")
			b.Write([]byte("tftp 0x40400000 uImage; bootm 0x40400000\r"))
			end := "Run /sbin/init as init process\r\n" // after the mount
			if tc.mount != nil || tc.panic != "" {
				end = "]---\r\n"
			}
			got := readUntil(t, b, end)
			if !strings.Contains(got, tc.want) {
				t.Errorf("console lacks %q:\n%s", tc.want, got)
			}
			mu.Lock()
			defer mu.Unlock()
			if mounted != tc.server {
				t.Errorf("mounted %q, want %q", mounted, tc.server)
			}
		})
	}
}

// TestShell: the console shell's lists, quoting, $? and commands, as
// POSIX sh and busybox print them.
func TestShell(t *testing.T) {
	for _, tc := range []struct {
		line   string
		out    string
		status int
	}{
		{"echo a  b", "a b\r\n", 0},
		{`echo "a  b" 'c  $?'`, "a  b c  $?\r\n", 0},
		{`echo b''R12B; false; echo b''R12E $?`, "bR12B\r\nbR12E 1\r\n", 0},
		{"echo -n x", "x", 0},
		{`printf '%s=%d\n' a 1 b 2`, "a=1\r\nb=2\r\n", 0},
		{`sh -c 'exit 7'`, "", 7},
		{`sh -c 'false; true'; echo $?`, "0\r\n", 0},
		{"( echo in; exit 4 ); echo $?", "in\r\n4\r\n", 0},
		{"( exit 5 )", "", 5},
		{`( echo ')'; false )`, ")\r\n", 1},
		{"cat /proc/cmdline", "console=ttyAMA0\r\n", 0},
		{"cat /etc/nothing", "cat: can't open '/etc/nothing': No such file or directory\r\n", 1},
		{"uname -m", "armv7l\r\n", 0},
		{"uname -sr", "Linux 6.1.0\r\n", 0},
		{"frob", "-sh: frob: not found\r\n", 127},
		{`echo a\;b; echo $HOME ${HOME}x`, "a;b\r\n/ /x\r\n", 0},
		{"echo $", "$\r\n", 0},
	} {
		b := &Board{powered: true}
		b.cond = sync.NewCond(&b.mu)
		sh := &shell{b: b, cmdline: "console=ttyAMA0"}
		if err := sh.run(tc.line); err != nil {
			t.Errorf("%q: %v", tc.line, err)
		}
		if string(b.out) != tc.out || sh.status != tc.status {
			t.Errorf("%q: %q, status %d; want %q, %d", tc.line, b.out, sh.status, tc.out, tc.status)
		}
	}
}
