package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// envInside marks a process that runs in a lab namespace; its value is
// the host uid that owns the namespace.
const envInside = "BOOTRIG_LAB_NS"

// Inside reports whether this process runs in a lab namespace made by
// [Reexec] or entered by [JoinCommand].
func Inside() bool { return os.Getenv(envInside) != "" }

// Stdio is where a re-executed program reads and writes.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Files are handed to the program as fds 3, 4, ... (listeners made
	// on the host's network, which stay there).
	Files []*os.File
}

// Command is the command that runs this program (/proc/self/exe) again
// with args (os.Args[1:] to run the same command line) in a new user and
// network namespace, where [Inside] reports true. Go cannot unshare a
// user namespace in a running, multi-threaded program; a new process
// made with clone flags can. The host user becomes root in the new user
// namespace (the whole id range when the host user is root), which gives
// it the capabilities to set up the network namespace and nothing on the
// host.
func Command(args []string) *exec.Cmd {
	return nsCommand("/proc/self/exe", args, os.Environ(), os.Getuid(), os.Getgid())
}

// nsCommand is Command's pure part.
func nsCommand(exe string, args, env []string, uid, gid int) *exec.Cmd {
	cmd := exec.Command(exe, args...)
	cmd.Args[0] = "bootrig-lab"
	cmd.Env = append(append([]string(nil), env...), envInside+"="+strconv.Itoa(uid))
	uids, gids := idMap(uid), idMap(gid)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: uids,
		GidMappings: gids,
		// Unprivileged users may map their gid only with setgroups off.
		GidMappingsEnableSetgroups: uid == 0,
	}
	return cmd
}

// idMap maps root in the namespace to id on the host; for host root,
// the identity map of every id, so files of any owner keep it.
func idMap(id int) []syscall.SysProcIDMap {
	if id == 0 {
		return []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1<<32 - 1}}
	}
	return []syscall.SysProcIDMap{{ContainerID: 0, HostID: id, Size: 1}}
}

// Reexec runs this program again with args in a new lab namespace (see
// [Command]) and returns its exit code once it has exited. Cancelling
// ctx sends it SIGTERM; Reexec still waits for it, so that it can power
// its board off and flush its logs.
func Reexec(ctx context.Context, args []string, stdio Stdio) (int, error) {
	return run(ctx, Command(args), stdio)
}

func run(ctx context.Context, cmd *exec.Cmd, stdio Stdio) (int, error) {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.Stdin, stdio.Stdout, stdio.Stderr
	cmd.ExtraFiles = stdio.Files
	if err := cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EINVAL) {
			return 0, fmt.Errorf("create the lab's user+network namespace: %w (user namespaces may be off: sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces>0)", err)
		}
		return 0, fmt.Errorf("lab namespace: start %s: %w", cmd.Path, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Signal(syscall.SIGTERM) })
	defer stop()
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("lab namespace: %w", err)
	}
	return 0, nil
}

// JoinCommand is the command that runs this program with args in the
// user and network namespaces of the process pid (a running lab's QEMU,
// see [State]), through util-linux's nsenter: a multi-threaded Go
// program cannot enter a user namespace itself.
func JoinCommand(pid int, args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("join lab: find this program: %w", err)
	}
	cmd := exec.Command("nsenter", joinArgs(pid, exe, args)...)
	cmd.Env = append(os.Environ(), envInside+"="+strconv.Itoa(os.Getuid()))
	return cmd, nil
}

// joinArgs is nsenter's argument list for JoinCommand.
func joinArgs(pid int, exe string, args []string) []string {
	return append([]string{
		"--target", strconv.Itoa(pid), "--user", "--net", "--preserve-credentials", "--", exe,
	}, args...)
}

// Join runs JoinCommand(pid, args) and returns its exit code.
func Join(ctx context.Context, pid int, args []string, stdio Stdio) (int, error) {
	cmd, err := JoinCommand(pid, args)
	if err != nil {
		return 0, err
	}
	return run(ctx, cmd, stdio)
}
