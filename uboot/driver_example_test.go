package uboot_test

import (
	"context"
	"fmt"
	"time"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/lab/up"
	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/uboot"
	"github.com/bootrig/bootrig/uboot/ubootfake"
)

// Driving a board's U-Boot: sync at the prompt, set a variable (verified
// by printenv), read it back. The fake mini2440 stands in for the port a
// real program gets from serialcon.Open(ctx, "/dev/ttyUSB0").
func ExampleDriver() {
	board := ubootfake.New(ubootfake.Mini2440())
	s := serialcon.NewSession(board, serialcon.Options{Name: "fake"})
	defer s.Close()

	p, _ := boards.Lookup("mini2440")
	d := uboot.New(s, up.Dialect(p))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := d.Sync(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if err := d.Setenv(ctx, "bootcmd", "tftp 0x30008000 uImage; bootm 0x30008000"); err != nil {
		fmt.Println(err)
		return
	}
	v, err := d.Getenv(ctx, "bootcmd")
	fmt.Println(v, err)
	// Output: tftp 0x30008000 uImage; bootm 0x30008000 <nil>
}
