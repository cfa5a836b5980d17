package uboot_test

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bootrig/bootrig/uboot"
)

// Wrap a kernel into a uImage, as
// mkimage -A arm -O linux -T kernel -C none -a 0x30008000 -e 0x30008000 -n Linux -d zImage uImage
// does, then read it back and list it as mkimage -l does.
func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	zImage := filepath.Join(dir, "zImage")
	if err := os.WriteFile(zImage, []byte("not really a kernel"), 0o644); err != nil {
		log.Fatal(err)
	}

	h := uboot.Header{
		Name: "Linux", Arch: uboot.ArchARM, OS: uboot.OSLinux, Type: uboot.TypeKernel, Comp: uboot.CompNone,
		Load: 0x30008000, Entry: 0x30008000,
		Time: time.Unix(1700000000, 0), // uboot.BuildTime() in real use: SOURCE_DATE_EPOCH or now
	}
	uImage := filepath.Join(dir, "uImage")
	if _, err := uboot.WriteFile(uImage, h, zImage); err != nil {
		log.Fatal(err)
	}

	f, err := os.Open(uImage)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, err := uboot.Verify(f)
	if err != nil {
		log.Fatal(err)
	}
	if err := img.List(os.Stdout, time.UTC); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Image Name:   Linux
	// Created:      Tue Nov 14 22:13:20 2023
	// Image Type:   ARM Linux Kernel Image (uncompressed)
	// Data Size:    19 Bytes = 0.02 KiB = 0.00 MiB
	// Load Address: 30008000
	// Entry Point:  30008000
}

// A boot script for a board whose console line is too short for a long
// setenv: fetch it over TFTP and run it with `source`.
func ExampleScript() {
	bootargs := "console=ttySAC0,115200 root=/dev/nfs rw nfsroot=192.168.1.113:/srv/mini2440,v3,tcp " +
		"ip=192.168.1.244:192.168.1.113:192.168.1.1:255.255.255.0:mini2440:eth0:off"
	scr, err := uboot.Script([]string{
		"setenv bootargs '" + bootargs + "'",
		"tftp 0x32000000 uImage",
		"bootm 0x32000000",
	}, "bootrig")
	if err != nil {
		log.Fatal(err)
	}
	img, err := uboot.Verify(bytes.NewReader(scr))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(img.Type, img.Parts)
	// Output:
	// Script [216]
}

// An environment image for QEMU's second pflash bank, where Debian's
// qemu_arm U-Boot loads it from at power-on, as
// mkenvimage -s 0x40000 would make it.
func ExampleEnvImage_Marshal() {
	e := uboot.EnvImage{Size: 0x40000, Pad: uboot.ErasedByte}
	img, err := e.Marshal(uboot.SortedEnv(map[string]string{
		"bootdelay": "2",
		"bootargs":  "console=ttyAMA0 root=/dev/nfs",
	}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d bytes, data starts %q\n", len(img), strings.SplitN(string(img[4:]), "\x00\x00", 2)[0])
	vars, err := e.Parse(img)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(vars)
	// Output:
	// 262144 bytes, data starts "bootargs=console=ttyAMA0 root=/dev/nfs\x00bootdelay=2"
	// [{bootargs console=ttyAMA0 root=/dev/nfs} {bootdelay 2}]
}
