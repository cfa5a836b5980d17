package nfsroot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fileKey names a host object: device and inode number.
type fileKey struct{ dev, ino uint64 }

func (k fileKey) bytes() []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.dev)
	binary.BigEndian.PutUint64(b[8:], k.ino)
	return b[:]
}

func keyFrom(b []byte) fileKey {
	return fileKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

// The store has two buckets, both keyed by fileKey:
//
//	nodes: btime(8) parent fileKey(16) name   — where an inode lives
//	meta:  btime(8) metaRecord                 — the board's view of it
//
// nodes turns a file handle into a path in O(depth) B+tree lookups and
// follows renames (a directory's move rewrites one record); meta holds the
// ownership, mode and device numbers the host cannot. The btime (birth
// time) guards against a reused inode number inheriting another file's
// records.
var (
	bucketNodes = []byte("nodes")
	bucketMeta  = []byte("meta")
	// links: fileKey(16) parent fileKey(16) name -> btime(8), every name
	// seen for an object with more than one link, so that removing the
	// name in nodes can fall back to another.
	bucketLinks = []byte("links")
)

// ErrStoreBusy is returned when another process holds the metadata store.
var ErrStoreBusy = errors.New("nfsroot: metadata store is in use by another process")

type store struct {
	db *bolt.DB
	// metas mirrors the meta bucket (small: device nodes and what the
	// board chowned or chmodded), so attributes need no store lookup.
	// Every change goes through putMeta and forget, which update it
	// when their transaction commits.
	metaMu sync.RWMutex
	metas  map[fileKey]meta
	// writeMu orders the transactions that change meta, so that their
	// commit handlers update metas in commit order.
	writeMu sync.Mutex

	dirty atomic.Bool // metadata changed since the last sync
	stop  chan struct{}
	done  chan struct{}
}

// metaSyncInterval bounds how long a metadata change (chown, chmod,
// mknod) can stay only in the page cache: that survives a crash of
// bootrig, not of the host.
const metaSyncInterval = time.Second

// sync makes metadata changes durable (fdatasync of the store).
func (s *store) sync() error {
	if !s.dirty.Swap(false) {
		return nil
	}
	if err := s.db.Sync(); err != nil {
		s.dirty.Store(true)
		return err
	}
	return nil
}

func (s *store) syncLoop() {
	defer close(s.done)
	t := time.NewTicker(metaSyncInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sync()
		}
	}
}

func openStore(path string) (*store, error) {
	// NoSync: index updates only need to survive a crash of bootrig (the
	// page cache keeps them); metadata changes call db.Sync explicitly.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open metadata store %s: %w", path, ErrStoreBusy)
		}
		return nil, fmt.Errorf("open metadata store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketNodes, bucketMeta, bucketLinks} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init metadata store %s: %w", path, err)
	}
	s := &store{db: db, stop: make(chan struct{}), done: make(chan struct{}), metas: map[fileKey]meta{}}
	db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).ForEach(func(k, v []byte) error {
			if m, ok := decodeMeta(v); ok && len(k) == 16 {
				s.metas[keyFrom(k)] = m
			}
			return nil
		})
	})
	go s.syncLoop()
	return s, nil
}

