package nfsroot

import (
	"bufio"
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	nfs "github.com/willscott/go-nfs"
	"golang.org/x/sys/unix"

	"github.com/bootrig/bootrig/internal/logtest"
	"github.com/bootrig/bootrig/internal/oncrpc"
)

// lockedBuffer collects a server's log.
type lockedBuffer = logtest.Buffer

// harness is a server on a loopback port over an export.
type harness struct {
	t    testing.TB
	dir  string
	x    *Export
	srv  *Server
	addr string
	logs *lockedBuffer
	done chan error
}

func openExport(t testing.TB, dir string, opt ExportOptions) *Export {
	t.Helper()
	x, err := OpenExport(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// start serves dir (opening its export) until the test ends, to clients
// on any port (the test's own are not privileged).
func start(t testing.TB, dir string, srv *Server) *harness {
	t.Helper()
	if srv == nil {
		srv = &Server{}
	}
	srv.InsecurePorts = true
	return serve(t, dir, srv)
}

// serve is start with srv as given.
func serve(t testing.TB, dir string, srv *Server) *harness {
	t.Helper()
	if srv.Export == nil {
		srv.Export = openExport(t, dir, ExportOptions{})
	}
	h := &harness{t: t, dir: dir, x: srv.Export, srv: srv, logs: &lockedBuffer{}, done: make(chan error, 1)}
	if srv.Log == nil { // h.logs collects it at debug level
		srv.Log = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = l.Addr().String()
	go func() { h.done <- srv.Serve(l) }()
	t.Cleanup(func() { h.stop() })
	return h
}

// stop shuts the server down and closes its export (idempotent).
func (h *harness) stop() {
	if h.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.t.Errorf("Shutdown: %v", err)
	}
	if err := <-h.done; err != ErrServerClosed {
		h.t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if err := h.x.Close(); err != nil {
		h.t.Errorf("Export.Close: %v", err)
	}
	h.srv = nil
}

// client speaks raw ONC RPC over one TCP connection.
type client struct {
	t   testing.TB
	c   net.Conn
	br  *bufio.Reader
	xid uint32
	uid uint32
	gid uint32
	// gids are the supplementary groups; none means AUTH_UNIX with
	// none, and noAuth sends AUTH_NONE instead.
	gids   []uint32
	noAuth bool
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	return dialFrom(t, addr, nil)
}

// dialFrom connects from the local address from (nil: any).
func dialFrom(t testing.TB, addr string, from *net.TCPAddr) *client {
	t.Helper()
	d := net.Dialer{}
	if from != nil {
		d.LocalAddr = from
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

// callMsg is an RPC call with c's credentials.
func (c *client) callMsg(xid, prog, vers, proc uint32, args []byte) []byte {
	e := &encoder{}
	for _, v := range []uint32{xid, oncrpc.Call, 2, prog, vers, proc} {
		e.Uint32(v)
	}
	cr := &encoder{}
	cr.Uint32(0)
	cr.String("test")
	cr.Uint32(c.uid)
	cr.Uint32(c.gid)
	cr.Uint32(uint32(len(c.gids)))
	for _, g := range c.gids {
		cr.Uint32(g)
	}
	if c.noAuth {
		e.Uint32(authNone)
		e.Uint32(0)
	} else {
		e.Uint32(authUnix)
		e.Opaque(cr.B)
	}
	e.Uint32(authNone)
	e.Uint32(0)
	e.B = append(e.B, args...)
	return e.B
}

// rawCall sends one call and returns the whole reply record.
func (c *client) rawCall(prog, vers, proc uint32, args []byte) []byte {
	c.t.Helper()
	c.xid++
	msg := c.callMsg(c.xid, prog, vers, proc, args)
	if err := c.send(msg); err != nil {
		c.t.Fatalf("send: %v", err)
	}
	c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	rec, err := oncrpc.ReadRecord(c.br, maxRecord)
	if err != nil {
		c.t.Fatalf("reading reply to %d.%d: %v", prog, proc, err)
	}
	if got := binary.BigEndian.Uint32(rec); got != c.xid {
		c.t.Fatalf("reply xid %d, want %d", got, c.xid)
	}
	return rec
}

func (c *client) send(msg []byte) error {
	out := binary.BigEndian.AppendUint32(nil, 0x80000000|uint32(len(msg)))
	_, err := c.c.Write(append(out, msg...))
	return err
}

// call makes a call that must be accepted with SUCCESS and returns a
// decoder over the results.
func (c *client) call(prog, proc uint32, args []byte) *decoder {
	c.t.Helper()
	rec := c.rawCall(prog, 3, proc, args)
	d := newDecoder(rec[8:])
	if st := d.Uint32(); st != oncrpc.MsgAccepted {
		c.t.Fatalf("call %d.%d: reply_stat %d", prog, proc, st)
	}
	d.Uint32()
	d.Opaque(400)
	if st := d.Uint32(); st != oncrpc.Success {
		c.t.Fatalf("call %d.%d: accept_stat %d", prog, proc, st)
	}
	return d
}

func args(fn func(e *encoder)) []byte {
	e := &encoder{}
	fn(e)
	return e.B
}

func (c *client) mount(path string) []byte {
	c.t.Helper()
	d := c.call(oncrpc.ProgMount, uint32(nfs.MountProcMount), args(func(e *encoder) { e.String(path) }))
	if st := d.Uint32(); st != 0 {
		c.t.Fatalf("MNT %s: status %d", path, st)
	}
	return d.Opaque(64)
}

// attr3 is a decoded fattr3.
type attr3 struct {
	typ, mode, nlink, uid, gid uint32
	size                       uint64
	major, minor               uint32
	fileid                     uint64
	atime, mtime, ctime        nfstime3
}

// nfstime3 is seconds and nanoseconds.
type nfstime3 struct{ sec, nsec uint32 }

func (t nfstime3) after(u nfstime3) bool { return t.sec > u.sec || t.sec == u.sec && t.nsec > u.nsec }

func (d *decoder) attr3() attr3 {
	var a attr3
	a.typ, a.mode, a.nlink, a.uid, a.gid = d.Uint32(), d.Uint32(), d.Uint32(), d.Uint32(), d.Uint32()
	a.size = d.Uint64()
	d.Uint64()
	a.major, a.minor = d.Uint32(), d.Uint32()
	d.Uint64()
	a.fileid = d.Uint64()
	for _, t := range []*nfstime3{&a.atime, &a.mtime, &a.ctime} {
		t.sec, t.nsec = d.Uint32(), d.Uint32()
	}
	return a
}

func (d *decoder) postOpAttr() *attr3 {
	if !d.Bool() {
		return nil
	}
	a := d.attr3()
	return &a
}

func (c *client) getattr(h []byte) (nfs.NFSStatus, attr3) {
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureGetAttr), args(func(e *encoder) { e.Opaque(h) }))
	st := nfs.NFSStatus(d.Uint32())
	if st != nfs.NFSStatusOk {
		return st, attr3{}
	}
	return st, d.attr3()
}

func (c *client) lookup(dir []byte, name string) (nfs.NFSStatus, []byte) {
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureLookup), args(func(e *encoder) { e.Opaque(dir); e.String(name) }))
	st := nfs.NFSStatus(d.Uint32())
	if st != nfs.NFSStatusOk {
		return st, nil
	}
	return st, d.Opaque(64)
}

// mustLookup walks a slash-separated path from dir.
func (c *client) mustLookup(dir []byte, names ...string) []byte {
	c.t.Helper()
	h := dir
	for _, n := range names {
		st, nh := c.lookup(h, n)
		if st != nfs.NFSStatusOk {
			c.t.Fatalf("LOOKUP %q: %v", n, st)
		}
		h = nh
	}
	return h
}

// created decodes a CREATE/MKDIR/SYMLINK/MKNOD result.
func created(d *decoder) (nfs.NFSStatus, []byte) {
	st := nfs.NFSStatus(d.Uint32())
	if st != nfs.NFSStatusOk {
		return st, nil
	}
	var h []byte
	if d.Bool() {
		h = d.Opaque(64)
	}
	return st, h
}

func sattrNone(e *encoder) {
	for range 4 {
		e.Bool(false)
	}
	e.Uint32(timeDont)
	e.Uint32(timeDont)
}

func sattrMode(mode uint32) func(e *encoder) {
	return func(e *encoder) {
		e.Bool(true)
		e.Uint32(mode)
		for range 3 {
			e.Bool(false)
		}
		e.Uint32(timeDont)
		e.Uint32(timeDont)
	}
}

// sattrSize sets only the size.
func sattrSize(size uint64) func(e *encoder) {
	return func(e *encoder) {
		for range 3 {
			e.Bool(false)
		}
		e.Bool(true)
		e.Uint64(size)
		e.Uint32(timeDont)
		e.Uint32(timeDont)
	}
}

// sattrTimes sets atime and mtime: to the server's time, or to sec.
func sattrTimes(how uint32, sec uint32) func(e *encoder) {
	return func(e *encoder) {
		for range 4 {
			e.Bool(false)
		}
		for range 2 {
			e.Uint32(how)
			if how == timeClient {
				e.Uint32(sec)
				e.Uint32(0)
			}
		}
	}
}

// sattrOwner sets only the owner and group.
func sattrOwner(uid, gid uint32) func(e *encoder) {
	return func(e *encoder) {
		e.Bool(false)
		e.Bool(true)
		e.Uint32(uid)
		e.Bool(true)
		e.Uint32(gid)
		e.Bool(false)
		e.Uint32(timeDont)
		e.Uint32(timeDont)
	}
}

func (c *client) create(dir []byte, name string, how uint32, sa func(*encoder)) (nfs.NFSStatus, []byte) {
	return created(c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureCreate), args(func(e *encoder) {
		e.Opaque(dir)
		e.String(name)
		e.Uint32(how)
		if how == createExclusive {
			e.Fixed([]byte("verifier"))
		} else {
			sa(e)
		}
	})))
}

