package tftp

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Busy sentinels: a request over a transfer limit wraps one of them.
var (
	// ErrBusy: MaxTransfers transfers are in progress.
	ErrBusy = errors.New("server busy: too many transfers in progress")
	// ErrClientBusy: MaxClientTransfers transfers from this client are in
	// progress.
	ErrClientBusy = errors.New("server busy: too many transfers from this client")
)

// admit reserves a transfer slot for r and opens its file, or says why
// not. The transfer holds the slot and the file until release.
func (s *Server) admit(r request, from netip.AddrPort) (*transfer, error) {
	t := &transfer{s: s, op: r.op(), client: from, name: r.name, size: -1}
	if err := s.reserve(t); err != nil {
		return nil, err
	}
	var err error
	if r.write {
		err = s.prepareWrite(t)
	} else {
		err = s.prepareRead(t)
	}
	if err != nil {
		t.release()
		s.forget(t)
		return nil, err
	}
	return t, nil
}

// reserve counts t against the limits and registers it.
func (s *Server) reserve(t *transfer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, max := len(s.transfers), cmp(s.MaxTransfers, DefaultMaxTransfers); n >= max {
		return fmt.Errorf("%w: %d, the limit", ErrBusy, n)
	}
	a := t.client.Addr()
	if n, max := s.clients[a], cmp(s.MaxClientTransfers, DefaultMaxClientTransfers); n >= max {
		return fmt.Errorf("%w: %d from %s, the limit", ErrClientBusy, n, a)
	}
	t.id = s.seq.Add(1)
	s.transfers[t.id] = t
	s.clients[a]++
	t.slot = true
	return nil
}

// unreserve gives t's slot back, once.
func (s *Server) unreserve(t *transfer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !t.slot {
		return
	}
	t.slot = false
	a := t.client.Addr()
	if s.clients[a]--; s.clients[a] <= 0 {
		delete(s.clients, a)
	}
}

// forget removes t from the registry the pin/tftp hook looks it up in.
func (s *Server) forget(t *transfer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.transfers[t.id] == t {
		delete(s.transfers, t.id)
	}
}

func (s *Server) prepareRead(t *transfer) error {
	f, size, err := openRead(s.root, t.name)
	if err != nil {
		return err
	}
	t.file, t.size = f, size
	return nil
}

func (s *Server) prepareWrite(t *transfer) error {
	if !s.Writable {
		return ErrReadOnly
	}
	f, tmp, err := createTemp(s.root, t.name, t.id)
	if err != nil {
		return err
	}
	t.file, t.tmp = f, tmp
	return nil
}

// token is the name pin/tftp sees for transfer id: its handlers and
// hook find the transfer by it, whatever the client called the file.
func token(id uint64) string { return "#" + strconv.FormatUint(id, 10) }

// lookup finds the transfer for a token pin/tftp passes back.
func (s *Server) lookup(tok string) (*transfer, error) {
	n, ok := strings.CutPrefix(tok, "#")
	id, err := strconv.ParseUint(n, 10, 64)
	if !ok || err != nil {
		return nil, fmt.Errorf("tftp: %q is not a transfer token", tok)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.transfers[id]; t != nil {
		return t, nil
	}
	return nil, fmt.Errorf("tftp: transfer %d is over", id)
}

func (s *Server) lookupID(id uint64) *transfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transfers[id]
}
