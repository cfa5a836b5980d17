package crossbuild_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/crossbuild"
)

// Build what is stale for the emulated board and hand the results to the
// TFTP and NFS servers.
func ExampleBuild() {
	p, err := boards.Lookup("qemu-arm")
	if err != nil {
		log.Fatal(err)
	}
	res, err := crossbuild.Build(context.Background(), crossbuild.Config{Board: p, Progress: os.Stderr})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("tftp:", res.UImage)
	fmt.Println("nfs:", res.RootFS, "devices:", res.DevTable)
}

// Pack a directory with the board's device nodes into an initramfs that
// U-Boot loads with 'bootm KERNEL INITRD'.
func ExampleInitramfs() {
	table := crossbuild.DeviceTable("ttyAMA0")
	err := crossbuild.Initramfs{Dir: "rootfs", Table: table, UImage: true}.WriteFile("initrd.uImage")
	if err != nil {
		log.Fatal(err)
	}
}
