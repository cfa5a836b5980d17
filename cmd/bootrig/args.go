package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// flagsFirst reorders a command line so that the flags of the command it
// names come before that command's arguments: urfave/cli v2 stops reading
// flags at the first argument, and people type
// "bootrig boards show mini2440 --json" or "bootrig build kernel --board
// mini2440". Arguments after "--" stay arguments. Anything it cannot place
// (an unknown command, help) is left as it is, for cli to report.
func flagsFirst(cmds []*cli.Command, args []string) []string {
	if n := len(args); n > 0 && args[n-1] == "--generate-bash-completion" {
		return args // shell completion: cli reads the words as typed
	}
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") { // global flags are all booleans
		i++
	}
	var leaf *cli.Command
	for i < len(args) {
		c := findCommand(cmds, args[i])
		if c == nil {
			break
		}
		leaf, i = c, i+1
		if len(c.Subcommands) == 0 {
			break
		}
		cmds = c.Subcommands
	}
	if leaf == nil || len(leaf.Subcommands) > 0 {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range leaf.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, pos []string
	rest := args[i:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			pos = append(pos, rest[j+1:]...)
			j = len(rest)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && j+1 < len(rest) {
				flags = append(flags, rest[j+1])
				j++
			}
		default:
			pos = append(pos, a)
		}
	}
	out := append(append([]string{}, args[:i]...), flags...)
	if len(pos) > 0 {
		out = append(append(out, "--"), pos...)
	}
	return out
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// argsAtMost returns the command's arguments, or a usage error when there
// are more than n.
func argsAtMost(c *cli.Context, n int) ([]string, error) {
	args := c.Args().Slice()
	if len(args) > n {
		return nil, usagef(c.Command.FullName(), "want at most %d arguments, got %q", n, args)
	}
	return args, nil
}
