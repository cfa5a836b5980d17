package boards

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestShippedProfiles checks the rules every shipped profile must keep.
func TestShippedProfiles(t *testing.T) {
	all, err := Catalog{}.All()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range all {
		names[p.Name] = true
		t.Run(p.Name, func(t *testing.T) {
			if want := "embedded:" + p.Name + ".yaml"; p.Source != want {
				t.Errorf("profile %s lives in %s, want %s (file named for the board)", p.Name, p.Source, want)
			}
			if !strings.HasPrefix(p.Docs, "https://") {
				t.Errorf("docs %q: want an https link", p.Docs)
			}
			if !p.UBoot.Prompt.MatchString("Hit any key\r\n" + promptSample(p)) {
				t.Errorf("uboot.prompt %q does not match a prompt line", p.UBoot.Prompt)
			}
			// Output that merely ends like the prompt (crc32 prints
			// "... ==> " before its value) must not pass for one.
			if p.UBoot.Prompt.MatchString("crc32 for 40400000 ... 4070007a =" + promptSample(p)) {
				t.Errorf("uboot.prompt %q matches mid-line: anchor it at a line start with (?m)^", p.UBoot.Prompt)
			}
			if !p.Linux.ShellPrompt.MatchString("/ # ") {
				t.Errorf("linux.shell_prompt %q does not match busybox's root prompt", p.Linux.ShellPrompt)
			}
			for _, pre := range p.CrossCompile {
				if !strings.HasSuffix(pre, "-") {
					t.Errorf("cross_compile prefix %q must end in '-'", pre)
				}
			}
			for _, line := range strings.Split(p.Kernel.Fragment, "\n") {
				if line = strings.TrimSpace(line); line != "" && !kconfigLine.MatchString(line) {
					t.Errorf("kernel.fragment line %q is not CONFIG_X=v or '# CONFIG_X is not set' or a comment", line)
				}
			}
			if b := p.UBoot.Build; b != nil {
				for _, line := range strings.Split(b.Fragment, "\n") {
					if line = strings.TrimSpace(line); line != "" && !kconfigLine.MatchString(line) {
						t.Errorf("uboot.build.fragment line %q is not CONFIG_X=v or '# CONFIG_X is not set' or a comment", line)
					}
				}
			}
			l, err := p.Netboot(Netboot{})
			if err != nil {
				t.Fatalf("default lab: %v", err)
			}
			cmd := p.Bootcmd(l)
			if strings.ContainsAny(cmd, "{}") && !strings.Contains(cmd, "${") {
				t.Errorf("bootcmd %q has an unexpanded placeholder", cmd)
			}
			if n := len("setenv bootargs ") + len(p.Bootargs(Netboot{ServerIP: l.ServerIP, BoardIP: l.BoardIP, Gateway: l.Gateway, Netmask: l.Netmask, Export: "/"})); n >= p.UBoot.CBSize {
				t.Errorf("setenv bootargs with export / is %d characters, over CBSIZE %d", n, p.UBoot.CBSize)
			}
		})
	}
	for _, want := range []string{"mini2440", "qemu-arm", Default} {
		if !names[want] {
			t.Errorf("no shipped profile %q", want)
		}
	}
}

var kconfigLine = regexp.MustCompile(`^(CONFIG_[A-Za-z0-9_]+=.+|# CONFIG_[A-Za-z0-9_]+ is not set|#.*)$`)

func promptSample(p *Profile) string {
	if strings.Contains(p.UBoot.Prompt.String(), "MINI2440") {
		return "MINI2440 # "
	}
	return "=> "
}

