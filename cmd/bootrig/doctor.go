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
		UsageText: "bootrig doctor [--board NAME] [--tests] [--bench] [--install] [--dry-run] [--json]\n\n" +
			"Example: check and install everything the qemu-arm board and the test suite need:\n" +
			"   sudo bootrig doctor --tests --install",
		Flags: append(boardFlags(),
			&cli.BoolFlag{Name: "install", Usage: "install what is missing with apt-get (Debian/Ubuntu; root or sudo)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "with --install: print the commands, run nothing"},
			&cli.BoolFlag{Name: "tests", Usage: "also check the tools the test suite uses (TFTP and NFS clients, ...)"},
			&cli.BoolFlag{Name: "bench", Usage: "also check the benchmarks' anchor servers (tftpd-hpa, nfs-ganesha)"},
			jsonFlag,
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
		out := c.App.Writer
		if c.Bool("json") {
			out = c.App.ErrWriter // stdout is the JSON's
		}
		in := doctor.Installer{Apt: doctor.SystemApt, Out: out, DryRun: c.Bool("dry-run")}
		if err := in.Install(c.Context, doctor.Packages(missing), needSrc); err != nil {
			return err
		}
		if err := in.Unpack(c.Context, doctor.Unpacked(missing)); err != nil {
			return err
		}
		if c.Bool("dry-run") {
			return nil
		}
		missing = doctor.Missing(reqs)
	}
	if c.Bool("json") {
		if err := writeJSON(c, doctorJSON(p.Name, reqs, missing)); err != nil {
			return err
		}
	} else {
		printRequirements(c, p.Name, reqs)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d of %d host requirements missing for board %s; fix: bootrig doctor --install (apt-get install %s)",
			len(missing), len(reqs), p.Name, strings.Join(doctor.Packages(missing), " "))
	}
	if !c.Bool("json") {
		fmt.Fprintf(c.App.Writer, "all %d host requirements for board %s are met\n", len(reqs), p.Name)
	}
	return nil
}

// doctorReport is doctor's --json output.
type doctorReport struct {
	Board        string          `json:"board"`
	OK           bool            `json:"ok"`
	Requirements []doctorReqJSON `json:"requirements"`
	Missing      []string        `json:"missing_packages"`
}

type doctorReqJSON struct {
	What    string `json:"what"`
	For     string `json:"for"`
	Package string `json:"package"`
	Present bool   `json:"present"`
}

func doctorJSON(board string, reqs, missing []doctor.Requirement) doctorReport {
	r := doctorReport{Board: board, OK: len(missing) == 0, Requirements: []doctorReqJSON{}, Missing: doctor.Packages(missing)}
	if r.Missing == nil {
		r.Missing = []string{}
	}
	for _, q := range reqs {
		r.Requirements = append(r.Requirements, doctorReqJSON{What: q.What, For: string(q.For), Package: q.Package, Present: q.Present()})
	}
	return r
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
