package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
)

func bootargsCommand() *cli.Command {
	return &cli.Command{
		Name:  "bootargs",
		Usage: "print the kernel command line and U-Boot bootcmd for a board",
		UsageText: "bootrig bootargs [--board NAME] [--server-ip IP --board-ip IP --gateway IP --netmask MASK --rootfs DIR] [--json]\n\n" +
			"Example: the classic mini2440 lab, root filesystem in /srv/mini2440:\n" +
			"   bootrig bootargs --board mini2440 --server-ip 192.168.1.113 --board-ip 192.168.1.244 \\\n" +
			"      --gateway 192.168.1.1 --netmask 255.255.255.0 --rootfs /srv/mini2440\n" +
			"Example: the same board with its root in RAM (tftp of the kernel and uInitrd, bootm both):\n" +
			"   bootrig bootargs --board mini2440 --root initramfs",
		Flags:  append(append(boardFlags(), labFlags()...), jsonFlag),
		Action: runBootargs,
	}
}

func runBootargs(c *cli.Context) error {
	if c.Args().Present() {
		return usagef("bootargs", "unexpected argument %q (flags go before it?)", c.Args().First())
	}
	p, err := board(c)
	if err != nil {
		return err
	}
	l, err := netboot(c, p)
	if err != nil {
		return err
	}
	out := struct {
		Board    string `json:"board"`
		Bootargs string `json:"bootargs"`
		Bootcmd  string `json:"bootcmd"`
		ServerIP string `json:"serverip"`
		BoardIP  string `json:"ipaddr"`
		Export   string `json:"export"`
		Root     string `json:"root"`
		Image    string `json:"image"`
		Initrd   string `json:"initrd,omitempty"`
	}{p.Name, p.Bootargs(l), p.Bootcmd(l), l.ServerIP.String(), l.BoardIP.String(), l.Export, string(l.Root), l.Image, ""}
	if l.Root == boards.RootInitramfs {
		out.Initrd = l.Initrd
	}
	if c.Bool("json") {
		return writeJSON(c, out)
	}
	fmt.Fprintf(c.App.Writer, "bootargs=%s\nbootcmd=%s\n", out.Bootargs, out.Bootcmd)
	return nil
}