// created calls MKDIR (or another procedure taking diropargs3 and
// sattr3) with the attributes sa.
func (c *client) created(proc nfs.NFSProcedure, dir []byte, name string, sa func(*encoder)) (nfs.NFSStatus, []byte) {
	return created(c.call(oncrpc.ProgNFS, uint32(proc), args(func(e *encoder) {
		e.Opaque(dir)
		e.String(name)
		sa(e)
	})))
}

func (c *client) mkdir(dir []byte, name string) (nfs.NFSStatus, []byte) {
	return created(c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureMkDir), args(func(e *encoder) {
		e.Opaque(dir)
		e.String(name)
		sattrNone(e)
	})))
}

func (c *client) symlink(dir []byte, name, target string) (nfs.NFSStatus, []byte) {
	return created(c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureSymlink), args(func(e *encoder) {
		e.Opaque(dir)
		e.String(name)
		sattrNone(e)
		e.String(target)
	})))
}

func (c *client) mknod(dir []byte, name string, typ nfs.FileType, mode, major, minor uint32) (nfs.NFSStatus, []byte) {
	return created(c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureMkNod), args(func(e *encoder) {
		e.Opaque(dir)
		e.String(name)
		e.Uint32(uint32(typ))
		sattrMode(mode)(e)
		if typ == nfs.FileTypeCharacter || typ == nfs.FileTypeBlock {
			e.Uint32(major)
			e.Uint32(minor)
		}
	})))
}

