package connection

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names inside the home directory.
const (
	connectionsFile = "connections.json"
	lockFileName    = "connections.lock"
	keyFileName     = "secret.key"
)

// fileVersion is the connections file format this code reads and writes.
const fileVersion = 1

// defaultLockTimeout bounds how long a command waits for another dbtlink
// process to finish changing the connections file.
const defaultLockTimeout = 10 * time.Second

// Store is the local connections file in a dbtlink home directory. A Store
// holds no open files or cached data: every call reads the file afresh, so a
// Store is safe to share and always sees other processes' changes.
type Store struct {
	dir         string
	getenv      func(string) string
	lockTimeout time.Duration
	now         func() time.Time
	// failAfter, set by tests, makes RotateKey fail after the named step to
	// simulate a crash.
	failAfter string
}

// Option configures a [Store].
type Option func(*Store) error

// WithGetenv sets the environment lookup (default os.Getenv), used for
// DBTLINK_SECRET_KEY, DBTLINK_CONNECTION and the DBT_CLOUD_* variables.
func WithGetenv(getenv func(string) string) Option {
	return func(s *Store) error {
		if getenv == nil {
			return errors.New("connection: WithGetenv: nil function")
		}
		s.getenv = getenv
		return nil
	}
}

// WithLockTimeout sets how long a change waits for another process holding
// the lock (default 10s). Zero means try once.
func WithLockTimeout(d time.Duration) Option {
	return func(s *Store) error {
		if d < 0 {
			return fmt.Errorf("connection: WithLockTimeout: negative duration %s", d)
		}
		s.lockTimeout = d
		return nil
	}
}

