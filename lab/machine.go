package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNoConsole is returned by Start when QEMU exits or stops talking
// before it says where the board's console is.
var ErrNoConsole = errors.New("QEMU did not announce the console's pty")

// Machine is a running QEMU process: a board that is powered on.
type Machine struct {
	cmd     *exec.Cmd
	console string
	qmp     string
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's result, set before done closes

	mu     sync.Mutex
	output []string // QEMU's last output lines, for error messages
}

// ptyLine is how QEMU announces a pty chardev on stderr.
var ptyLine = regexp.MustCompile(`char device redirected to (/dev/\S+) \(label ` + SerialID + `\)`)

// Start runs QEMU as q says and returns once it has said where the
// board's console is. If q.Paused, the CPU waits for [Machine.Resume]:
// open [Machine.ConsolePath] first, so that no byte the board sends is
// lost (QEMU drops what it sends to a pty nobody has open, though its
// logfile keeps it). ctx bounds the start only; stop the machine with
// [Machine.PowerOff].
func Start(ctx context.Context, q QEMU) (*Machine, error) {
	return StartWith(ctx, q, Options{})
}

// Options are how Start runs the QEMU process.
type Options struct {
	// ExtraFiles are handed to QEMU as fds 3, 4, ... (QEMU.TapFD).
	ExtraFiles []*os.File
	// Keep lets QEMU outlive this program (bootrig up --keep); else it is
	// killed when the thread that started it goes away.
	Keep bool
}

// StartWith is Start with process options.
func StartWith(ctx context.Context, q QEMU, o Options) (*Machine, error) {
	if q.QMP != "" {
		// A stale socket from a killed QEMU would make QEMU fail to bind.
		if err := os.Remove(q.QMP); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("QEMU: remove stale QMP socket: %w", err)
		}
	}
	if q.Flash != "" && q.FlashSize > 0 {
		if err := EnsureFlash(q.Flash, q.FlashSize); err != nil {
			return nil, fmt.Errorf("QEMU: %w", err)
		}
	}
	if q.EnvDisk != "" {
		if err := EnsureEnvDisk(ctx, q.EnvDisk); err != nil {
			return nil, fmt.Errorf("QEMU: %w", err)
		}
	}
	cmd := exec.Command(q.Binary, q.Args()...)
	cmd.ExtraFiles = o.ExtraFiles
	// Its own process group: a Ctrl-C on bootrig's terminal is bootrig's
	// to handle, and the board stays up until bootrig powers it off.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !o.Keep {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	// QEMU 7.2 announces the pty on stdout, its errors on stderr.
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("QEMU: start %s: %w (install qemu-system-arm)", q.Binary, err)
	}
	m := &Machine{cmd: cmd, qmp: q.QMP, done: make(chan struct{})}
	found := make(chan string, 1)
	var pipes sync.WaitGroup
	for _, r := range []io.Reader{outPipe, errPipe} {
		pipes.Add(1)
		go func() { defer pipes.Done(); m.readOutput(r, found) }()
	}
	// Wait closes the pipes: only after both readers are done.
	go func() { pipes.Wait(); m.err = cmd.Wait(); close(m.done) }()
	select {
	case m.console = <-found:
		if err := m.ready(ctx, q); err != nil {
			m.kill()
			return nil, err
		}
		return m, nil
	case <-m.done:
		return nil, fmt.Errorf("QEMU exited (%v) before the console was ready: %s: %w", m.err, m.lastOutput(), ErrNoConsole)
	case <-ctx.Done():
		m.kill()
		return nil, fmt.Errorf("QEMU start: %w: %s: %w", ctx.Err(), m.lastOutput(), ErrNoConsole)
	}
}

// ready returns once QEMU has finished setting the machine up and runs
// its main loop, which is when it first answers on QMP; an error, with
// QEMU's own message, if it exits first (a missing BIOS, a locked flash
// image).
func (m *Machine) ready(ctx context.Context, q QEMU) error {
	if q.QMP == "" {
		return nil
	}
	err := QMPCommand(ctx, q.QMP, "query-status")
	if err == nil {
		return nil
	}
	select {
	case <-m.done:
		return fmt.Errorf("QEMU exited (%v) while starting: %s", m.err, m.lastOutput())
	case <-time.After(2 * time.Second):
		m.kill()
		return fmt.Errorf("QEMU did not answer on %s: %w: %s", q.QMP, err, m.lastOutput())
	}
}

func (m *Machine) readOutput(r io.Reader, found chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if mt := ptyLine.FindStringSubmatch(line); mt != nil {
			select {
			case found <- mt[1]:
			default:
			}
			continue
		}
		m.mu.Lock()
		m.output = append(m.output, line)
		if len(m.output) > 20 {
			m.output = m.output[1:]
		}
		m.mu.Unlock()
	}
}

func (m *Machine) lastOutput() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.output) == 0 {
		return "no message from QEMU"
	}
	return strings.Join(m.output, "; ")
}

// ConsolePath is the pty of the board's serial console (/dev/pts/N).
func (m *Machine) ConsolePath() string { return m.console }

// Pid is the QEMU process's id.
func (m *Machine) Pid() int { return m.cmd.Process.Pid }

// Done is closed when QEMU has exited.
func (m *Machine) Done() <-chan struct{} { return m.done }

// Resume starts the CPU of a machine started paused.
func (m *Machine) Resume(ctx context.Context) error {
	if m.qmp == "" {
		return errors.New("QEMU: resume needs a QMP socket (QEMU.QMP)")
	}
	return QMPCommand(ctx, m.qmp, "cont")
}

// PowerOff stops QEMU: SIGTERM (QEMU then flushes its logs and exits),
// SIGKILL if it has not exited when ctx ends. It returns nil once the
// process is gone, also when it was already gone.
func (m *Machine) PowerOff(ctx context.Context) error {
	select {
	case <-m.done:
		return nil
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
		return nil
	case <-ctx.Done():
		m.kill()
		return fmt.Errorf("QEMU (pid %d) ignored SIGTERM, killed: %w", m.Pid(), ctx.Err())
	}
}

func (m *Machine) kill() {
	_ = m.cmd.Process.Kill()
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
	}
}

// Wait waits for QEMU to exit and returns why it did: nil after a
// clean exit or PowerOff's SIGTERM.
func (m *Machine) Wait() error {
	<-m.done
	var ee *exec.ExitError
	if errors.As(m.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
		return fmt.Errorf("QEMU: %w: %s", m.err, m.lastOutput())
	}
	return m.err
}
