package uboot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/bootrig/bootrig/serialcon/patterns"
)

// Console is what the driver needs of a serial console session; a
// *serialcon.Session is one.
type Console interface {
	io.Writer
	// ExpectFunc waits until match, given the unconsumed output each time
	// more arrives, says done, and consumes the first n bytes.
	ExpectFunc(ctx context.Context, match func(b []byte) (n int, done bool)) ([]byte, error)
}

// Errors the driver returns, wrapped with what and where.
var (
	ErrLinuxRunning       = errors.New("the board runs Linux, not U-Boot (reset or power-cycle it to reach U-Boot)")
	ErrEcho               = errors.New("the board did not echo what was typed")
	ErrLineTooLong        = errors.New("command line longer than the board's console buffer (CONFIG_SYS_CBSIZE)")
	ErrCommand            = errors.New("U-Boot command failed")
	ErrNotDefined         = errors.New("not defined")
	ErrBoardReset         = errors.New("the board reset during the command")
	ErrVerify             = errors.New("printenv does not show what was set")
	ErrUnquotable         = errors.New("value cannot be typed into U-Boot")
	ErrSaveFailed         = errors.New("saveenv failed")
	ErrDefaultEnvironment = errors.New("U-Boot booted with its default environment (bad CRC): the saved environment was lost")
)

// Driver types into U-Boot on a console: it reaches the prompt, types
// commands without losing characters, and reads, sets, verifies and saves
// the environment. It is not safe for concurrent use.
type Driver struct {
	con Console
	d   Dialect

	// Log gets debug messages about retries and resets; nil for none.
	Log *slog.Logger
	// EchoTimeout bounds the wait for one chunk's echo (default 1s).
	EchoTimeout time.Duration
	// CommandTimeout bounds a command's run to the next prompt (default 60s).
	CommandTimeout time.Duration
	// SaveTimeout bounds saveenv (default 5 min): NOR flash written a word
	// at a time, as under emulation, takes tens of seconds on a busy host.
	SaveTimeout time.Duration
	// Retries is how often a line is typed again after a bad echo (default 6).
	Retries int

	boots     int       // banners seen: a change means the board reset
	slow      int       // typing slow-down that last worked: 0 is the dialect's own pace
	streak    int       // lines typed in a row at this pace
	probing   bool      // trying one step faster than what worked
	lastWrite time.Time // when the last byte went out, for the per-character delay
	loose     *regexp.Regexp
}

// New makes a driver for the U-Boot dialect d on con.
func New(con Console, d Dialect) *Driver {
	return &Driver{con: con, d: d.withDefaults(), EchoTimeout: time.Second, CommandTimeout: time.Minute, SaveTimeout: 5 * time.Minute, Retries: 6}
}

// Dialect is the driver's dialect with defaults filled in.
func (dr *Driver) Dialect() Dialect { return dr.d }

// Boots is how many times the driver saw U-Boot start (its banner).
func (dr *Driver) Boots() int { return dr.boots }

func (dr *Driver) debug(msg string, args ...any) {
	if dr.Log != nil {
		dr.Log.Debug(msg, args...)
	}
}

// console states Sync recognises.
type state int

const (
	atPrompt state = iota
	atCountdown
	atLinux
)

