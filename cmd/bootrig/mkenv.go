package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/uboot"
)

func mkenvCommand() *cli.Command {
	return &cli.Command{
		Name:  "mkenv",
		Usage: "write a U-Boot environment image, like mkenvimage",
		UsageText: "bootrig uboot mkenv -s SIZE [-r] [-b] [-p BYTE] [-o OUT] [INPUTFILE]\n\n" +
			"INPUTFILE holds name=value lines (empty lines and lines starting with # are skipped,\n" +
			"a backslash ends a line that continues); '-' or none reads standard input, and\n" +
			"-o - or no -o writes standard output. The bytes are mkenvimage's.\n" +
			"Example, the environment of Debian's qemu_arm U-Boot, for QEMU's second pflash bank:\n" +
			"   bootrig uboot mkenv -s 0x40000 -o env.img env.txt",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "s", Usage: "environment `SIZE` in bytes, CONFIG_ENV_SIZE (0x40000, 262144; required)"},
			&cli.BoolFlag{Name: "r", Usage: "redundant environment: a flag byte after the CRC"},
			&cli.BoolFlag{Name: "b", Usage: "the target is big-endian (CRC stored big-endian)"},
			&cli.StringFlag{Name: "p", Value: "0xff", Usage: "fill with `BYTE` after the variables"},
			&cli.StringFlag{Name: "o", Value: "-", Usage: "write the image to `OUT`"},
		},
		Action: runMkenv,
	}
}

func runMkenv(c *cli.Context) error {
	const cmd = "uboot mkenv"
	e, err := mkenvLayout(c)
	if err != nil {
		return usagef(cmd, "%v", err)
	}
	in := "-"
	switch c.NArg() {
	case 0:
	case 1:
		in = c.Args().First()
	default:
		return usagef(cmd, "one input file, not %d", c.NArg())
	}
	var text []byte
	if in == "-" {
		text, err = io.ReadAll(c.App.Reader)
	} else {
		text, err = os.ReadFile(in)
	}
	if err != nil {
		return err
	}
	img, err := e.FromText(text)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if out := c.String("o"); out != "-" {
		return os.WriteFile(out, img, 0o644)
	}
	_, err = c.App.Writer.Write(img)
	return err
}

// mkenvLayout reads -s -r -b -p; numbers as strtol base 0 reads them.
func mkenvLayout(c *cli.Context) (uboot.EnvImage, error) {
	e := uboot.EnvImage{Redundant: c.Bool("r"), BigEndian: c.Bool("b")}
	if !c.IsSet("s") {
		return e, fmt.Errorf("-s SIZE is required: the environment partition's size, CONFIG_ENV_SIZE")
	}
	size, err := strconv.ParseInt(c.String("s"), 0, 32)
	if err != nil || size <= 0 {
		return e, fmt.Errorf("-s %q: want a size in bytes, such as 0x40000", c.String("s"))
	}
	pad, err := strconv.ParseUint(c.String("p"), 0, 8)
	if err != nil {
		return e, fmt.Errorf("-p %q: want a byte, 0 to 0xff", c.String("p"))
	}
	e.Size, e.Pad = int(size), byte(pad)
	return e, nil
}
