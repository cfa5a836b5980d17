package ubootfake

import (
	"errors"
	"strconv"
	"strings"
)

// shellPrompt is busybox ash's prompt for root in /.
const shellPrompt = "/ # "

// shell is busybox's ash on the console, as far as bootrig's commands
// go: lists separated by ';', ( list ) subshells, POSIX quoting, $? and
// a few variables, and the builtins and applets echo, printf, true,
// false, exit, sh -c, cat, uname and reboot. The console's line discipline echoes what is
// typed and ends lines with "\r\n" (ICRNL, ONLCR).
type shell struct {
	b       *Board
	cmdline string // /proc/cmdline
	status  int    // $?
}

// errExit is the shell's exit builtin.
var errExit = errors.New("exit")

// interact reads and runs command lines until the shell exits (nil),
// or the board resets or loses power.
func (sh *shell) interact() error {
	for {
		sh.b.print(shellPrompt)
		line, err := sh.readline()
		if err != nil {
			return err
		}
		if err := sh.run(line); errors.Is(err, errExit) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// readline is the tty's canonical mode with echo: Enter ends the line,
// backspace erases, ^U kills the line, ^C abandons it, ^D on an empty
// line ends the input (the shell exits).
func (sh *shell) readline() (string, error) {
	var line []byte
	for {
		c, _, err := sh.b.getc(-1)
		if err != nil {
			return "", err
		}
		switch {
		case c == '\r' || c == '\n':
			sh.b.print("\r\n")
			return string(line), nil
		case c == 0x03:
			sh.b.print("^C\r\n" + shellPrompt)
			line = line[:0]
		case c == 0x04 && len(line) == 0:
			return "exit", nil
		case c == 0x15:
			sh.b.print(strings.Repeat("\b \b", len(line)))
			line = line[:0]
		case c == 0x08 || c == 0x7f:
			if len(line) > 0 {
				line = line[:len(line)-1]
				sh.b.print("\b \b")
			}
		case c >= 0x20 && c < 0x7f:
			line = append(line, c)
			sh.b.print(string(c))
		}
	}
}

// out is the shell's output through the tty (ONLCR).
func (sh *shell) out(s string) { sh.b.print(strings.ReplaceAll(s, "\n", "\r\n")) }

// run runs a list: its commands in turn, each seeing the status of the
// one before in $?.
func (sh *shell) run(line string) error {
	for _, cmd := range splitList(line) {
		if inner, ok := grouped(cmd); ok {
			sh.status = sh.sub(inner)
			continue
		}
		args := sh.words(cmd)
		if len(args) == 0 {
			continue
		}
		if err := sh.command(args); err != nil {
			return err
		}
	}
	return nil
}

func (sh *shell) command(args []string) error {
	status := 0
	switch args[0] {
	case "echo":
		if len(args) > 1 && args[1] == "-n" {
			sh.out(strings.Join(args[2:], " "))
		} else {
			sh.out(strings.Join(args[1:], " ") + "\n")
		}
	case "printf":
		if len(args) < 2 {
			sh.out("printf: usage: printf FORMAT [ARGUMENT...]\n")
			status = 1
		} else {
			sh.out(printf(args[1], args[2:]))
		}
	case "true":
	case "false":
		status = 1
	case "exit":
		if len(args) > 1 {
			sh.status, _ = strconv.Atoi(args[1])
		}
		return errExit
	case "sh":
		status = sh.subshell(args[1:])
	case "cat":
		status = sh.cat(args[1:])
	case "uname":
		sh.out(uname(args[1:]) + "\n")
	case "reboot":
		sh.out("reboot: Restarting system\n")
		return errReset
	default:
		sh.out("-sh: " + args[0] + ": not found\n")
		status = 127
	}
	sh.status = status
	return nil
}

// subshell is sh -c CMD: CMD in a shell of its own, whose exit ends only
// it; its status is the last command's.
func (sh *shell) subshell(args []string) int {
	if len(args) < 2 || args[0] != "-c" {
		sh.out("sh: only sh -c CMD is supported here\n")
		return 2
	}
	return sh.sub(args[1])
}

// sub runs list in a shell of its own (sh -c, or a ( list ) subshell):
// its exit ends only it; its status is the last command's.
func (sh *shell) sub(list string) int {
	sub := &shell{b: sh.b, cmdline: sh.cmdline, status: sh.status}
	if err := sub.run(list); err != nil && !errors.Is(err, errExit) {
		return 1
	}
	return sub.status
}

// grouped reports whether cmd is a subshell, "( list )", and returns the
// list.
func grouped(cmd string) (string, bool) {
	c := strings.TrimSpace(cmd)
	if len(c) < 2 || c[0] != '(' || c[len(c)-1] != ')' {
		return "", false
	}
	return c[1 : len(c)-1], true
}

func (sh *shell) cat(files []string) int {
	status := 0
	for _, f := range files {
		switch f {
		case "/proc/cmdline":
			sh.out(sh.cmdline + "\n")
		case "/proc/version":
			sh.out("Linux version 6.1.0 (bootrig@fake) #1 SMP\n")
		default:
			sh.out("cat: can't open '" + f + "': No such file or directory\n")
			status = 1
		}
	}
	return status
}

// uname is the fields its flags ask for, in its order.
func uname(flags []string) string {
	fields := map[byte]string{'s': "Linux", 'n': "(none)", 'r': "6.1.0", 'v': "#1 SMP", 'm': "armv7l"}
	want := map[byte]bool{}
	for _, f := range flags {
		for i := 1; i < len(f); i++ {
			if f[i] == 'a' {
				for k := range fields {
					want[k] = true
				}
			}
			want[f[i]] = true
		}
	}
	if len(want) == 0 {
		want['s'] = true
	}
	var out []string
	for _, k := range []byte("snrvm") {
		if want[k] {
			out = append(out, fields[k])
		}
	}
	return strings.Join(out, " ")
}

// splitList cuts a line at the ';' that are neither quoted nor inside
// a ( list ).
func splitList(line string) []string {
	var parts []string
	var single, double, escaped bool
	start, depth := 0, 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && !single:
			escaped = true
		case c == '\'' && !double:
			single = !single
		case c == '"' && !single:
			double = !double
		case c == '(' && !single && !double:
			depth++
		case c == ')' && !single && !double && depth > 0:
			depth--
		case c == ';' && !single && !double && depth == 0:
			parts = append(parts, line[start:i])
			start = i + 1
		}
	}
	return append(parts, line[start:])
}