func (c *client) write(h []byte, off uint64, data []byte, stable uint32) nfs.NFSStatus {
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureWrite), args(func(e *encoder) {
		e.Opaque(h)
		e.Uint64(off)
		e.Uint32(uint32(len(data)))
		e.Uint32(stable)
		e.Opaque(data)
	}))
	return nfs.NFSStatus(d.Uint32())
}

func (c *client) read(h []byte, off uint64, count uint32) (nfs.NFSStatus, []byte) {
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureRead), args(func(e *encoder) {
		e.Opaque(h)
		e.Uint64(off)
		e.Uint32(count)
	}))
	st := nfs.NFSStatus(d.Uint32())
	d.postOpAttr()
	if st != nfs.NFSStatusOk {
		return st, nil
	}
	d.Uint32()
	d.Bool()
	return st, d.Opaque(maxIO)
}

func (c *client) setattr(h []byte, sa func(*encoder)) nfs.NFSStatus {
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureSetAttr), args(func(e *encoder) {
		e.Opaque(h)
		sa(e)
		e.Bool(false)
	}))
	return nfs.NFSStatus(d.Uint32())
}

func (c *client) dirop(proc nfs.NFSProcedure, dir []byte, name string) nfs.NFSStatus {
	d := c.call(oncrpc.ProgNFS, uint32(proc), args(func(e *encoder) { e.Opaque(dir); e.String(name) }))
	return nfs.NFSStatus(d.Uint32())
}

