package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/internal/doctor"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check (and install) the host tools a board needs",
		UsageText: "bootrig doctor [--board NAME] [--tests] [--bench] [--install] [--dry-run]\n\n" +
			"Example: check and install everything the qemu-arm board and the test suite need:\n" +
			"   sudo bootrig doctor --tests --install",
		Flags: append(boardFlags(),
			&cli.BoolFlag{Name: "install", Usage: "install what is missing with apt-get (Debian/Ubuntu; root or sudo)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "with --install: print the commands, run nothing"},
			&cli.BoolFlag{Name: "tests", Usage: "also check the tools the test suite uses (TFTP and NFS clients, ...)"},
			&cli.BoolFlag{Name: "bench", Usage: "also check the benchmarks' anchor servers (tftpd-hpa, nfs-ganesha)"},
		),
		Action: runDoctor,
	}
}

func runDoctor(c *cli.Context) error {
	p, err := board(c)
	if err != nil {
		return err
	}
	var extra []doctor.Purpose
	if c.Bool("tests") {
		extra = append(extra, doctor.Test)
	}
	if c.Bool("bench") {
		extra = append(extra, doctor.Bench)
	}
	reqs := doctor.Requirements(p, extra...)
	missing := doctor.Missing(reqs)
	if c.Bool("install") && len(missing) > 0 {
		needSrc := false
		for _, r := range missing {
			needSrc = needSrc || r.Sources
		}
		in := doctor.Installer{Apt: doctor.SystemApt, Out: c.App.Writer, DryRun: c.Bool("dry-run")}
		if err := in.Install(c.Context, doctor.Packages(missing), needSrc); err != nil {
			return err
		}
		if c.Bool("dry-run") {
			return nil
		}
		missing = doctor.Missing(reqs)
	}
	printRequirements(c, p.Name, reqs)
	if len(missing) > 0 {
		return fmt.Errorf("%d of %d host requirements missing for board %s; fix: bootrig doctor --install (apt-get install %s)",
			len(missing), len(reqs), p.Name, strings.Join(doctor.Packages(missing), " "))
	}
	fmt.Fprintf(c.App.Writer, "all %d host requirements for board %s are met\n", len(reqs), p.Name)
	return nil
}

func printRequirements(c *cli.Context, board string, reqs []doctor.Requirement) {
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\tREQUIREMENT\tFOR\tDEBIAN PACKAGE\n")
	for _, r := range reqs {
		mark := "ok"
		if !r.Present() {
			mark = "MISSING"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", mark, r.What, r.For, r.Package)
	}
	tw.Flush()
}