func (s *store) close() error {
	close(s.stop)
	<-s.done
	s.dirty.Store(true)
	err := s.sync()
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// nodeRec is a nodes record.
type nodeRec struct {
	btime  uint64
	parent fileKey
	name   string
}

func (n nodeRec) encode() []byte {
	b := make([]byte, 24, 24+len(n.name))
	binary.BigEndian.PutUint64(b, n.btime)
	copy(b[8:], n.parent.bytes())
	return append(b, n.name...)
}

func decodeNode(v []byte) (nodeRec, bool) {
	if len(v) < 24 {
		return nodeRec{}, false
	}
	return nodeRec{binary.BigEndian.Uint64(v), keyFrom(v[8:24]), string(v[24:])}, true
}

// meta is what the board sees of a file beyond the host's view.
type meta struct {
	btime      uint64
	set        uint32 // metaUID | metaGID | metaMode | metaType | metaVerf
	uid, gid   uint32
	mode       uint32 // permission bits incl. setuid/setgid/sticky (07777)
	ftype      uint32 // S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK for a placeholder file
	major      uint32
	minor      uint32
	createVerf uint64 // CREATE EXCLUSIVE verifier
}

const (
	metaUID = 1 << iota
	metaGID
	metaMode
	metaType
	metaVerf
)

const metaLen = 8 + 4*7 + 8

func (m meta) encode() []byte {
	b := make([]byte, 0, metaLen)
	b = binary.BigEndian.AppendUint64(b, m.btime)
	for _, v := range []uint32{m.set, m.uid, m.gid, m.mode, m.ftype, m.major, m.minor} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return binary.BigEndian.AppendUint64(b, m.createVerf)
}

func decodeMeta(v []byte) (meta, bool) {
	if len(v) < metaLen {
		return meta{}, false
	}
	u := func(i int) uint32 { return binary.BigEndian.Uint32(v[8+4*i:]) }
	return meta{
		btime: binary.BigEndian.Uint64(v), set: u(0), uid: u(1), gid: u(2), mode: u(3),
		ftype: u(4), major: u(5), minor: u(6), createVerf: binary.BigEndian.Uint64(v[36:]),
	}, true
}

// meta returns k's record if it belongs to the same file (btime).
func (s *store) meta(k fileKey, btime uint64) (meta, bool) {
	s.metaMu.RLock()
	defer s.metaMu.RUnlock()
	m, ok := s.metas[k]
	if !ok || m.btime != btime {
		return meta{}, false
	}
	return m, true
}

// update runs a write transaction that may change meta records.
func (s *store) update(fn func(tx *bolt.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.db.Update(fn)
}

// dropMeta removes k's overlay record, if there is one.
func (x *Export) dropMeta(k fileKey) error {
	x.st.metaMu.RLock()
	_, ok := x.st.metas[k]
	x.st.metaMu.RUnlock()
	if !ok {
		return nil
	}
	return x.st.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Delete(k.bytes()); err != nil {
			return err
		}
		tx.OnCommit(func() {
			x.st.metaMu.Lock()
			delete(x.st.metas, k)
			x.st.metaMu.Unlock()
		})
		return nil
	})
}

// metaTx reads k's record in a transaction.
func metaTx(tx *bolt.Tx, k fileKey, btime uint64) (meta, bool) {
	m, ok := decodeMeta(tx.Bucket(bucketMeta).Get(k.bytes()))
	if !ok || m.btime != btime {
		return meta{}, false
	}
	return m, true
}

func (s *store) putMeta(tx *bolt.Tx, k fileKey, m meta) error {
	if err := tx.Bucket(bucketMeta).Put(k.bytes(), m.encode()); err != nil {
		return err
	}
	tx.OnCommit(func() {
		s.metaMu.Lock()
		s.metas[k] = m
		s.metaMu.Unlock()
	})
	return nil
}

func getNode(tx *bolt.Tx, k fileKey) (nodeRec, bool) {
	return decodeNode(tx.Bucket(bucketNodes).Get(k.bytes()))
}

// putNode records that k lives at parent/name, writing only on change.
func putNode(tx *bolt.Tx, k fileKey, n nodeRec) error {
	b := tx.Bucket(bucketNodes)
	if old, ok := decodeNode(b.Get(k.bytes())); ok && old == n {
		return nil
	}
	return b.Put(k.bytes(), n.encode())
}

func (s *store) forget(tx *bolt.Tx, k fileKey) error {
	if err := tx.Bucket(bucketNodes).Delete(k.bytes()); err != nil {
		return err
	}
	for _, a := range aliases(tx, k) {
		if err := delAlias(tx, k, a.parent, a.name); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketMeta).Delete(k.bytes()); err != nil {
		return err
	}
	tx.OnCommit(func() {
		s.metaMu.Lock()
		delete(s.metas, k)
		s.metaMu.Unlock()
	})
	return nil
}

func aliasKey(k, parent fileKey, name string) []byte {
	return append(append(k.bytes(), parent.bytes()...), name...)
}

// putAlias records parent/name as one of k's names.
func putAlias(tx *bolt.Tx, k fileKey, rec nodeRec) error {
	return tx.Bucket(bucketLinks).Put(aliasKey(k, rec.parent, rec.name), binary.BigEndian.AppendUint64(nil, rec.btime))
}

func delAlias(tx *bolt.Tx, k, parent fileKey, name string) error {
	return tx.Bucket(bucketLinks).Delete(aliasKey(k, parent, name))
}

// aliases lists k's recorded names.
func aliases(tx *bolt.Tx, k fileKey) []nodeRec {
	var out []nodeRec
	prefix := k.bytes()
	c := tx.Bucket(bucketLinks).Cursor()
	for key, v := c.Seek(prefix); key != nil && bytes.HasPrefix(key, prefix); key, v = c.Next() {
		if len(key) < 32 || len(v) < 8 {
			continue
		}
		out = append(out, nodeRec{btime: binary.BigEndian.Uint64(v), parent: keyFrom(key[16:32]), name: string(key[32:])})
	}
	return out
}

func (x *Export) putMetaRaw(k fileKey, m meta) error {
	return x.st.update(func(tx *bolt.Tx) error { return x.st.putMeta(tx, k, m) })
}
