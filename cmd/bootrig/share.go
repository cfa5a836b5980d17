package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/bootrig/bootrig/boards"
	"github.com/bootrig/bootrig/serialcon"
)

// shareFlags serve the board's console on the network.
func shareFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "share",
			Usage: "serve the board's console on `SPEC`, rfc2217://HOST:PORT or tcp://HOST:PORT (repeatable): every client reads, the first to type writes"},
		// What up's lab namespace inherits: the listeners made on the
		// host, as fds 3, 4, ..., and the specs they serve.
		&cli.StringFlag{Name: "share-fds", Hidden: true},
	}
}

// sharedListener is one --share listener.
type sharedListener struct {
	l    net.Listener
	kind serialcon.Kind
	spec string // with the port it got: rfc2217://127.0.0.1:40001
}

// shareSpecsFlag is --share, checked: rfc2217:// and tcp:// only.
func shareSpecsFlag(c *cli.Context) ([]serialcon.Spec, error) {
	var sps []serialcon.Spec
	for _, s := range c.StringSlice("share") {
		sp, err := serialcon.ParseSpec(s)
		if err == nil && sp.Kind != serialcon.TCP && sp.Kind != serialcon.RFC2217 {
			err = errors.New("want rfc2217://HOST:PORT or tcp://HOST:PORT")
		}
		if err != nil {
			return nil, usagef(c.Command.FullName(), "--share %s: %v", s, err)
		}
		sps = append(sps, sp)
	}
	return sps, nil
}

// listenShares opens --share's listeners on this process's network.
func listenShares(c *cli.Context) ([]sharedListener, error) {
	sps, err := shareSpecsFlag(c)
	if err != nil {
		return nil, err
	}
	var ls []sharedListener
	for _, sp := range sps {
		l, err := net.Listen("tcp", sp.Addr)
		if err != nil {
			closeShares(ls)
			return nil, fmt.Errorf("--share %s: %w", sp, err)
		}
		ls = append(ls, sharedListener{l: l, kind: sp.Kind, spec: string(sp.Kind) + "://" + l.Addr().String()})
	}
	return ls, nil
}

// inheritedShares are the listeners the host side handed down
// (--share-fds), else listenShares.
func inheritedShares(c *cli.Context) ([]sharedListener, error) {
	if !c.IsSet("share-fds") {
		return listenShares(c)
	}
	var ls []sharedListener
	for i, spec := range strings.Split(c.String("share-fds"), ",") {
		sp, err := serialcon.ParseSpec(spec)
		if err != nil {
			return nil, fmt.Errorf("--share-fds: %w", err)
		}
		l, err := net.FileListener(os.NewFile(uintptr(3+i), spec))
		if err != nil {
			closeShares(ls)
			return nil, fmt.Errorf("--share-fds %s: fd %d: %w", spec, 3+i, err)
		}
		ls = append(ls, sharedListener{l: l, kind: sp.Kind, spec: spec})
	}
	return ls, nil
}

// shareHandoff is how to hand ls to a child process: its files and the
// --share-fds argument.
func shareHandoff(ls []sharedListener) ([]*os.File, []string, error) {
	if len(ls) == 0 {
		return nil, nil, nil
	}
	var files []*os.File
	var specs []string
	for _, s := range ls {
		f, err := s.l.(*net.TCPListener).File()
		if err != nil {
			return nil, nil, fmt.Errorf("--share %s: %w", s.spec, err)
		}
		files = append(files, f)
		specs = append(specs, s.spec)
	}
	return files, []string{"--share-fds", strings.Join(specs, ",")}, nil
}

func closeShares(ls []sharedListener) {
	for _, s := range ls {
		s.l.Close()
	}
}

func shareSpecs(ls []sharedListener) []string {
	var specs []string
	for _, s := range ls {
		specs = append(specs, s.spec)
	}
	return specs
}

// consoleShare serves a console on the listeners once it is open.
type consoleShare struct {
	ls    []sharedListener
	share *serialcon.Share
	notes io.Writer
	name  string
	port  string // the console's port spec; "" for QEMU's pty
}

// start serves con on every listener (up's OnConsole).
func (cs *consoleShare) start(con serialcon.Console) {
	if len(cs.ls) == 0 {
		return
	}
	cs.share = &serialcon.Share{Console: con, Name: cs.name, Line: shareLine(cs.port, con)}
	for _, s := range cs.ls {
		go cs.share.Serve(s.l, s.kind)
		fmt.Fprintf(cs.notes, "bootrig: console of %s shared on %s\n", cs.name, s.spec)
	}
}

// shareLine is the line RFC 2217 clients of a shared console set: the
// tty's when the port is a tty device (a real board's serial port), else
// one fixed at the spec's settings (a TCP port); for QEMU's pty, nil:
// the share's emulated UART, which takes any settings.
func shareLine(port string, con serialcon.Console) serialcon.LineControl {
	sp, err := serialcon.ParseSpec(port)
	if err != nil {
		return nil
	}
	if lc, ok := con.(serialcon.LineControl); ok && sp.Kind == serialcon.Device {
		return lc
	}
	return serialcon.FixedLine(sp.Line)
}

func (cs *consoleShare) close() {
	if cs.share != nil {
		cs.share.Close()
	} else {
		closeShares(cs.ls)
	}
}

// serveConsole serves an open console on ls (--share) until
// Ctrl-C (bootrig console --share).
func serveConsole(c *cli.Context, board string, con *console, ls []sharedListener) error {
	cs := &consoleShare{ls: ls, notes: c.App.ErrWriter, name: board + "/" + instance(c, board).Label(), port: con.spec}
	cs.start(con.Session)
	defer cs.close()
	select {
	case <-c.Context.Done():
		return nil
	case <-con.Done():
		return con.Err()
	}
}

// bootDelay is --bootdelay, else the profile's when the console is
// shared (a client may want U-Boot's prompt), else 0.
func bootDelay(c *cli.Context, p *boards.Profile) int {
	if c.IsSet("bootdelay") || len(c.StringSlice("share")) == 0 {
		return c.Int("bootdelay")
	}
	return p.UBoot.Bootdelay
}
