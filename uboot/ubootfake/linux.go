package ubootfake

import (
	"context"
	"fmt"
	"strings"
)

// Kernel is what the fake board's Linux does once bootm starts it. It
// reads its command line (bootargs) as Linux does: root=/dev/nfs with
// nfsroot= and ip= (Documentation/admin-guide/nfs/nfsroot.rst) mounts
// the root over NFS, else the root is the initramfs; init= or rdinit=
// names init.
type Kernel struct {
	// MountNFS mounts the NFS root, server and path as nfsroot= and ip=
	// give them. It may block while ctx lasts (the power stays on), as
	// a kernel retrying a server that does not answer; an error is the
	// kernel giving up on its root. Nil mounts at once.
	MountNFS func(ctx context.Context, server, path string) error
	// Panic, when set, is what the kernel panics with instead of
	// starting init (kernel/panic.c: "Kernel panic - not syncing: %s"),
	// such as "No working init found.  Try passing init= option to
	// kernel." or "Attempted to kill init! exitcode=0x00000004".
	Panic string
	// AskFirst is an inittab whose console shell is ::askfirst: init
	// asks for Enter before it starts the shell. Without it the shell
	// is ::respawn (as in bootrig's rootfs) and starts at once.
	AskFirst bool
}

// cmdline is a kernel command line's parameters; a later one wins.
type cmdline map[string]string

func parseCmdline(s string) cmdline {
	c := cmdline{}
	for _, w := range strings.Fields(s) {
		k, v, _ := strings.Cut(w, "=")
		c[k] = v
	}
	return c
}

// printk prints lines as the kernel's console does, each with its
// timestamp (CONFIG_PRINTK_TIME).
type printk struct {
	b  *Board
	us int64 // microseconds since the kernel started
}

func (k *printk) line(step int64, format string, a ...any) {
	k.us += step
	k.b.printf("[%5d.%06d] %s\r\n", k.us/1e6, k.us%1e6, fmt.Sprintf(format, a...))
}

// linux boots the fake kernel with command line args, and then is its
// console until a reset or a power cut.
func (b *Board) linux(ctx context.Context, args string, initrd bool) error {
	b.mu.Lock()
	kernel := b.kernel
	b.mu.Unlock()
	c := parseCmdline(args)
	k := &printk{b: b}
	k.line(0, "Booting Linux on physical CPU 0x0")
	k.line(0, "Linux version 6.1.0 (bootrig@fake) (arm-linux-gnueabi-gcc (Debian 12.2.0-14) 12.2.0) #1 SMP")
	k.line(0, "Kernel command line: %s", args)
	if initrd {
		k.line(400000, "Trying to unpack rootfs image as initramfs...")
		k.line(50000, "Freeing initrd memory: 1024K")
	}
	if ip, ok := c["ip"]; ok {
		k.ipConfig(ip)
	}
	if c["root"] == "/dev/nfs" {
		server, path := nfsRoot(c)
		if kernel.MountNFS != nil {
			if err := kernel.MountNFS(ctx, server, path); err != nil {
				// (After a power cut nothing prints, and halt returns.)
				k.line(100000, "VFS: Unable to mount root fs via NFS.")
				k.line(1000, "VFS: Cannot open root device \"nfs\" or unknown-block(0,255): error -6")
				return k.panic(1000, "VFS: Unable to mount root fs on unknown-block(0,255)")
			}
		}
		k.line(100000, "VFS: Mounted root (nfs filesystem) on device 0:14.")
	}
	k.line(100000, "Freeing unused kernel image (initmem) memory: 1024K")
	init := c["init"]
	if c["root"] != "/dev/nfs" {
		init = c["rdinit"]
	}
	if init == "" {
		init = "/sbin/init"
	}
	k.line(100000, "Run %s as init process", init)
	if kernel.Panic != "" {
		return k.panic(50000, kernel.Panic)
	}
	return b.busybox(args, kernel.AskFirst)
}

// panic is kernel/panic.c's panic(): its line, the end of its trace, and
// a CPU that does nothing more.
func (k *printk) panic(step int64, msg string) error {
	k.line(step, "Kernel panic - not syncing: %s", msg)
	k.line(0, "---[ end Kernel panic - not syncing: %s ]---", msg)
	return k.b.halt()
}

// ipConfig is the kernel's IP autoconfiguration report for a static
// ip=client:server:gw:netmask:hostname:device:autoconf.
func (k *printk) ipConfig(ip string) {
	f := append(strings.Split(ip, ":"), make([]string, 7)...)
	k.line(800000, "IP-Config: Complete:")
	k.line(0, "     device=%s, hwaddr=52:54:00:12:34:56, ipaddr=%s, mask=%s, gw=%s", or(f[5], "eth0"), f[0], f[3], f[2])
	k.line(0, "     host=%s, domain=, nis-domain=(none)", or(f[4], f[0]))
	k.line(0, "     bootserver=%s, rootserver=%s, rootpath=", f[1], f[1])
}

// nfsRoot is the server and path of nfsroot=[server:]path[,options];
// the server defaults to ip='s.
func nfsRoot(c cmdline) (server, path string) {
	spec, _, _ := strings.Cut(c["nfsroot"], ",")
	server, path, ok := strings.Cut(spec, ":")
	if !ok {
		server, path = strings.Split(c["ip"]+"::", ":")[1], spec
	}
	return server, path
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// halt is a stopped CPU: a panicked kernel reads no input.
func (b *Board) halt() error {
	for {
		if _, _, err := b.getc(-1); err != nil {
			return err
		}
	}
}

// busybox is busybox init with the console's shell, -/bin/sh, in its
// inittab: respawned when it exits, and with askfirst started only after
// Enter is pressed.
func (b *Board) busybox(cmdline string, askFirst bool) error {
	sh := &shell{b: b, cmdline: cmdline}
	for {
		if askFirst {
			if err := b.askFirst(); err != nil {
				return err
			}
		}
		if err := sh.interact(); err != nil {
			return err
		}
	}
}

// askFirst is init's askfirst: its question, then a wait for Enter.
func (b *Board) askFirst() error {
	b.print("\r\nPlease press Enter to activate this console. ")
	for {
		ch, _, err := b.getc(-1)
		if err != nil {
			return err
		}
		if ch == '\r' || ch == '\n' {
			b.print("\r\n")
			return nil
		}
	}
}