// Sync gets to the U-Boot prompt from any state: it stops a countdown with
// the interrupt key, abandons a half-typed line with Ctrl-C, and waits for
// a board that is still starting, pressing Ctrl-C every second until
// something answers; ctx bounds the whole wait. A running Linux is
// ErrLinuxRunning. It returns what the board printed while syncing.
func (dr *Driver) Sync(ctx context.Context) (string, error) {
	var seen strings.Builder
	sendCtrlC, shells, unanswered := true, 0, 0
	for {
		if sendCtrlC {
			// Whatever came before is not the answer to this Ctrl-C.
			seen.WriteString(dr.drain())
			if err := dr.key(ctx, "\x03"); err != nil {
				return seen.String(), err
			}
			unanswered++
		}
		wait, cancel := context.WithTimeout(ctx, time.Second)
		st, text, err := dr.waitState(wait)
		cancel()
		seen.WriteString(text)
		switch {
		case err != nil && ctx.Err() == nil && isTimeout(err):
			sendCtrlC = true
			continue
		case err != nil:
			return seen.String(), fmt.Errorf("uboot: waiting for the prompt %q: %w", dr.d.Prompt, err)
		}
		switch st {
		case atPrompt:
			if unanswered > 1 {
				// The board answered late (QEMU holds a pty's output for
				// up to a second after it is opened): the other Ctrl-Cs'
				// prompts are still to come and are not a command's output.
				seen.WriteString(dr.settlePrompts(ctx))
			}
			dr.debug("uboot: at the prompt", "prompt", dr.d.Prompt.String(), "boots_seen", dr.boots, "ctrl_c_sent", unanswered)
			return seen.String(), nil
		case atCountdown:
			dr.debug("uboot: countdown, sending the interrupt key")
			if err := dr.key(ctx, dr.d.InterruptKey); err != nil {
				return seen.String(), err
			}
			sendCtrlC = false
		case atLinux:
			// A login prompt is Linux; a shell prompt must come back after
			// a Ctrl-C, since U-Boot's "## " can end a read too.
			if shells++; shells >= 2 || patterns.Login.MatchString(text) {
				return seen.String(), fmt.Errorf("uboot: %w", ErrLinuxRunning)
			}
			sendCtrlC = true
			continue
		}
		shells = 0
	}
}

// settlePrompts consumes the prompts that keep coming until the console
// has been quiet for quietPrompt.
func (dr *Driver) settlePrompts(ctx context.Context) string {
	var seen strings.Builder
	for {
		wait, cancel := context.WithTimeout(ctx, quietPrompt)
		got, err := dr.con.ExpectFunc(wait, func(b []byte) (int, bool) {
			if loc := dr.d.Prompt.FindIndex(b); loc != nil {
				return loc[1], true
			}
			return 0, false
		})
		cancel()
		dr.saw(got)
		seen.Write(got)
		if err != nil {
			return seen.String()
		}
	}
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded)
}

// waitState waits for a prompt, a countdown or a Linux shell and consumes
// the output through it.
func (dr *Driver) waitState(ctx context.Context) (state, string, error) {
	var st state
	got, err := dr.con.ExpectFunc(ctx, func(b []byte) (int, bool) {
		if loc := dr.d.Prompt.FindIndex(b); loc != nil {
			st = atPrompt
			return loc[1], true
		}
		if loc := dr.d.Autoboot.FindIndex(b); loc != nil {
			st = atCountdown
			return loc[1], true
		}
		for _, re := range []*regexp.Regexp{dr.d.Shell, patterns.Login} {
			if loc := re.FindIndex(b); loc != nil {
				st = atLinux
				return loc[1], true
			}
		}
		return 0, false
	})
	dr.saw(got)
	return st, string(got), err
}

// drain consumes what has arrived, counting the banners in it.
func (dr *Driver) drain() string {
	got, _ := dr.con.ExpectFunc(context.Background(), func(b []byte) (int, bool) { return len(b), true })
	dr.saw(got)
	return string(got)
}

// saw counts the U-Boot banners in consumed output: each is a boot.
func (dr *Driver) saw(b []byte) {
	dr.boots += len(patterns.UBootBanner.FindAllIndex(b, -1))
}

// Run types cmd at the prompt, runs it and returns its output (the text
// between the echoed line and the next prompt, with "\r\n" made "\n").
// U-Boot's own errors ("Unknown command", "## Error:", usage text) are a
// *CommandError.
func (dr *Driver) Run(ctx context.Context, cmd string) (string, error) {
	return dr.runWithin(ctx, cmd, dr.CommandTimeout)
}

func (dr *Driver) runWithin(ctx context.Context, cmd string, timeout time.Duration) (string, error) {
	start := time.Now()
	if err := dr.Type(ctx, cmd); err != nil {
		return "", err
	}
	out, err := dr.finish(ctx, cmd, timeout)
	dr.debug("uboot: ran", "cmd", abbrev(cmd), "took", time.Since(start).Round(time.Millisecond), "output_bytes", len(out), "err", err)
	return out, err
}

