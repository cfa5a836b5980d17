package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/uboot"
)

func mkimageCommand() *cli.Command {
	return &cli.Command{
		Name:  "mkimage",
		Usage: "write or list U-Boot legacy images, like U-Boot's mkimage",
		UsageText: "bootrig mkimage [-A arch] [-O os] [-T type] [-C comp] [-a addr] [-e ep] [-n name] -d datafile[:datafile...] image\n" +
			"   bootrig mkimage -l [--json] image\n\n" +
			"The flags mean what they mean to U-Boot's mkimage (legacy images only), defaults included;\n" +
			"the output is byte for byte mkimage's. The timestamp is SOURCE_DATE_EPOCH when set, else now.\n" +
			"Example, a kernel for the mini2440 and a boot script:\n" +
			"   bootrig mkimage -A arm -O linux -T kernel -C none -a 0x30008000 -e 0x30008000 -n Linux -d zImage uImage\n" +
			"   bootrig mkimage -A arm -O linux -T script -C none -n boot -d boot.cmd boot.scr",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "A", Aliases: []string{"architecture"}, Value: "powerpc", Usage: "set architecture to `arch` (arm, arm64, ...)"},
			&cli.StringFlag{Name: "O", Aliases: []string{"os"}, Value: "linux", Usage: "set operating system to `os`"},
			&cli.StringFlag{Name: "T", Aliases: []string{"type"}, Value: "kernel", Usage: "set image type to `type` (kernel, ramdisk, multi, script, firmware, standalone, ...)"},
			&cli.StringFlag{Name: "C", Aliases: []string{"compression"}, Value: "gzip", Usage: "record compression `comp` (none, gzip, bzip2, lzma, lzo, lz4, zstd); the data is not compressed"},
			&cli.StringFlag{Name: "a", Aliases: []string{"load-address"}, Value: "0", Usage: "set load address to `addr` (hex)"},
			&cli.StringFlag{Name: "e", Aliases: []string{"entry-point"}, Usage: "set entry point to `ep` (hex; default: the load address)"},
			&cli.StringFlag{Name: "n", Aliases: []string{"config"}, Usage: "set image name to `name` (32 bytes kept)"},
			&cli.StringFlag{Name: "d", Aliases: []string{"image"}, Usage: "use image data from `datafile[:datafile...]` (several for multi and script)"},
			&cli.BoolFlag{Name: "s", Aliases: []string{"no-copy"}, Usage: "create an image with no data"},
			&cli.BoolFlag{Name: "l", Aliases: []string{"list"}, Usage: "list image header information"},
			&cli.BoolFlag{Name: "json", Usage: "list the image as JSON (names as -A, -O, -T, -C take them)"},
		},
		Action: runMkimage,
	}
}

// mkimageJob is a parsed mkimage command line.
type mkimageJob struct {
	list  bool
	image string
	h     uboot.Header
	files []string // none: a header-only image
}

func runMkimage(c *cli.Context) error {
	job, err := parseMkimage(c)
	if err != nil {
		return err
	}
	if !job.list {
		if job.h.Time, err = uboot.BuildTime(); err != nil {
			return err
		}
		if _, err := uboot.WriteFile(job.image, job.h, job.files...); err != nil {
			return err
		}
	}
	// Like mkimage, list the image after writing it, verified from disk.
	f, err := os.Open(job.image)
	if err != nil {
		return err
	}
	defer f.Close()
	img, err := uboot.Verify(f)
	if err != nil {
		return fmt.Errorf("%s: %w", job.image, err)
	}
	if c.Bool("json") {
		return writeJSON(c, img)
	}
	return img.List(c.App.Writer, nil)
}

// parseMkimage turns the flags into a job; bad usage is a usage error.
func parseMkimage(c *cli.Context) (mkimageJob, error) {
	const cmd = "mkimage"
	var job mkimageJob
	switch c.NArg() {
	case 0:
		return job, usagef(cmd, "missing the image file")
	case 1:
		job.image = c.Args().First()
	default:
		return job, usagef(cmd, "unexpected argument %q after the image file (flags go before it)", c.Args().Get(1))
	}
	if job.list = c.Bool("l"); job.list {
		if c.IsSet("d") {
			return job, usagef(cmd, "-l lists an image; it takes no -d")
		}
		return job, nil
	}
	h, err := mkimageHeader(c)
	if err != nil {
		return job, usagef(cmd, "%v", err)
	}
	job.h = h
	if d := c.String("d"); d != "" && !c.Bool("s") {
		job.files = strings.Split(d, ":")
	} else if !c.Bool("s") {
		return job, usagef(cmd, "missing -d datafile (or -s for an image with no data)")
	}
	return job, nil
}

// mkimageHeader reads -A -O -T -C -a -e -n.
func mkimageHeader(c *cli.Context) (uboot.Header, error) {
	var h uboot.Header
	var err error
	if h.Arch, err = uboot.ParseArch(c.String("A")); err != nil {
		return h, fmt.Errorf("-A: %w", err)
	}
	if h.OS, err = uboot.ParseOS(c.String("O")); err != nil {
		return h, fmt.Errorf("-O: %w", err)
	}
	if h.OS == uboot.OSTEE {
		return h, errors.New("-O tee: mkimage takes the addresses from the OP-TEE header; bootrig does not")
	}
	if h.Type, err = uboot.ParseType(c.String("T")); err != nil {
		return h, fmt.Errorf("-T: %w", err)
	}
	if h.Comp, err = uboot.ParseComp(c.String("C")); err != nil {
		return h, fmt.Errorf("-C: %w", err)
	}
	if h.Load, err = hex32("-a", c.String("a")); err != nil {
		return h, err
	}
	h.Entry = h.Load
	if c.IsSet("e") {
		if h.Entry, err = hex32("-e", c.String("e")); err != nil {
			return h, err
		}
	}
	h.Name = c.String("n")
	return h, nil
}

// hex32 parses an address as mkimage does: hex, with or without 0x.
func hex32(flag, s string) (uint32, error) {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 32)
	if err != nil {
		return 0, fmt.Errorf("%s %q: want a hex address of at most 32 bits, such as 0x30008000", flag, s)
	}
	return uint32(v), nil
}
