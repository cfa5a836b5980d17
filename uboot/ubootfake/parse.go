package ubootfake

import "strings"

// parseSimple is U-Boot's parser without hush (run_command, process_macros,
// parse_line): ';' separates commands outside single quotes, $(x) and ${x}
// expand outside single quotes, quotes are removed, and words split at
// blanks — quoted blanks included.
func (b *Board) parseSimple(line string) [][]string {
	var cmds [][]string
	for _, c := range splitUnquoted(line) {
		cmds = append(cmds, strings.Fields(b.macros(c)))
	}
	return cmds
}

func splitUnquoted(line string) []string {
	var parts []string
	in, start := false, 0
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\'' && (i == 0 || line[i-1] != '\\'):
			in = !in
		case line[i] == ';' && !in && i > start && line[i-1] != '\\':
			parts = append(parts, line[start:i])
			start = i + 1
		}
	}
	return append(parts, line[start:])
}

func (b *Board) macros(s string) string {
	var out strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			in = !in
		case !in && c == '$' && i+1 < len(s) && (s[i+1] == '(' || s[i+1] == '{'):
			end := map[byte]byte{'(': ')', '{': '}'}[s[i+1]]
			j := strings.IndexByte(s[i+2:], end)
			if j < 0 {
				out.WriteString(s[i:])
				return out.String()
			}
			out.WriteString(b.getenv(s[i+2 : i+2+j]))
			i += 2 + j
		default:
			out.WriteByte(c)
		}
	}
	return out.String()
}

func (b *Board) getenv(name string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.env[name]
}

// parseHush is enough of hush for bootrig: words, '…' literal, "…" with
// ${x} expanded inside, bare ${x} expanded and split, ';' between commands.
func (b *Board) parseHush(line string) [][]string {
	var cmds [][]string
	var args []string
	var word strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			args = append(args, word.String())
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == ';':
			flush()
			cmds = append(cmds, args)
			args = nil
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				j = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord, i = true, i+1+j
		case c == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				j = len(line) - i - 1
			}
			word.WriteString(b.expand(line[i+1 : i+1+j]))
			inWord, i = true, i+1+j
		case c == '$' && i+1 < len(line) && line[i+1] == '{':
			j := strings.IndexByte(line[i+2:], '}')
			if j < 0 {
				word.WriteString(line[i:])
				i = len(line)
				inWord = true
				continue
			}
			for k, f := range strings.Fields(b.getenv(line[i+2 : i+2+j])) {
				if k > 0 {
					flush()
				}
				word.WriteString(f)
				inWord = true
			}
			i += 2 + j
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return append(cmds, args)
}

func (b *Board) expand(s string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) && s[i+1] == '{' {
			if j := strings.IndexByte(s[i+2:], '}'); j >= 0 {
				out.WriteString(b.getenv(s[i+2 : i+2+j]))
				i += 2 + j
				continue
			}
		}
		out.WriteByte(s[i])
	}
	return out.String()
}