// Type types cmd at the prompt without pressing Enter, checking the echo
// chunk by chunk; on a bad echo it abandons the line, syncs and types it
// again, each time slower, up to Retries times.
func (dr *Driver) Type(ctx context.Context, cmd string) error {
	if len(cmd) > dr.d.MaxLine() {
		return fmt.Errorf("uboot: %q is %d characters, the board takes %d: %w", abbrev(cmd), len(cmd), dr.d.MaxLine(), ErrLineTooLong)
	}
	for _, c := range []byte(cmd) {
		if c < 0x20 || c > 0x7e {
			return fmt.Errorf("uboot: %q: control or non-ASCII character %q: %w", abbrev(cmd), c, ErrUnquotable)
		}
	}
	var last error
	slow, fails, lastBell := dr.slow, 0, -1
	for attempt := 0; attempt <= dr.Retries; attempt++ {
		boots := dr.boots
		err := dr.typeAt(ctx, cmd, slow)
		if err == nil {
			dr.settle(slow)
			return nil
		}
		if !errors.Is(err, ErrEcho) || ctx.Err() != nil {
			return err
		}
		last = err
		dr.debug("uboot: bad echo, typing the line again", "attempt", attempt+1, "err", err)
		if _, err := dr.Sync(ctx); err != nil {
			return fmt.Errorf("uboot: after a bad echo: %w", err)
		}
		if dr.boots != boots {
			continue // a reset, not the line: same pace
		}
		if held, ok := bellAt(last); ok {
			// The bell at the same character twice is the buffer's end,
			// not noise on the line: the board's real limit.
			if held == lastBell {
				return dr.learnLimit(cmd, held, last)
			}
			lastBell = held
			continue
		}
		// Lost on the line: noise if it happens once, too fast for the
		// board if it happens again (or right after speeding up).
		if fails++; fails >= 2 || dr.probing {
			slow, fails, dr.probing = min(slow+1, maxSlow), 0, false
		}
	}
	return last
}

// bellAt is where a bad echo rang the bell: how many characters of the
// line the board had taken.
func bellAt(err error) (int, bool) {
	var ee *EchoError
	if !errors.As(err, &ee) {
		return 0, false
	}
	i := strings.IndexByte(ee.Echoed, '\a')
	return i, i > 0
}

// learnLimit takes a bell after held characters as the board's console
// buffer (CONFIG_SYS_CBSIZE), whatever the profile said: later lines are
// cut to fit, and the error says so.
func (dr *Driver) learnLimit(cmd string, held int, echo error) error {
	was := dr.d.MaxLine()
	if held < was {
		dr.d.CBSize = held + 2
	}
	if dr.Log != nil {
		dr.Log.Warn("uboot: the board's console buffer is smaller than its profile says (uboot.cbsize); using what it holds", "holds", held, "profile_allows", was)
	}
	return fmt.Errorf("uboot: %q: the board's console holds %d characters, not %d (it rang the bell at character %d; fix uboot.cbsize in the profile): %w: %w",
		abbrev(cmd), held, was, held+1, ErrLineTooLong, echo)
}

// maxSlow is the slowest typing: chunks of 1, 8 ms between characters.
const maxSlow = 4

// settle remembers the pace that worked, and after a run of good lines
// tries one step faster: a burst of noise must not slow a board for good.
func (dr *Driver) settle(slow int) {
	dr.probing = false
	if slow != dr.slow {
		dr.slow, dr.streak = slow, 0
		return
	}
	if dr.streak++; dr.streak >= 64 && dr.slow > 0 {
		dr.slow, dr.streak, dr.probing = dr.slow-1, 0, true
	}
}

// pace is the chunk size and per-character delay at slow-down level
// slow: each level halves the chunk and doubles the delay (at least 1ms).
func (dr *Driver) pace(slow int) (chunk int, delay time.Duration) {
	chunk, delay = dr.d.FIFO, dr.d.CharDelay
	if slow > 0 {
		chunk = max(1, chunk>>slow)
		delay = max(delay*2, time.Millisecond<<(slow-1))
	}
	return chunk, delay
}