// TestBootargsGolden is the classic mini2440 command line, made correct
// for bootrig's NFSv3-over-TCP server.
func TestBootargsGolden(t *testing.T) {
	for _, tc := range []struct {
		board, export, bootargs, bootcmd string
	}{
		{
			board: "mini2440", export: "/srv/mini2440/rootfs",
			bootargs: "noinitrd root=/dev/nfs rw nfsroot=192.168.1.113:/srv/mini2440/rootfs,v3,tcp,nolock " +
				"ip=192.168.1.244:192.168.1.113:192.168.1.1:255.255.255.0::eth0:off console=ttySAC0,115200 init=/linuxrc mem=64M",
			bootcmd: "tftp 0x30008000 uImage; bootm 0x30008000",
		},
		{
			board: "qemu-arm", export: "/",
			bootargs: "noinitrd root=/dev/nfs rw nfsroot=192.168.1.113:/,v3,tcp,nolock,lookupcache=positive,actimeo=1,rsize=1048576,wsize=1048576 " +
				"ip=192.168.1.244:192.168.1.113:192.168.1.1:255.255.255.0::eth0:off console=ttyAMA0,115200 init=/sbin/init",
			bootcmd: "tftp ${kernel_addr_r} uImage; bootm ${kernel_addr_r} - ${fdtcontroladdr}",
		},
	} {
		p, err := Catalog{}.Lookup(tc.board)
		if err != nil {
			t.Fatal(err)
		}
		l, err := p.Netboot(Netboot{
			ServerIP: netip.MustParseAddr("192.168.1.113"), BoardIP: netip.MustParseAddr("192.168.1.244"),
			Gateway: netip.MustParseAddr("192.168.1.1"), Netmask: netip.MustParseAddr("255.255.255.0"),
			Export: tc.export,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Bootargs(l); got != tc.bootargs {
			t.Errorf("%s bootargs:\n got %s\nwant %s", tc.board, got, tc.bootargs)
		}
		if got := p.Bootcmd(l); got != tc.bootcmd {
			t.Errorf("%s bootcmd:\n got %s\nwant %s", tc.board, got, tc.bootcmd)
		}
	}
}

func TestLabErrors(t *testing.T) {
	p, err := Catalog{}.Lookup("mini2440")
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr
	for _, tc := range []struct {
		name string
		lab  Netboot
		want string
	}{
		{"bad netmask", Netboot{Netmask: ip("255.0.255.0")}, "is not a netmask"},
		{"board off-net", Netboot{BoardIP: ip("10.0.0.2")}, "not on the server's network"},
		{"relative export", Netboot{Export: "srv/x"}, "must be an absolute path"},
		{"comma in export", Netboot{Export: "/srv/a,b"}, "without commas"},
		{"ipv6 server", Netboot{ServerIP: ip("fe80::1")}, "not an IPv4 address"},
	} {
		if _, err := p.Netboot(tc.lab); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Lab() = %v, want error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestProfileErrors loads broken profiles and checks each error names the
// file and the field.
func TestProfileErrors(t *testing.T) {
	good, err := shipped.ReadFile("profiles/mini2440.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		s := string(good)
		if !strings.Contains(s, old) {
			t.Fatalf("test setup: %q not in mini2440.yaml", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	for _, tc := range []struct {
		name, yaml, field, want string
		at                      string // on the line the error names ("" for line 1)
	}{
		{"unknown field", edit("arch: arm", "arch: arm\nfavourite_colour: blue"), "favourite_colour", "unknown field", "favourite_colour"},
		{"unknown nested field", edit("  cbsize: 256", "  cbsize: 256\n  cbsise: 256"), "uboot.cbsise", "unknown field", "cbsise"},
		{"missing name", edit("name: mini2440", ""), "name", "missing", ""},
		{"missing prompt", edit("  prompt: '(?m)^MINI2440 # $'", ""), "uboot.prompt", "missing", "uboot:"},
		{"load address over 32 bits", edit("load_addr: 0x30008000", "load_addr: 0x130008000"), "kernel.load_addr", "does not fit in 32 bits", "load_addr"},
		{"load address not a number", edit("load_addr: 0x30008000", "load_addr: 0x3000z000"), "kernel.load_addr", "is not a number", "load_addr"},
		{"load address outside RAM", edit("load_addr: 0x30008000", "load_addr: 0x20008000"), "kernel.load_addr", "outside RAM", "load_addr"},
		{"overlapping regions", edit("ramdisk: {addr: 0x31000000", "ramdisk: {addr: 0x30400000"), "memory.regions.kernel", "overlaps memory.regions.ramdisk", "kernel:"},
		{"region outside RAM", edit("ramdisk: {addr: 0x31000000, size: 16M}", "ramdisk: {addr: 0x33000000, size: 32M}"), "memory.regions.ramdisk", "outside RAM", "ramdisk:"},
		{"malformed board ip", edit("board_ip: 192.168.1.244", "board_ip: 192.168.1.300"), "network.board_ip", "192.168.1.300", "board_ip"},
		{"netmask not a mask", edit("netmask: 255.255.255.0", "netmask: 255.0.255.0"), "network.netmask", "is not a netmask", "netmask"},
		{"board off the network", edit("board_ip: 192.168.1.244", "board_ip: 10.1.1.1"), "network.board_ip", "not on the server's network", "board_ip"},
		{"nfs v2", edit("options: v3,tcp,nolock", "options: v2,tcp"), "nfs.options", "NFSv3 only", "options"},
		{"nfs without tcp", edit("options: v3,tcp,nolock", "options: v3,nolock"), "nfs.options", "must include v3 and tcp", "options"},
		{"bad regexp", edit("  prompt: '(?m)^MINI2440 # $'", "  prompt: 'MINI2440 (# $'"), "uboot.prompt", "bad regexp", "prompt"},
		{"dynamic busybox", edit("CONFIG_STATIC=y", "CONFIG_STATIC=n"), "busybox.fragment", "CONFIG_STATIC=y", "fragment"},
		{"tiny cbsize", edit("cbsize: 256", "cbsize: 16"), "uboot.cbsize", "too small", "cbsize"},
		{"bad dtb", edit("dtb: none", "dtb: maybe"), "kernel.dtb", "want none", "dtb"},
		{"bootdelay below -2", edit("bootdelay: 3", "bootdelay: -5"), "uboot.bootdelay", "-5: want seconds (0 or more), -1 (no autoboot)", "bootdelay"},
		{"cbsize not a number", edit("cbsize: 256", "cbsize: fast"), "uboot.cbsize", `"fast" is text, want a whole number`, "cbsize"},
		{"hush not a boolean", edit("hush: false", "hush: maybe"), "uboot.hush", `"maybe" is text, want true or false`, "hush"},
		{"char_delay without a unit", edit("char_delay: 0s", "char_delay: 5"), "uboot.char_delay", `want a duration with a unit, such as "10ms"`, "char_delay"},
		{"cbsize a list", edit("cbsize: 256", "cbsize: [256]"), "uboot.cbsize", "is a list, want a whole number", "cbsize"},
		{"unknown field lists the known ones", edit("  cbsize: 256", "  cbsize: 256\n  fiffo: 3"), "uboot.fiffo", "unknown field (known here: prompt, autoboot, interrupt_key, bootdelay, cbsize, fifo,", "fiffo"},
		{"unknown root", edit("arch: arm", "arch: arm\nroot: ramfs"), "root", "want nfs, initramfs or builtin", "root:"},
		{"initramfs without a ramdisk region", edit("    ramdisk: {addr: 0x31000000, size: 16M}\n", "") + "root: initramfs\n", "memory.regions.ramdisk", "missing", "regions:"},
		{"limit not a size", edit("arch: arm", "arch: arm\nlimits: {kernel: 2X}"), "limits", "is not a size", "limits:"},
		{"unknown cpu", edit("cpu: arm920t", "cpu: arm9000"), "cpu", "unknown", "cpu:"},
		{"missing cpu", edit("cpu: arm920t", ""), "cpu", "missing", ""},
		{"unknown level", edit("march: armv4t", "march: armv4x"), "march", "unknown level", "march:"},
		{"level above the cpu", edit("march: armv4t", "march: armv5te"), "march", "v5TE, newer than the arm920t's v4T", "march:"},
		{"hard float without VFP", edit("float: soft", "float: hard"), "float", "needs a VFP unit and the arm920t has none", "float:"},
		{"bad float", edit("float: soft", "float: sometimes"), "float", "want soft, softfp or hard", "float:"},
		{"qemu model of another level", edit("qemu_cpu: ti925t", "qemu_cpu: arm926"), "qemu_cpu", "arm926 executes v5TEJ, the arm920t v4T: use ti925t", "qemu_cpu:"},
		{"empty file", "", "", "file is empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "broken.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadFile(path)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("LoadFile = %v, want an ErrInvalid", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.File != path {
				t.Fatalf("error %v does not name the file %s", err, path)
			}
			if tc.field != "" && fe.Field != tc.field {
				t.Errorf("error %q names field %q, want %q", err, fe.Field, tc.field)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if lines := strings.Split(tc.yaml, "\n"); tc.yaml != "" && (fe.Line < 1 || fe.Line > len(lines) || !strings.Contains(lines[fe.Line-1], tc.at)) {
				t.Errorf("error %q names line %d, want the line with %q", err, fe.Line, tc.at)
			} else if tc.yaml != "" && !strings.Contains(err.Error(), fmt.Sprintf("%s:%d: ", path, fe.Line)) {
				t.Errorf("error %q does not say file:line", err)
			}
			for _, leak := range []string{"ParseAddr(", "!!", "boards/", "boards.", "time.Duration", "unmarshal"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q leaks %q", err, leak)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestUserProfiles(t *testing.T) {
	dir := t.TempDir()
	good, _ := shipped.ReadFile("profiles/mini2440.yaml")
	mine := strings.Replace(string(good), "name: mini2440", "name: my-mini2440", 1)
	mine = strings.Replace(mine, "192.168.1.244", "192.168.1.50", 1)
	if err := os.WriteFile(filepath.Join(dir, "my-mini2440.yaml"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	c := Catalog{UserDir: dir}
	p, err := c.Lookup("my-mini2440")
	if err != nil {
		t.Fatal(err)
	}
	if p.Network.BoardIP.String() != "192.168.1.50" || p.Source != filepath.Join(dir, "my-mini2440.yaml") {
		t.Errorf("user profile: board IP %s from %s", p.Network.BoardIP, p.Source)
	}
	if _, err := c.Lookup("mini2440"); err != nil {
		t.Errorf("shipped profile lost when a user dir exists: %v", err)
	}
	_, err = c.Lookup("nope")
	if !errors.Is(err, ErrUnknownBoard) || !strings.Contains(err.Error(), "my-mini2440, qemu-arm") {
		t.Errorf("Lookup(nope) = %v, want ErrUnknownBoard listing the known boards", err)
	}
	// A broken user profile is the error when it is the board asked for
	// (by file name or by its name: field), else one warning.
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("name: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(good), "name: mini2440", "name: other", 1) + "colour: blue\n"
	if err := os.WriteFile(filepath.Join(dir, "x.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	var warnings []error
	c.Warn = func(err error) { warnings = append(warnings, err) }
	if p, err := c.Lookup("mini2440"); err != nil || p.Name != "mini2440" || len(warnings) != 2 {
		t.Errorf("Lookup(mini2440) beside broken files: %v, %v; want the board and two warnings", err, warnings)
	}
	for _, name := range []string{"bad", "other", "x"} {
		if _, err := c.Lookup(name); !errors.Is(err, ErrInvalid) {
			t.Errorf("Lookup(%s), a broken file: %v, want ErrInvalid", name, err)
		}
	}
	warnings = nil
	shipped, _ := Catalog{}.All()
	if all, err := c.All(); err != nil || len(all) != len(shipped)+1 || len(warnings) != 2 || !strings.Contains(warnings[0].Error(), "bad.yaml") {
		t.Errorf("All beside broken files: %d, %v, warnings %v", len(all), err, warnings)
	}
}

func TestParseSizeAddr(t *testing.T) {
	for in, want := range map[string]Size{"64M": 64 << 20, "256K": 256 << 10, "0x40000": 0x40000, "1G": 1 << 30, "4G": 4 << 30} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "M", "5G", "-1", "12Q"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) succeeded", bad)
		}
	}
	if a, err := ParseAddr("0xffffffff"); err != nil || a != 0xffffffff {
		t.Errorf("ParseAddr(0xffffffff) = %v, %v", a, err)
	}
	if _, err := ParseAddr("0x100000000"); err == nil {
		t.Error("ParseAddr(0x100000000) succeeded")
	}
}
