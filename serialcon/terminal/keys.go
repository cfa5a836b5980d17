// Package terminal is bootrig's interactive console: what the user types
// goes to the board, what the board sends goes to the user's screen, and
// Ctrl-] starts a command. `bootrig console` and `bootrig up` share its
// one key map:
//
//	Ctrl-] q        quit (Q too)
//	Ctrl-] b        send a break (B too)
//	Ctrl-] r        power-cycle the board, when there is a power command (R too)
//	Ctrl-] Ctrl-]   send one Ctrl-] to the board
//	Ctrl-] ?        print the key map
//
// Any other key after Ctrl-] is dropped and the key map printed: a mistyped
// command never reaches the board (picocom drops it too; tio also shows
// its key map on request). Start from [Keys] (the key map over a byte
// stream) and [Terminal] (the loop that uses it).
package terminal

// Escape (Ctrl-]) starts a command, as in telnet, tio and QEMU's monitor.
const Escape = 0x1d

// KeyMap is the key map in one line, for banners and help.
const KeyMap = "Ctrl-] q quits, b sends a break, r power-cycles, Ctrl-] Ctrl-] sends Ctrl-], ? shows this"

// Command is what a key after Ctrl-] asks for.
type Command int

// The commands of the key map.
const (
	Quit Command = iota + 1
	Break
	PowerCycle
	ShowKeys // Ctrl-] ?, or a key that is no command
)

// Event is one thing typed: bytes for the board, or a command.
type Event struct {
	Send    []byte
	Command Command
	Key     byte // the key after Ctrl-] that made Command
}

// Keys splits what the user types into events. It keeps a Ctrl-] that
// ends one read for the next. The zero value is ready.
type Keys struct {
	escaped bool
}

// commands is the key map: the key after Ctrl-] and its command.
var commands = map[byte]Command{
	'q': Quit, 'Q': Quit,
	'b': Break, 'B': Break,
	'r': PowerCycle, 'R': PowerCycle,
	'?': ShowKeys,
}

// Feed returns the events in b, in the order they were typed.
func (k *Keys) Feed(b []byte) []Event {
	var evs []Event
	var send []byte
	flush := func() {
		if len(send) > 0 {
			evs = append(evs, Event{Send: send})
			send = nil
		}
	}
	for _, c := range b {
		switch {
		case k.escaped && c == Escape:
			send = append(send, c)
		case k.escaped:
			flush()
			cmd, ok := commands[c]
			if !ok {
				cmd = ShowKeys
			}
			evs = append(evs, Event{Command: cmd, Key: c})
		case c == Escape:
			k.escaped = true
			continue
		default:
			send = append(send, c)
		}
		k.escaped = false
	}
	flush()
	return evs
}
