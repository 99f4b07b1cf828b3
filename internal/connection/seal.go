package connection

import (
	"encoding/json"
	"fmt"
)

// SealSecret encrypts secret with the store's current key (creating the key
// file on first use, as Add does) for use outside the connections file: the
// server keeps connection tokens and webhook secrets in its database, sealed
// here, so a database dump alone reveals no secret. recordID binds the
// ciphertext to where it is kept (see associatedData). It returns the
// envelope and the id of the key used.
func (s *Store) SealSecret(recordID, secret string) (blob []byte, keyID string, err error) {
	if secret == "" {
		return nil, "", fmt.Errorf("seal %s: the secret is empty", recordID)
	}
	var k Key
	if err := s.withLock(func() error {
		var err error
		k, err = s.encryptionKey(true)
		return err
	}); err != nil {
		return nil, "", err
	}
	sl, err := seal(k, recordID, NewToken(secret))
	if err != nil {
		return nil, "", fmt.Errorf("seal %s: %w", recordID, err)
	}
	blob, err = json.Marshal(sl)
	if err != nil {
		return nil, "", fmt.Errorf("seal %s: %w", recordID, err)
	}
	return blob, sl.KeyID, nil
}

// OpenSecret decrypts an envelope made by SealSecret for the same
// recordID. name is used in messages (the connection the secret belongs
// to). A missing key gives a *KeyMissingError that says where to find it.
func (s *Store) OpenSecret(name, recordID string, blob []byte) (Token, error) {
	var sl sealed
	if err := json.Unmarshal(blob, &sl); err != nil {
		return Token{}, fmt.Errorf("%s: the stored secret is not a sealed envelope: %w", name, err)
	}
	k, err := s.keyByID(name, sl.KeyID)
	if err != nil {
		return Token{}, err
	}
	return open(k, recordID, sl)
}

// ResealSecret opens an envelope made by SealSecret for recordID, with
// whichever known key sealed it (see keyByID: the old key of a rotation is
// kept as secret-<id>.key), and seals the secret again with to. Key rotation
// uses it for the secrets the server keeps in its database; the secret is
// never returned.
func (s *Store) ResealSecret(name, recordID string, blob []byte, to Key) (newBlob []byte, err error) {
	if to.IsZero() {
		return nil, fmt.Errorf("%s: re-seal: the new key is empty", name)
	}
	tok, err := s.OpenSecret(name, recordID, blob)
	if err != nil {
		return nil, err
	}
	sl, err := seal(to, recordID, tok)
	if err != nil {
		return nil, fmt.Errorf("%s: re-seal: %w", name, err)
	}
	newBlob, err = json.Marshal(sl)
	if err != nil {
		return nil, fmt.Errorf("%s: re-seal: %w", name, err)
	}
	return newBlob, nil
}

// WarehouseRecordID is the record id a warehouse password kept in the
// server's database is sealed for: the sealer (internal/catalog) and key
// rotation (internal/tracker) must agree on it, so it is defined once here.
func WarehouseRecordID(name string) string { return "warehouse:" + name }
