package ubootfake

import (
	"context"
	"strconv"
	"strings"
)

// hashBytes is how much one '#' of a TFTP download stands for: net/tftp.c
// prints one every 10 blocks of 512 bytes, 65 to a line.
const (
	hashBytes     = 10 * 512
	hashesPerLine = 65
	tftpTimeouts  = 10 // TIMEOUT_COUNT: a T each, then "Retry count exceeded"
)

// tftpboot is U-Boot's tftpboot [loadAddress] [bootfilename]
// (cmd/net.c netboot_common, net/tftp.c): one argument is the address
// if it is all hex digits, else the file; the address defaults to
// loadaddr, the file to bootfile.
func (b *Board) tftpboot(args []string) error {
	addr, _ := parseAddr(b.getenv("loadaddr"))
	file := b.getenv("bootfile")
	switch len(args) {
	case 1:
		if a, ok := parseAddr(args[0]); ok {
			addr = a
		} else {
			file = args[0]
		}
	case 2:
		a, ok := parseAddr(args[0])
		if !ok {
			b.print("tftpboot - boot image via network using TFTP protocol\r\n\r\nUsage:\r\ntftpboot [loadAddress] [[hostIPaddr:]bootfilename]\r\n")
			return nil
		}
		addr, file = a, args[1]
	}
	for _, v := range []string{"ipaddr", "serverip"} {
		if b.getenv(v) == "" {
			b.printf("*** ERROR: `%s' not set\r\n", v)
			return nil
		}
	}
	if b.modern() {
		b.printf("Using %s device\r\n", b.d.NIC)
	}
	b.printf("TFTP from server %s; our IP address is %s\r\nFilename '%s'.\r\nLoad address: 0x%x\r\nLoading: *\b", b.getenv("serverip"), b.getenv("ipaddr"), file, addr)
	b.mu.Lock()
	size, found := b.tftp[file]
	answers := b.tftp != nil
	b.mu.Unlock()
	switch {
	case !answers:
		return b.tftpTimeout()
	case !found:
		b.print("\r\nTFTP error: 'File not found' (1)\r\nNot retrying...\r\n")
		return nil
	}
	b.printHashes(size)
	if b.modern() {
		b.print("\t 12.5 MiB/s\r\n")
	}
	b.printf("done\r\nBytes transferred = %d (%x hex)\r\n", size, size)
	b.mu.Lock()
	b.ram[addr] = loaded{name: file, size: size}
	b.env["filesize"] = strconv.FormatInt(int64(size), 16)
	b.env["fileaddr"] = strconv.FormatUint(addr, 16)
	b.mu.Unlock()
	return nil
}

// tftpTimeout is a server that never answers: a T per timeout, then
// U-Boot gives up.
func (b *Board) tftpTimeout() error {
	for range tftpTimeouts {
		if err := b.sleep(b.second / 5); err != nil {
			return err
		}
		b.print("T ")
	}
	b.print("\r\nRetry count exceeded; starting again\r\n")
	return nil
}

func (b *Board) printHashes(size int) {
	var s strings.Builder
	for i := range max(1, size/hashBytes) {
		if i > 0 && i%hashesPerLine == 0 {
			s.WriteString("\r\n\t ")
		}
		s.WriteByte('#')
	}
	b.print(s.String() + "\r\n")
}

// bootm is U-Boot's bootm [addr [initrd[:size]] [fdt]]] for a legacy
// image: what tftp loaded at addr is booted, with the ramdisk at initrd
// unless that is "-"; nothing there is U-Boot's refusal.
func (b *Board) bootm(ctx context.Context, args []string) error {
	addr, _ := parseAddr(b.getenv("loadaddr"))
	if len(args) > 0 {
		addr, _ = parseAddr(args[0])
	}
	withInitrd := len(args) > 1 && args[1] != "-"
	b.mu.Lock()
	kernel, ok := b.ram[addr]
	initrd := loaded{}
	if withInitrd {
		a, _ := parseAddr(args[1])
		initrd = b.ram[a]
	}
	b.mu.Unlock()
	if !ok {
		b.print("Wrong Image Format for bootm command\r\nERROR: can't get kernel image!\r\n")
		return nil
	}
	b.printf("## Booting kernel from Legacy Image at %08x ...\r\n   Image Name:   Linux-6.1.0\r\n   Image Type:   ARM Linux Kernel Image (uncompressed)\r\n"+
		"   Data Size:    %d Bytes\r\n   Load Address: 40008000\r\n   Entry Point:  40008000\r\n   Verifying Checksum ... OK\r\n", addr, max(0, kernel.size-64))
	if withInitrd {
		if initrd.name == "" {
			b.print("Wrong Ramdisk Image Format\r\nRamdisk image is corrupt or invalid\r\n")
			return nil
		}
		b.printf("## Loading init Ramdisk from Legacy Image at %s ...\r\n   Verifying Checksum ... OK\r\n", strings.TrimPrefix(args[1], "0x"))
	}
	b.print("   Loading Kernel Image\r\n\r\nStarting kernel ...\r\n\r\n")
	return b.linux(ctx, b.getenv("bootargs"), withInitrd)
}

// nboot is U-Boot 1.3's nboot [loadAddr] [partition]: the kernel image
// in NAND's kernel partition, loaded for bootm.
func (b *Board) nboot(args []string) {
	addr, _ := parseAddr(b.getenv("loadaddr"))
	if len(args) > 0 {
		addr, _ = parseAddr(args[0])
	}
	size := b.d.NANDKernel
	b.printf("\r\nLoading from NAND 64MiB 3,3V 8-bit, offset 0x60000\r\n   Image Name:   Linux-2.6.32.2\r\n"+
		"   Image Type:   ARM Linux Kernel Image (uncompressed)\r\n   Data Size:    %d Bytes\r\n   Load Address: 30008000\r\n   Entry Point:  30008000\r\n", size-64)
	b.mu.Lock()
	b.ram[addr] = loaded{name: "nand:kernel", size: size}
	b.mu.Unlock()
}

// parseAddr reads an address as U-Boot does: hex, with or without 0x.
func parseAddr(s string) (uint64, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 64)
	return n, err == nil
}

// modern is a U-Boot of the driver model era (2023), not the 2009 fork.
func (b *Board) modern() bool { return !b.d.OldCountdown }