// typeAt types cmd in chunks, waiting for each one's echo.
func (dr *Driver) typeAt(ctx context.Context, cmd string, slow int) error {
	chunk, delay := dr.pace(slow)
	dr.drain()
	for i := 0; i < len(cmd); i += chunk {
		part := cmd[i:min(i+chunk, len(cmd))]
		if err := dr.send(ctx, part, delay); err != nil {
			return err
		}
		if err := dr.echo(ctx, cmd, i, part); err != nil {
			return err
		}
	}
	return nil
}

// send writes s, keeping at least delay between characters, counted
// from whatever was written before too.
func (dr *Driver) send(ctx context.Context, s string, delay time.Duration) error {
	if delay <= 0 {
		_, err := dr.con.Write([]byte(s))
		dr.lastWrite = time.Now()
		return err
	}
	for i := 0; i < len(s); i++ {
		if wait := time.Until(dr.lastWrite.Add(delay)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		_, err := dr.con.Write([]byte{s[i]})
		dr.lastWrite = time.Now()
		if err != nil {
			return err
		}
	}
	return nil
}

// key sends one control key at the current pace.
func (dr *Driver) key(ctx context.Context, k string) error {
	_, delay := dr.pace(dr.slow)
	return dr.send(ctx, k, delay)
}

// echo waits for part, typed at offset off of cmd, to come back.
func (dr *Driver) echo(ctx context.Context, cmd string, off int, part string) error {
	ctx, cancel := context.WithTimeout(ctx, dr.EchoTimeout)
	defer cancel()
	want := []byte(part)
	got, err := dr.con.ExpectFunc(ctx, func(b []byte) (int, bool) {
		n := min(len(b), len(want))
		if !bytes.Equal(b[:n], want[:n]) {
			return len(b), true
		}
		return n, n == len(want)
	})
	if err != nil {
		var p interface{ PendingBytes() []byte }
		pending := ""
		if errors.As(err, &p) {
			pending = string(p.PendingBytes())
		}
		if ctx.Err() != nil && isTimeout(ctx.Err()) {
			return &EchoError{Sent: cmd[:off] + part, Echoed: cmd[:off] + pending, Err: err}
		}
		return err
	}
	dr.saw(got)
	if string(got) != part {
		return &EchoError{Sent: cmd[:off] + part, Echoed: cmd[:off] + string(got)}
	}
	return nil
}

// EchoError is a line the board echoed differently from how it was typed.
type EchoError struct {
	Sent, Echoed string
	Err          error // the wait's error, if it timed out
}

func (e *EchoError) Error() string {
	i := 0
	for i < len(e.Sent) && i < len(e.Echoed) && e.Sent[i] == e.Echoed[i] {
		i++
	}
	from := max(0, i-20)
	sent, echoed := e.Sent[from:min(len(e.Sent), i+20)], e.Echoed[from:min(len(e.Echoed), i+20)]
	s := fmt.Sprintf("uboot: %v: at character %d: sent %q, echoed %q", ErrEcho, i, sent, echoed)
	if strings.Contains(e.Echoed, "\a") {
		s += " (the bell: the console buffer is full)"
	}
	if e.Err != nil {
		s += " (then nothing more)"
	}
	return s
}

func (e *EchoError) Unwrap() error { return ErrEcho }

// abbrev shortens s for a one-line error.
func abbrev(s string) string {
	if len(s) <= 60 {
		return s
	}
	return s[:28] + "..." + s[len(s)-28:]
}

// finish presses Enter and collects the output up to the next prompt. A
// countdown instead means the board reset: it is stopped and ErrBoardReset
// returned.
func (dr *Driver) finish(ctx context.Context, cmd string, timeout time.Duration) (string, error) {
	if err := dr.enter(ctx); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reset := false
	got, err := dr.untilPrompt(ctx, func(b []byte) (int, bool) {
		if loc := dr.d.Prompt.FindIndex(b); loc != nil {
			return loc[1], true
		}
		if loc := dr.d.Autoboot.FindIndex(b); loc != nil && patterns.UBootBanner.Match(b[:loc[0]]) {
			reset = true
			return loc[1], true
		}
		return 0, false
	})
	if err != nil {
		return "", fmt.Errorf("uboot: %q: waiting for the prompt %q: %w", abbrev(cmd), dr.d.Prompt, err)
	}
	dr.saw(got)
	if reset {
		if _, err := dr.Sync(ctx); err != nil {
			return "", err
		}
		return "", fmt.Errorf("uboot: %q: %w", abbrev(cmd), ErrBoardReset)
	}
	out := string(got)
	if loc := dr.d.Prompt.FindStringIndex(out); loc != nil {
		out = out[:loc[0]]
	} else if loc := dr.promptAnywhere().FindStringIndex(out); loc != nil {
		out = out[:loc[0]]
	}
	out = strings.ReplaceAll(out, "\r\n", "\n")
	out = strings.TrimPrefix(out, "\n")
	if msg := commandFailure(out); msg != "" {
		return out, &CommandError{Cmd: cmd, Output: out, Msg: msg}
	}
	return out, nil
}

// quietPrompt is how long the console must stay silent after a prompt
// that is not at a line start before it counts as the prompt.
const quietPrompt = 250 * time.Millisecond

// untilPrompt waits until match says done, or until the output ends
// with the prompt not at a line start and nothing more comes for
// quietPrompt, twice over: U-Boot cuts a printf at CONFIG_SYS_PBSIZE
// without the newline, so the prompt follows the cut text on its line,
// while "==> " in the middle of crc32's output is followed by more.
func (dr *Driver) untilPrompt(ctx context.Context, match func(b []byte) (int, bool)) ([]byte, error) {
	anywhere := dr.promptAnywhere()
	seen := -1 // pending length the last quiet window ended on, prompt last
	for {
		wait, cancel := context.WithTimeout(ctx, quietPrompt)
		got, err := dr.con.ExpectFunc(wait, match)
		cancel()
		if err == nil || ctx.Err() != nil || !isTimeout(err) {
			return got, err
		}
		var p interface{ PendingBytes() []byte }
		if !errors.As(err, &p) {
			return got, err
		}
		pending := p.PendingBytes()
		loc := anywhere.FindIndex(pending)
		switch {
		case loc == nil || loc[1] != len(pending):
			seen = -1
		case seen == len(pending):
			return dr.con.ExpectFunc(ctx, func(b []byte) (int, bool) { return min(len(b), len(pending)), true })
		default:
			seen = len(pending)
		}
	}
}

// promptAnywhere is the prompt without its line-start anchor.
func (dr *Driver) promptAnywhere() *regexp.Regexp {
	if dr.loose == nil {
		src := dr.d.Prompt.String()
		src = strings.TrimPrefix(strings.TrimPrefix(src, "(?m)"), "^")
		dr.loose = regexp.MustCompile(src)
	}
	return dr.loose
}

// enter presses Enter and waits for the line break it echoes, pressing it
// again if it was lost on the line.
func (dr *Driver) enter(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		if err := dr.key(ctx, "\r"); err != nil {
			return err
		}
		wait, cancel := context.WithTimeout(ctx, dr.EchoTimeout)
		_, err := dr.con.ExpectFunc(wait, func(b []byte) (int, bool) { return 0, len(b) > 0 })
		cancel()
		if err == nil || !isTimeout(err) || ctx.Err() != nil || attempt >= dr.Retries {
			return err
		}
		dr.debug("uboot: Enter lost, pressing it again")
	}
}

// commandFailure is U-Boot's complaint in out, "" when none.
func commandFailure(out string) string {
	m := patterns.CommandFailure.FindString(out)
	if m == "Usage:" {
		return "usage: " + strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	}
	return strings.TrimSpace(m)
}

// CommandError is a command U-Boot refused or failed.
type CommandError struct {
	Cmd    string
	Output string
	Msg    string // U-Boot's own line: `## Error: "x" not defined`
}

func (e *CommandError) Error() string { return fmt.Sprintf("uboot: %q: %s", abbrev(e.Cmd), e.Msg) }

func (e *CommandError) Unwrap() error { return ErrCommand }
