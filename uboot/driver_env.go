package uboot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/bootrig/bootrig/serialcon/patterns"
)

var reVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// IsVarName says whether name is one bootrig types as a variable name:
// a letter or _, then letters, digits, _, . and -.
func IsVarName(name string) bool { return reVarName.MatchString(name) }

// Printenv reads the whole environment.
func (dr *Driver) Printenv(ctx context.Context) (map[string]string, error) {
	out, err := dr.Run(ctx, "printenv")
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		name, value, ok := strings.Cut(l, "=")
		if ok && reVarName.MatchString(name) {
			env[name] = value
		}
	}
	return env, nil
}

// Getenv reads one variable; one that is not set is ErrNotDefined.
func (dr *Driver) Getenv(ctx context.Context, name string) (string, error) {
	if !reVarName.MatchString(name) {
		return "", fmt.Errorf("uboot: %q is not a variable name", name)
	}
	out, err := dr.Run(ctx, "printenv "+name)
	var ce *CommandError
	if errors.As(err, &ce) && strings.Contains(ce.Msg, "not defined") {
		return "", fmt.Errorf("uboot: %s: %w", name, ErrNotDefined)
	}
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(out, "\n") && strings.HasPrefix(out, name+"=") {
		// U-Boot prints one variable through printf, which cuts at
		// CONFIG_SYS_PBSIZE (531 characters on Debian's qemu_arm) and
		// drops the newline; the whole printenv is not cut.
		dr.debug("uboot: printenv NAME cut short, reading the whole environment", "name", name, "printed", len(out))
		env, err := dr.Printenv(ctx)
		if err != nil {
			return "", err
		}
		if v, ok := env[name]; ok {
			return v, nil
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, name+"="); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("uboot: printenv %s printed no %s=: %q", name, name, abbrev(out))
}

// Setenv sets a variable and verifies it with printenv, typing again if
// the board reset on the way. A value too long for one line is split
// (see [Dialect.SetenvLines]). An empty value deletes the variable.
func (dr *Driver) Setenv(ctx context.Context, name, value string) error {
	lines, err := dr.d.SetenvLines(name, value)
	if err != nil {
		return err
	}
	var last error
	for attempt := 0; attempt <= dr.Retries; attempt++ {
		boots, limit := dr.boots, dr.d.CBSize
		last = dr.setAndVerify(ctx, name, value, lines)
		if errors.Is(last, ErrLineTooLong) && dr.d.CBSize < limit && ctx.Err() == nil {
			// The board's buffer is smaller than the dialect said, and
			// now known: split the value for it.
			dr.debug("uboot: splitting again for the measured console buffer", "name", name, "cbsize", dr.d.CBSize)
			if lines, err = dr.d.SetenvLines(name, value); err != nil {
				return err
			}
			continue
		}
		if dr.mayImport(last, lines) {
			dr.debug("uboot: the split value came back cut: through RAM and env import", "name", name)
			last = dr.importEnv(ctx, name, value)
		}
		if last == nil || ctx.Err() != nil || !(errors.Is(last, ErrBoardReset) || dr.boots != boots) {
			return last
		}
		dr.debug("uboot: the board reset while setting, again", "name", name)
	}
	return last
}

func (dr *Driver) setAndVerify(ctx context.Context, name, value string, lines []string) error {
	for _, l := range lines {
		if _, err := dr.Run(ctx, l); err != nil {
			return err
		}
	}
	got, err := dr.Getenv(ctx, name)
	if value == "" && errors.Is(err, ErrNotDefined) {
		return nil
	}
	if err != nil {
		return err
	}
	if got != value {
		return &VerifyError{Name: name, Want: value, Got: got}
	}
	return nil
}

// VerifyError is a variable printenv shows differently from how it was set.
type VerifyError struct {
	Name, Want, Got string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("uboot: %s: %v: set %q, printenv shows %q", e.Name, ErrVerify, abbrev(e.Want), abbrev(e.Got))
}

func (e *VerifyError) Unwrap() error { return ErrVerify }

// SetenvAll sets variables in order, then reads them all back at once
// and sets again any a reset lost.
func (dr *Driver) SetenvAll(ctx context.Context, vars []EnvVar) error {
	for attempt := 0; ; attempt++ {
		boots := dr.boots
		for _, v := range vars {
			if err := dr.Setenv(ctx, v.Name, v.Value); err != nil {
				return err
			}
		}
		err := dr.Verify(ctx, vars)
		if err == nil || dr.boots == boots || attempt >= dr.Retries {
			return err
		}
	}
}

// Verify compares the board's environment with vars.
func (dr *Driver) Verify(ctx context.Context, vars []EnvVar) error {
	env, err := dr.Printenv(ctx)
	if err != nil {
		return err
	}
	for _, v := range vars {
		if got, ok := env[v.Name]; v.Value != "" && (!ok || got != v.Value) {
			return &VerifyError{Name: v.Name, Want: v.Value, Got: got}
		}
	}
	return nil
}

// Saveenv writes the environment to the board's storage.
func (dr *Driver) Saveenv(ctx context.Context) error {
	out, err := dr.runWithin(ctx, "saveenv", max(dr.SaveTimeout, dr.CommandTimeout))
	if err != nil {
		return err
	}
	if patterns.SaveenvFailed.MatchString(out) {
		return fmt.Errorf("uboot: %w: %s", ErrSaveFailed, strings.TrimSpace(strings.ReplaceAll(out, "\n", " ")))
	}
	return nil
}

// Reset resets the board with U-Boot's reset command and syncs again at
// the prompt. Coming back with the default environment is
// ErrDefaultEnvironment.
func (dr *Driver) Reset(ctx context.Context) error {
	if err := dr.Type(ctx, "reset"); err != nil {
		return err
	}
	if err := dr.key(ctx, "\r"); err != nil {
		return err
	}
	// Wait for the board to come back before pressing keys, or the
	// Ctrl-C of Sync would land in the old U-Boot.
	boot, err := dr.con.ExpectFunc(ctx, func(b []byte) (int, bool) {
		if loc := patterns.UBootBanner.FindIndex(b); loc != nil {
			return loc[1], true
		}
		return 0, false
	})
	if err != nil {
		return fmt.Errorf("uboot: reset: waiting for the banner: %w", err)
	}
	dr.saw(boot)
	seen, err := dr.Sync(ctx)
	if err != nil {
		return fmt.Errorf("uboot: after reset: %w", err)
	}
	if m := patterns.DefaultEnvironment.FindString(string(boot) + seen); m != "" {
		return fmt.Errorf("uboot: after reset: %w (%q)", ErrDefaultEnvironment, m)
	}
	return nil
}

// Persist sets vars, verifies them, saves them, resets the board and
// proves they survived.
func (dr *Driver) Persist(ctx context.Context, vars []EnvVar) error {
	if err := dr.SetenvAll(ctx, vars); err != nil {
		return err
	}
	if err := dr.Saveenv(ctx); err != nil {
		return err
	}
	if err := dr.Reset(ctx); err != nil {
		return err
	}
	if err := dr.Verify(ctx, vars); err != nil {
		return fmt.Errorf("after saveenv and reset: %w", err)
	}
	return nil
}

// Boot types cmd ("boot", "run bootcmd") and presses Enter without
// waiting for a prompt: the console then belongs to the kernel.
func (dr *Driver) Boot(ctx context.Context, cmd string) error {
	if err := dr.Type(ctx, cmd); err != nil {
		return err
	}
	return dr.key(ctx, "\r")
}

// helperPrefix names the variables a long value is split into.
const helperPrefix = "_b"

// SetenvLines are the command lines that set name to value on this
// board: one `setenv name 'value'` when it fits the console buffer (and,
// without hush, CONFIG_SYS_MAXARGS), else pieces set into helper variables
// _b0, _b1, ... joined by a short final setenv and deleted after. Without
// hush, blanks separate words and runs of blanks collapse; with hush the
// value is kept exactly. A value with a single quote or a control
// character is ErrUnquotable.
func (d Dialect) SetenvLines(name, value string) ([]string, error) {
	d = d.withDefaults()
	if !reVarName.MatchString(name) {
		return nil, fmt.Errorf("uboot: %q is not a variable name", name)
	}
	if strings.ContainsAny(value, "'") || strings.IndexFunc(value, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return nil, fmt.Errorf("uboot: %s: %q: %w (single quotes and control characters are not supported)", name, abbrev(value), ErrUnquotable)
	}
	if value == "" {
		return []string{"setenv " + name}, nil
	}
	if one := "setenv " + name + " '" + value + "'"; len(one) <= d.MaxLine() && d.argsFit(value) {
		return []string{one}, nil
	}
	if !d.argsFit(value) {
		return nil, fmt.Errorf("uboot: %s: %d words, more than CONFIG_SYS_MAXARGS (%d) allows without hush: %w (boot with a script instead)", name, len(strings.Fields(value)), d.MaxArgs, ErrLineTooLong)
	}
	pieces, seps := d.split(value)
	var lines []string
	var join, del strings.Builder
	for i, p := range pieces {
		h := fmt.Sprintf("%s%d", helperPrefix, i)
		lines = append(lines, "setenv "+h+" '"+p+"'")
		join.WriteString(seps[i] + "${" + h + "}")
		if i > 0 {
			del.WriteString("; ")
		}
		del.WriteString("setenv " + h)
	}
	j := "setenv " + name + " " + join.String()
	if d.Hush {
		j = "setenv " + name + " \"" + join.String() + "\""
	}
	if len(j) > d.MaxLine() || len(del.String()) > d.MaxLine() {
		return nil, fmt.Errorf("uboot: %s: %d characters is too long for this console even split: %w", name, len(value), ErrLineTooLong)
	}
	return append(append(lines, j), del.String()), nil
}

// argsFit says whether `setenv name value` has few enough words. Hush
// passes a quoted value as one word.
func (d Dialect) argsFit(value string) bool {
	return d.Hush || 2+len(strings.Fields(value)) <= d.MaxArgs
}

// split cuts value into pieces that fit a helper setenv line, at blanks
// where it can, mid-word where it must; seps[i] is what joins piece i to
// the one before.
func (d Dialect) split(value string) (pieces, seps []string) {
	room := d.MaxLine() - len("setenv "+helperPrefix+"99 ''")
	sep := ""
	for value != "" {
		n := min(len(value), room)
		cut, next := n, n
		if n < len(value) {
			if i := strings.LastIndexByte(value[:n+1], ' '); i > 0 {
				cut, next = i, i+1
			}
		}
		pieces, seps = append(pieces, value[:cut]), append(seps, sep)
		sep = ""
		if next > cut {
			sep = " "
		}
		value = value[next:]
	}
	return pieces, seps
}
