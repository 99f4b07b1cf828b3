package connection

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
)

// maxKeyFile bounds a key file read; a key is 45 bytes of base64.
const maxKeyFile = 4 << 10

// ErrKeyFilePermissions is matched by errors about a key file that others
// can read.
var ErrKeyFilePermissions = errors.New("key file is readable by others")

// readKeyFile reads a key file, refusing one that group or others may access
// (the key would no longer be secret) or that is not a regular file.
func readKeyFile(path string) (Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return Key{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return Key{}, fmt.Errorf("key file %s is not a regular file; move it away and restore the key file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return Key{}, fmt.Errorf("%w: %s has mode %#o, so other users may read it and dbtlink refuses to use it; fix with: chmod 600 %s (and consider `dbtlink connection rotate-key`, since the key may have been read)",
			ErrKeyFilePermissions, path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile))
	if err != nil {
		return Key{}, fmt.Errorf("read key file %s: %w", path, err)
	}
	k, err := ParseKey(string(data))
	if err != nil {
		return Key{}, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// writeKeyFile stores k in path, mode 0600, atomically.
func writeKeyFile(path string, k Key) error {
	if err := writeFileAtomic(path, []byte(k.Encode()+"\n")); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	return nil
}

// envKey returns the key from DBTLINK_SECRET_KEY; ok is false when unset.
func (s *Store) envKey() (k Key, ok bool, err error) {
	v := s.getenv(EnvSecretKey)
	if v == "" {
		return Key{}, false, nil
	}
	k, err = ParseKey(v)
	if err != nil {
		return Key{}, true, fmt.Errorf("%s: %w", EnvSecretKey, err)
	}
	return k, true, nil
}

// encryptionKey returns the key new ciphertexts use: DBTLINK_SECRET_KEY if
// set, else the key file. With create, a missing key file is generated
// (callers hold the lock, so two processes cannot create different keys).
func (s *Store) encryptionKey(create bool) (Key, error) {
	if k, ok, err := s.envKey(); ok {
		return k, err
	}
	path := s.KeyPath()
	k, err := readKeyFile(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || !create {
		if errors.Is(err, fs.ErrNotExist) {
			return Key{}, fmt.Errorf("no encryption key: %s does not exist and %s is not set", path, EnvSecretKey)
		}
		return Key{}, err
	}
	k, err = GenerateKey()
	if err != nil {
		return Key{}, err
	}
	if err := writeKeyFile(path, k); err != nil {
		return Key{}, err
	}
	return k, nil
}

// keyByID finds the key with the given id among DBTLINK_SECRET_KEY, the key
// file and the backup key file secret-<id>.key. Because a rotation writes
// the new key as secret-<id>.key before it re-encrypts anything, every record
// stays readable whatever step a rotation stopped at.
func (s *Store) keyByID(name, id string) (Key, error) {
	miss := &KeyMissingError{Name: name, KeyID: id}
	if k, ok, err := s.envKey(); ok {
		if err != nil {
			return Key{}, err
		}
		if k.ID() == id {
			return k, nil
		}
		miss.Tried = append(miss.Tried, EnvSecretKey)
		miss.Active = k.ID()
	}
	for _, path := range []string{s.KeyPath(), s.backupKeyPath(id)} {
		k, err := readKeyFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			miss.Tried = append(miss.Tried, path)
			continue
		case err != nil:
			return Key{}, err
		case k.ID() == id:
			return k, nil
		}
		miss.Tried = append(miss.Tried, path)
		if miss.Active == "" {
			miss.Active = k.ID()
		}
	}
	return Key{}, miss
}

// RotateResult reports what [Store.RotateKey] did.
type RotateResult struct {
	// Rotated is the number of connections re-encrypted.
	Rotated int
	// RotatedWarehouses is the number of warehouse passwords re-encrypted.
	RotatedWarehouses int
	// OldKeyIDs are the ids of the keys the tokens used before.
	OldKeyIDs []string
	// NewKeyID is the id of the new key, now in the key file.
	NewKeyID string
	// Backup is the path the previous key file was kept at
	// (secret-<oldid>.key), or "" if there was no key file. Delete it once
	// every copy of the connections file made before the rotation is gone.
	Backup string
	// EnvKeySet is true when DBTLINK_SECRET_KEY is set. It still holds the
	// old key and would be used for new connections, so the user should
	// unset it (the new key is in the key file) or set it to the new key.
	EnvKeySet bool
}

// RotateKey re-encrypts every stored token and warehouse password with newKey and makes newKey the
// key file's key.
//
// No step can lose data: all tokens are decrypted before anything is
// written (a token that does not decrypt aborts the rotation unchanged); the
// previous key file is copied to secret-<oldid>.key and the new key is
// written to secret-<newid>.key before the connections file is replaced;
// only then does the key file switch to the new key. If the process dies at
// any point, [Store.Get] still finds the key for every record.
func (s *Store) RotateKey(newKey Key) (*RotateResult, error) {
	if newKey.IsZero() {
		return nil, errors.New("rotate key: the new key is empty; use GenerateKey or ParseKey")
	}
	res := &RotateResult{NewKeyID: newKey.ID()}
	err := s.withLock(func() error {
		fd, err := s.load()
		if err != nil {
			return err
		}
		// 1. Decrypt everything first, so a missing key aborts cleanly.
		tokens := make([]Token, len(fd.Connections))
		for i, r := range fd.Connections {
			c, err := s.decrypt(r)
			if err != nil {
				return fmt.Errorf("rotate key: nothing was changed: %w", err)
			}
			tokens[i] = c.Token
			if !slices.Contains(res.OldKeyIDs, r.Token.KeyID) {
				res.OldKeyIDs = append(res.OldKeyIDs, r.Token.KeyID)
			}
		}
		if err := s.checkWarehousesOpen(); err != nil {
			return fmt.Errorf("rotate key: nothing was changed: %w", err)
		}
		_, res.EnvKeySet, _ = s.envKey()

		// 2. Keep the current key file under its id.
		cur, err := readKeyFile(s.KeyPath())
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("rotate key: %w", err)
		case cur.ID() == newKey.ID():
			return errors.New("rotate key: the new key is the key already in use; generate a new one")
		default:
			backup := s.backupKeyPath(cur.ID())
			if err := s.keepBackup(backup, cur); err != nil {
				return err
			}
			res.Backup = backup
		}
		if err := s.step("backup"); err != nil {
			return err
		}

		// 3. Make the new key findable before any record needs it.
		staged := s.backupKeyPath(newKey.ID())
		if err := writeKeyFile(staged, newKey); err != nil {
			return fmt.Errorf("rotate key: nothing was changed: %w", err)
		}
		if err := s.step("staged"); err != nil {
			return err
		}

		// 4. Re-encrypt, keeping record ids (the associated data).
		for i := range fd.Connections {
			r := &fd.Connections[i]
			sl, err := seal(newKey, r.ID, tokens[i])
			if err != nil {
				return fmt.Errorf("rotate key: encrypt connection %q: %w", r.Name, err)
			}
			r.Token = sl
			r.UpdatedAt = s.now().UTC()
		}
		if err := s.save(fd); err != nil {
			return fmt.Errorf("rotate key: %w", err)
		}
		res.Rotated = len(fd.Connections)
		if err := s.step("records"); err != nil {
			return err
		}
		// The warehouses file is written second: a crash between the two
		// leaves its passwords on the old key, which the backup still holds.
		if res.RotatedWarehouses, err = s.rotateWarehouses(newKey, &res.OldKeyIDs); err != nil {
			return fmt.Errorf("rotate key: the connections were re-encrypted, the warehouses not (they stay readable with the kept key; run rotate-key again): %w", err)
		}
		if err := s.step("warehouses"); err != nil {
			return err
		}

		// 5. Switch the key file; the staged copy is then redundant.
		if err := writeKeyFile(s.KeyPath(), newKey); err != nil {
			return fmt.Errorf("rotate key: the connections were re-encrypted with key %s, kept in %s, but the key file could not be replaced: %w", newKey.ID(), staged, err)
		}
		if err := os.Remove(staged); err == nil {
			_ = syncDir(s.dir)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// keepBackup writes the backup key file unless one with the same key is
// already there; an existing file with another key is never overwritten.
func (s *Store) keepBackup(path string, k Key) error {
	existing, err := readKeyFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := writeKeyFile(path, k); err != nil {
			return fmt.Errorf("rotate key: back up the current key: nothing was changed: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("rotate key: nothing was changed: %w", err)
	case existing.ID() != k.ID():
		return fmt.Errorf("rotate key: nothing was changed: %s exists but holds key %s; move it away", path, existing.ID())
	}
	return nil
}

// step lets tests stop a rotation after a named step, as a crash would.
func (s *Store) step(name string) error {
	if s.failAfter == name {
		return fmt.Errorf("rotate key: simulated failure after step %q", name)
	}
	return nil
}