// NewStore returns the store in directory dir (see [DefaultHome]). It does
// no I/O; the directory is created, with mode 0700, on the first change.
func NewStore(dir string, opts ...Option) (*Store, error) {
	if dir == "" {
		return nil, errors.New("connection: NewStore: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("connection: NewStore: %w", err)
	}
	s := &Store{dir: abs, getenv: os.Getenv, lockTimeout: defaultLockTimeout, now: time.Now}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// OpenDefault returns the store in [DefaultHome].
func OpenDefault(opts ...Option) (*Store, error) {
	dir, err := DefaultHome()
	if err != nil {
		return nil, err
	}
	return NewStore(dir, opts...)
}

// Dir returns the home directory.
func (s *Store) Dir() string { return s.dir }

// Path returns the connections file's path.
func (s *Store) Path() string { return filepath.Join(s.dir, connectionsFile) }

// KeyPath returns the key file's path (used unless DBTLINK_SECRET_KEY is set).
func (s *Store) KeyPath() string { return filepath.Join(s.dir, keyFileName) }

func (s *Store) backupKeyPath(id string) string {
	return filepath.Join(s.dir, "secret-"+id+".key")
}

// fileData is the on-disk form of the connections file.
type fileData struct {
	Version     int      `json:"version"`
	Connections []record `json:"connections"`
}

// record is one stored connection. ID is random and never reused: it is the
// AES-GCM associated data of the token.
type record struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	AccountID int64     `json:"account_id"`
	Default   bool      `json:"default,omitempty"`
	Token     sealed    `json:"token"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Summary describes a stored connection without decrypting its token, so
// `connection list` works even when the key is missing.
type Summary struct {
	Name      string
	Host      string
	AccountID int64
	Default   bool
	// KeyID is the id of the key the token is encrypted with.
	KeyID     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ErrCorrupt is matched by [*CorruptError].
var ErrCorrupt = errors.New("connections file is corrupt")

// CorruptError reports a connections file that exists but cannot be used.
// The store refuses every change until it is fixed, so that a damaged file
// (which may hold the only copy of a token) is never overwritten.
type CorruptError struct {
	Path    string
	Problem string
	Err     error // the underlying parse or read error, if any
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("connections file %s cannot be used: %s. dbtlink will not change it until this is fixed: repair the file, or move it aside (mv %s %s.broken) and add your connections again",
		e.Path, e.Problem, e.Path, e.Path)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// ErrLocked is matched by [*LockedError].
var ErrLocked = errors.New("connections file is locked")

// LockedError reports that another process held the lock for too long.
type LockedError struct {
	Path   string
	Waited time.Duration
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("another dbtlink process is changing the connections (lock %s held for more than %s); wait for it to finish and retry", e.Path, e.Waited)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// load reads the connections file. A missing file is an empty store; any
// other problem is an error, a *CorruptError when the content is unusable.
func (s *Store) load() (*fileData, error) {
	var fd fileData
	found, err := readJSONFile(s.Path(), &fd, func() error { return s.check(&fd) })
	if err != nil {
		return nil, err
	}
	if !found {
		return &fileData{Version: fileVersion}, nil
	}
	return &fd, nil
}

// describeJSONError adds the line number to a syntax error, which
// encoding/json reports only as a byte offset.
func describeJSONError(err error, data []byte) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("line %d: %v", line, se)
	}
	if errors.Is(err, errors.ErrUnsupported) {
		return "unsupported content"
	}
	return err.Error()
}

// check validates a parsed file, so a hand-edited file with, say, a
// duplicate name is reported instead of half-used.
func (s *Store) check(fd *fileData) error {
	if err := checkVersion(fd.Version, fileVersion); err != nil {
		return err
	}
	names := map[string]bool{}
	ids := map[string]bool{}
	defaults := 0
	for i, r := range fd.Connections {
		where := fmt.Sprintf("connection #%d", i+1)
		if r.Name != "" {
			where = fmt.Sprintf("connection %q", r.Name)
		}
		if err := ValidateName(r.Name); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if names[r.Name] {
			return fmt.Errorf("connection %q appears twice", r.Name)
		}
		names[r.Name] = true
		if r.ID == "" || ids[r.ID] {
			return fmt.Errorf("%s: missing or duplicate record id", where)
		}
		ids[r.ID] = true
		if _, err := NormalizeHost(r.Host); err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
		if r.AccountID <= 0 {
			return fmt.Errorf("%s: account_id must be positive", where)
		}
		if r.Token.KeyID == "" || len(r.Token.Ciphertext) == 0 || len(r.Token.Nonce) == 0 {
			return fmt.Errorf("%s: the encrypted token is incomplete", where)
		}
		if r.Default {
			defaults++
		}
	}
	if defaults > 1 {
		return fmt.Errorf("%d connections are marked default; at most one may be", defaults)
	}
	return nil
}

// save writes fd atomically. The directory is created 0700 if missing.
func (s *Store) save(fd *fileData) error {
	fd.Version = fileVersion
	if fd.Connections == nil {
		fd.Connections = []record{}
	}
	return writeJSONFile(s.Path(), "connections", fd)
}

func (s *Store) ensureDir() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("create dbtlink home %s: %w (set %s to choose another directory)", s.dir, err, EnvHome)
	}
	return nil
}

// withLock runs fn holding the store's lock.
func (s *Store) withLock(fn func() error) error {
	if err := s.ensureDir(); err != nil {
		return err
	}
	unlock, err := lockFile(filepath.Join(s.dir, lockFileName), s.lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// mutate loads the file under the lock, lets fn change it and saves it. If
// the file cannot be loaded nothing is written.
func (s *Store) mutate(fn func(fd *fileData) error) error {
	return mutateFile(s, s.load, s.save, fn)
}

func newRecordID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate record id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func (fd *fileData) find(name string) int {
	return slices.IndexFunc(fd.Connections, func(r record) bool { return r.Name == name })
}

func (fd *fileData) names() []string {
	return sortedNames(fd.Connections, func(r record) string { return r.Name })
}

// AddOptions changes how [Store.Add] treats an existing name.
type AddOptions struct {
	// Replace overwrites a connection of the same name instead of failing
	// with *ExistsError. The replaced connection stays the default if it was.
	Replace bool
}

// Add validates c (normalising its host) and stores it with its token
// encrypted. If c.Default is set, c becomes the only default. Without
// opts.Replace, an existing name fails with an error matching [ErrExists].
func (s *Store) Add(c Connection, opts AddOptions) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.mutate(func(fd *fileData) error {
		idx := fd.find(c.Name)
		if idx >= 0 && !opts.Replace {
			return &ExistsError{Name: c.Name}
		}
		key, err := s.encryptionKey(true)
		if err != nil {
			return err
		}
		id, err := newRecordID()
		if err != nil {
			return err
		}
		tok, err := seal(key, id, c.Token)
		if err != nil {
			return fmt.Errorf("encrypt token of connection %q: %w", c.Name, err)
		}
		now := s.now().UTC()
		r := record{ID: id, Name: c.Name, Host: c.Host, AccountID: c.AccountID, Default: c.Default, Token: tok, CreatedAt: now, UpdatedAt: now}
		if idx >= 0 {
			old := fd.Connections[idx]
			r.CreatedAt = old.CreatedAt
			r.Default = r.Default || old.Default
			fd.Connections[idx] = r
		} else {
			fd.Connections = append(fd.Connections, r)
		}
		if r.Default {
			for i := range fd.Connections {
				fd.Connections[i].Default = fd.Connections[i].Name == c.Name
			}
		}
		return nil
	})
}

// Remove deletes the named connection. A missing name fails with a
// *NotFoundError (errors.Is(err, ErrNotFound)).
func (s *Store) Remove(name string) error {
	return s.mutate(func(fd *fileData) error {
		idx := fd.find(name)
		if idx < 0 {
			return &NotFoundError{Name: name, Known: fd.names()}
		}
		fd.Connections = slices.Delete(fd.Connections, idx, idx+1)
		return nil
	})
}

// SetDefault makes name the default connection; an empty name clears the
// default.
func (s *Store) SetDefault(name string) error {
	return s.mutate(func(fd *fileData) error {
		if name != "" && fd.find(name) < 0 {
			return &NotFoundError{Name: name, Known: fd.names()}
		}
		for i := range fd.Connections {
			fd.Connections[i].Default = fd.Connections[i].Name == name
		}
		return nil
	})
}

// List returns the stored connections, sorted by name, without decrypting
// their tokens.
func (s *Store) List() ([]Summary, error) {
	fd, err := s.load()
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(fd.Connections))
	for _, r := range fd.Connections {
		out = append(out, Summary{Name: r.Name, Host: r.Host, AccountID: r.AccountID, Default: r.Default, KeyID: r.Token.KeyID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt})
	}
	slices.SortFunc(out, func(a, b Summary) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Get returns the named connection with its token decrypted. Errors match
// [ErrNotFound], [ErrCorrupt], [ErrKeyMissing] or [ErrDecrypt].
func (s *Store) Get(name string) (*Connection, error) {
	fd, err := s.load()
	if err != nil {
		return nil, err
	}
	idx := fd.find(name)
	if idx < 0 {
		return nil, &NotFoundError{Name: name, Known: fd.names()}
	}
	return s.decrypt(fd.Connections[idx])
}

func (s *Store) decrypt(r record) (*Connection, error) {
	key, err := s.keyByID(r.Name, r.Token.KeyID)
	if err != nil {
		return nil, err
	}
	tok, err := open(key, r.ID, r.Token)
	if err != nil {
		return nil, fmt.Errorf("connection %q in %s: %w; re-add it with its token (connection add %s --force)", r.Name, s.Path(), err, r.Name)
	}
	return &Connection{
		Name: r.Name, Host: r.Host, AccountID: r.AccountID, Token: tok, Default: r.Default,
		Source: SourceStore, Origin: s.Path(),
	}, nil
}