func (c *client) rename(fdir []byte, fname string, tdir []byte, tname string) nfs.NFSStatus {
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureRename), args(func(e *encoder) {
		e.Opaque(fdir)
		e.String(fname)
		e.Opaque(tdir)
		e.String(tname)
	}))
	return nfs.NFSStatus(d.Uint32())
}

func (c *client) link(file, dir []byte, name string) nfs.NFSStatus {
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureLink), args(func(e *encoder) {
		e.Opaque(file)
		e.Opaque(dir)
		e.String(name)
	}))
	return nfs.NFSStatus(d.Uint32())
}

func (c *client) readlink(h []byte) (nfs.NFSStatus, string) {
	d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureReadlink), args(func(e *encoder) { e.Opaque(h) }))
	st := nfs.NFSStatus(d.Uint32())
	d.postOpAttr()
	if st != nfs.NFSStatusOk {
		return st, ""
	}
	return st, d.String(4096)
}

// dirEntry is one READDIRPLUS entry.
type dirEntry struct {
	name   string
	cookie uint64
	attr   *attr3
	handle []byte
}

// readdirplus lists a whole directory with READDIRPLUS, count bytes per
// call; it returns the status of the first failing call.
func (c *client) readdirplus(dir []byte, dircount, maxcount uint32) (nfs.NFSStatus, []dirEntry) {
	var out []dirEntry
	var cookie uint64
	verf := make([]byte, 8)
	for {
		d := c.call(oncrpc.ProgNFS, uint32(nfs.NFSProcedureReadDirPlus), args(func(e *encoder) {
			e.Opaque(dir)
			e.Uint64(cookie)
			e.Fixed(verf)
			e.Uint32(dircount)
			e.Uint32(maxcount)
		}))
		st := nfs.NFSStatus(d.Uint32())
		d.postOpAttr()
		if st != nfs.NFSStatusOk {
			return st, out
		}
		verf = append([]byte(nil), d.Fixed(8)...)
		for d.Bool() {
			var de dirEntry
			d.Uint64()
			de.name = d.String(255)
			de.cookie = d.Uint64()
			de.attr = d.postOpAttr()
			if d.Bool() {
				de.handle = d.Opaque(64)
			}
			cookie = de.cookie
			out = append(out, de)
		}
		if d.Err() != nil {
			c.t.Fatalf("READDIRPLUS reply: %v", d.Err())
		}
		if d.Bool() {
			return st, out
		}
	}
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func hostIno(t testing.TB, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}
