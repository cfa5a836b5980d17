package up

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/bootrig/bootrig/serialcon"
	"github.com/bootrig/bootrig/serialcon/patterns"
	"github.com/bootrig/bootrig/servers"
	"github.com/bootrig/bootrig/uboot"
)

// Boot failures Start tells apart.
var (
	ErrMountFailed = errors.New("the kernel could not mount its root filesystem over NFS")
	ErrTFTPFailed  = errors.New("U-Boot's TFTP download failed")
)

// mountWatch is what the boot asks of bootrig's NFS server (a *Watch):
// whether the board's NFS calls arrived, and if not, why.
type mountWatch interface {
	NFSCalls() int64
	Diagnose(server string) error
}

// boot gets the board from power-on to its shell prompt.
func (b *Board) boot(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.BootTimeout)
	defer cancel()
	if b.cfg.TypeEnv {
		if err := b.typeEnv(ctx); err != nil {
			return err
		}
	}
	return b.waitShell(ctx)
}

// typeEnv stops the autoboot, sets the environment at U-Boot's prompt
// and boots. On a board whose U-Boot can save, it is the path of
// bootrig uboot flash-env: set, saveenv, reset, verify with printenv
// after the reset, then boot; unless the board already holds that
// environment, so flash is not written at every boot.
func (b *Board) typeEnv(ctx context.Context) error {
	dr := uboot.New(b.Session, b.Dialect)
	if err := b.sync(ctx, dr); err != nil {
		return err
	}
	vars := Env(b.cfg.Board, b.cfg.Netboot)
	switch {
	case !b.cfg.Board.UBoot.Saveenv:
		if err := dr.SetenvAll(ctx, vars); err != nil {
			return err
		}
	case dr.Verify(ctx, vars) == nil:
		fmt.Fprintf(b.cfg.Notes, "u-boot: the saved environment is already this one\n")
	default:
		b.Phases.ResetAsked() // Persist resets the board to prove the save
		if err := dr.Persist(ctx, vars); err != nil {
			return err
		}
		fmt.Fprintf(b.cfg.Notes, "u-boot: environment saved (saveenv) and verified after a reset\n")
	}
	return dr.Boot(ctx, "run bootcmd")
}

// sync gets to U-Boot's prompt. A board whose reset a person presses
// may still run Linux, the press too late or not yet made: up asks again
// and waits for U-Boot to start.
func (b *Board) sync(ctx context.Context, dr *uboot.Driver) error {
	_, err := dr.Sync(ctx)
	m, ok := b.power.(manualPower)
	if !ok || !errors.Is(err, uboot.ErrLinuxRunning) {
		return err
	}
	if err := m.Again(ctx); err != nil {
		return err
	}
	if _, err := b.Session.Expect(ctx, patterns.UBootBanner); err != nil {
		return fmt.Errorf("board %s runs Linux; waiting for U-Boot after a reset: %w", b.cfg.Board.Name, err)
	}
	_, err = dr.Sync(ctx)
	return err
}

// waitShell waits for the shell prompt. Once the kernel has configured
// its network, the NFS calls must start within MountWait, or bootrig says
// from what its servers saw why the mount is not happening, instead of
// waiting for the kernel to give up.
func (b *Board) waitShell(ctx context.Context) error {
	mountBy := time.Time{} // zero until the kernel has its network
	for {
		wait := ctx
		cancel := func() {}
		if !mountBy.IsZero() && b.watch.NFSCalls() == 0 {
			wait, cancel = context.WithDeadline(ctx, mountBy)
		}
		// MountFailure is a whole line: the phase tracker names the
		// failure once its line ends.
		m, err := b.expectAny(wait, b.shell, patterns.IPConfig, patterns.MountFailure, patterns.Activate, patterns.TFTPFailure)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil && !mountBy.IsZero():
			if derr := b.diagnose(); derr != nil {
				return fmt.Errorf("%w: %w", ErrMountFailed, derr)
			}
			mountBy = time.Time{} // NFS calls started meanwhile: keep waiting
		case err != nil:
			return b.bootError(err)
		case m == 0 && b.kernelUp():
			return nil
		case m == 0: // U-Boot's output can end in "# " too
		case m == 1 && !b.cfg.Netboot.Root.InRAM() && b.watch != nil: // a RAM root waits on no NFS
			mountBy = time.Now().Add(b.cfg.MountWait)
		case m == 2:
			return b.mountError()
		case m == 3:
			if err := b.Session.Send("\r"); err != nil {
				return err
			}
		case m == 4:
			return b.tftpError(ctx)
		}
	}
}