// words splits a simple command into its words (POSIX XCU 2.2 quoting,
// 2.6.2 parameter expansion): blanks separate words; '...' is taken as
// it is; "..." keeps blanks and expands $; a backslash quotes the next
// character; $? , $NAME and ${NAME} expand.
func (sh *shell) words(cmd string) []string {
	var words []string
	var w strings.Builder
	inWord, single, double := false, false, false
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case single:
			if c == '\'' {
				single = false
			} else {
				w.WriteByte(c)
			}
		case c == '\\' && i+1 < len(cmd):
			i++
			w.WriteByte(cmd[i])
			inWord = true
		case c == '\'' && !double:
			single, inWord = true, true
		case c == '"':
			double, inWord = !double, true
		case c == '$':
			v, n := sh.expand(cmd[i+1:])
			w.WriteString(v)
			i += n
			inWord = true
		case (c == ' ' || c == '\t') && !double:
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// shellVars are the variables busybox init gives the console's shell.
var shellVars = map[string]string{"HOME": "/", "PATH": "/sbin:/usr/sbin:/bin:/usr/bin", "SHELL": "/bin/sh", "TERM": "vt102", "USER": "root"}

// expand is the parameter after a '$' at the start of s, and how many
// bytes of s it took. A '$' before nothing it can expand is itself.
func (sh *shell) expand(s string) (string, int) {
	name, n := s, 0
	switch {
	case strings.HasPrefix(s, "?"):
		return strconv.Itoa(sh.status), 1
	case strings.HasPrefix(s, "{"):
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "$", 0
		}
		name, n = s[1:end], end+1
	default:
		for n < len(s) && (s[n] == '_' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= 'a' && s[n] <= 'z' || n > 0 && s[n] >= '0' && s[n] <= '9') {
			n++
		}
		if n == 0 {
			return "$", 0
		}
		name = s[:n]
	}
	if name == "?" {
		return strconv.Itoa(sh.status), n
	}
	return shellVars[name], n
}

// printf is printf(1) for %s, %d, %% and the escapes \n, \t, \\; the
// format is used again while arguments are left.
func printf(format string, args []string) string {
	var out strings.Builder
	for {
		used := 0
		for i := 0; i < len(format); i++ {
			c := format[i]
			switch {
			case c == '\\' && i+1 < len(format):
				i++
				if e, ok := map[byte]string{'n': "\n", 't': "\t", '\\': "\\"}[format[i]]; ok {
					out.WriteString(e)
				} else {
					out.WriteString(format[i-1 : i+1])
				}
			case c == '%' && i+1 < len(format):
				i++
				switch format[i] {
				case '%':
					out.WriteByte('%')
				case 's', 'd':
					if used < len(args) {
						out.WriteString(args[used])
					} else if format[i] == 'd' {
						out.WriteByte('0')
					}
					used++
				}
			default:
				out.WriteByte(c)
			}
		}
		if used == 0 || used >= len(args) {
			return out.String()
		}
		args = args[used:]
	}
}
