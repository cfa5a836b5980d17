package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		UsageText: "bootrig completion bash|zsh|fish\n\n" +
			"The bash and zsh scripts ask bootrig itself for the words that fit (urfave/cli's\n" +
			"--generate-bash-completion); fish's is generated from the command definitions.\n" +
			"Example: complete bootrig in bash from now on:\n" +
			"   bootrig completion bash > ~/.local/share/bash-completion/completions/bootrig",
		Action: runCompletion,
	}
}

func runCompletion(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("completion", "want one shell: bash, zsh or fish")
	}
	switch sh := c.Args().First(); sh {
	case "bash":
		_, err := fmt.Fprint(c.App.Writer, bashCompletion)
		return err
	case "zsh":
		_, err := fmt.Fprint(c.App.Writer, zshCompletion)
		return err
	case "fish":
		script, err := c.App.ToFishCompletion()
		if err != nil {
			return fmt.Errorf("completion fish: %w", err)
		}
		_, err = fmt.Fprint(c.App.Writer, script)
		return err
	default:
		return usagef("completion", "unknown shell %q: want bash, zsh or fish", sh)
	}
}

// bashCompletion asks bootrig for the words that may come next.
const bashCompletion = `# bash completion for bootrig: source it, or put it in
# ~/.local/share/bash-completion/completions/bootrig
_bootrig_complete() {
	local cur="${COMP_WORDS[COMP_CWORD]}" words
	if [[ "$cur" == -* ]]; then
		words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" "$cur" --generate-bash-completion 2>/dev/null)
	else
		words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" --generate-bash-completion 2>/dev/null)
	fi
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _bootrig_complete bootrig
`

// zshCompletion asks bootrig for the words that may come next.
const zshCompletion = `#compdef bootrig
# zsh completion for bootrig: put it in a directory of $fpath as _bootrig
_bootrig() {
	local -a words_next
	local cur=${words[CURRENT]}
	if [[ "$cur" == -* ]]; then
		words_next=(${(f)"$(${words[1]} ${words[2,CURRENT-1]} $cur --generate-bash-completion 2>/dev/null)"})
	else
		words_next=(${(f)"$(${words[1]} ${words[2,CURRENT-1]} --generate-bash-completion 2>/dev/null)"})
	fi
	if (( ${#words_next} )); then
		compadd -a words_next
	else
		_files
	fi
}
if [[ "$funcstack[1]" == "_bootrig" ]]; then
	_bootrig "$@"
else
	compdef _bootrig bootrig
fi
`

func manCommand() *cli.Command {
	return &cli.Command{
		Name:  "man",
		Usage: "print bootrig's man page (roff), generated from the command definitions",
		UsageText: "bootrig man\n\n" +
			"Example: read it, or install it:\n" +
			"   bootrig man | man -l -\n" +
			"   bootrig man > ~/.local/share/man/man1/bootrig.1",
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("man", "takes no arguments")
			}
			page, err := c.App.ToManWithSection(1)
			if err != nil {
				return fmt.Errorf("man: %w", err)
			}
			_, err = fmt.Fprint(c.App.Writer, page)
			return err
		},
	}
}