// tftpError explains a download U-Boot gave up on, with the download's
// first failure the phases saw, once the line that showed it has ended.
func (b *Board) tftpError(ctx context.Context) error {
	err := fmt.Errorf("%w: U-Boot could not fetch %s from %s:%d (see the server log)", ErrTFTPFailed, b.cfg.Netboot.Image, b.cfg.Netboot.ServerIP, servers.TFTPPort)
	if _, lerr := b.Session.Expect(ctx, lineEnd); lerr != nil {
		return err
	}
	if f := downloadFailure(b.Summary()); f != nil {
		return fmt.Errorf("%w: %w", err, *f)
	}
	return err
}

// downloadFailure is the first failure since the last TFTP download
// began, nil for none.
func downloadFailure(s serialcon.Summary) *serialcon.Failure {
	var since time.Duration
	for _, st := range s.Steps {
		if st.Phase == serialcon.PhaseTFTP {
			since = st.Start
		}
	}
	for _, f := range s.Failures {
		if f.At >= since {
			return &f
		}
	}
	return nil
}

var lineEnd = regexp.MustCompile(`\n`)

// expectAny waits for the first of res and returns its index.
func (b *Board) expectAny(ctx context.Context, res ...*regexp.Regexp) (int, error) {
	which := -1
	_, err := b.Session.ExpectFunc(ctx, func(buf []byte) (int, bool) {
		best, start, end := -1, 0, 0
		for i, re := range res {
			if loc := re.FindIndex(buf); loc != nil && (best < 0 || loc[0] < start) {
				best, start, end = i, loc[0], loc[1]
			}
		}
		if best < 0 {
			return 0, false
		}
		which = best
		return end, true
	})
	return which, err
}

// mountError explains a kernel that gave up on its root.
func (b *Board) mountError() error {
	if b.cfg.Netboot.Root.InRAM() {
		return b.ramRootError()
	}
	if derr := b.diagnose(); derr != nil {
		return fmt.Errorf("%w: %w", ErrMountFailed, derr)
	}
	if err := b.Summary().Err(); err != nil {
		return fmt.Errorf("boot failed: %w", err)
	}
	return ErrMountFailed
}

// bootError explains a boot that did not reach the shell in time.
func (b *Board) bootError(err error) error {
	s := b.Summary()
	if ferr := s.Err(); ferr != nil {
		return fmt.Errorf("boot failed after %s (last phase: %s): %w", s.Elapsed.Round(time.Millisecond), s.Last(), ferr)
	}
	if s.Reached(serialcon.PhaseLinux) && !b.cfg.Netboot.Root.InRAM() {
		if derr := b.diagnose(); derr != nil {
			return fmt.Errorf("boot: no shell prompt (last phase: %s): %w", s.Last(), derr)
		}
	}
	return fmt.Errorf("boot: no shell prompt (last phase: %q): %w", s.Last(), err)
}

// diagnose is what the servers' calls say about a mount that is not
// happening; nil when they are another process's (Config.Served).
func (b *Board) diagnose() error {
	if b.watch == nil {
		return nil
	}
	return b.watch.Diagnose(b.cfg.Netboot.ServerIP.String())
}

// kernelUp reports whether Linux has started, after which a shell
// prompt on the console is the board's.
func (b *Board) kernelUp() bool {
	s := b.Summary()
	return s.Reached(serialcon.PhaseLinux) || s.Reached(serialcon.PhaseInit)
}
