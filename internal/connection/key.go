package connection

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// EnvSecretKey names the environment variable holding the encryption key,
// as base64 (standard or URL alphabet, padding optional) or hex of 32 bytes.
// When set, it takes precedence over the key file.
const EnvSecretKey = "DBTLINK_SECRET_KEY"

// keySize is the AES-256 key size.
const keySize = 32

// Key is a 32-byte AES-256 key. Like [Token], it redacts itself in every
// formatting hook; only its id is ever shown.
type Key struct {
	b  [keySize]byte
	ok bool
}

// GenerateKey returns a new random key from crypto/rand.
func GenerateKey() (Key, error) {
	var k Key
	if _, err := io.ReadFull(rand.Reader, k.b[:]); err != nil {
		return Key{}, fmt.Errorf("generate encryption key: %w", err)
	}
	k.ok = true
	return k, nil
}

// ParseKey decodes a key given as hex (64 digits) or base64 (standard or URL
// alphabet, with or without padding) of exactly 32 bytes. Errors describe
// the problem without repeating the input.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, errors.New("the key is empty; generate one with: head -c 32 /dev/urandom | base64")
	}
	// Hex is tried first: any hex string is also valid base64, and reading
	// 64 hex digits as base64 would report a confusing length.
	raw, err := hex.DecodeString(s)
	if err != nil {
		raw = nil
	}
	if raw == nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				raw = b
				break
			}
		}
	}
	if raw == nil {
		return Key{}, fmt.Errorf("the key (%d characters) is neither hex nor base64; generate one with: head -c 32 /dev/urandom | base64", len(s))
	}
	if len(raw) != keySize {
		return Key{}, fmt.Errorf("the key decodes to %d bytes, want %d; generate one with: head -c 32 /dev/urandom | base64", len(raw), keySize)
	}
	var k Key
	copy(k.b[:], raw)
	k.ok = true
	return k, nil
}

// IsZero reports whether k was never set.
func (k Key) IsZero() bool { return !k.ok }

// ID returns the key id: the first 8 hex digits of the key's SHA-256. It is
// stored with every ciphertext, so the store can say which key it needs, and
// it names backup key files. It reveals nothing useful about the key.
func (k Key) ID() string {
	if !k.ok {
		return ""
	}
	sum := sha256.Sum256(k.b[:])
	return hex.EncodeToString(sum[:4])
}

// Encode returns the key in base64, the form written to key files and
// accepted by DBTLINK_SECRET_KEY. It is a secret: never print or log it.
func (k Key) Encode() string { return base64.StdEncoding.EncodeToString(k.b[:]) }

// String shows only the key id.
func (k Key) String() string { return "Key(id=" + k.ID() + ")" }

// GoString shows only the key id.
func (k Key) GoString() string { return "connection.Key(id=" + k.ID() + ")" }

// Format shows only the key id, for every verb.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue shows only the key id.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// sealed is a token encrypted at rest. Nonce and Ciphertext are base64 in
// JSON (encoding/json's []byte form).
type sealed struct {
	Alg        string `json:"alg"`
	KeyID      string `json:"key_id"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// algAESGCM names the only algorithm, so a future one can be told apart.
const algAESGCM = "AES-256-GCM"

// associatedData binds a ciphertext to its record id: moving a ciphertext
// into another record makes GCM authentication fail.
func associatedData(recordID string) []byte {
	return []byte("dbtlink/connection/v1:" + recordID)
}

func newAEAD(k Key) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k.b[:])
	if err != nil {
		return nil, fmt.Errorf("init AES: %w", err)
	}
	return cipher.NewGCM(block)
}

// seal encrypts plaintext for recordID with a fresh random nonce.
func seal(k Key, recordID string, t Token) (sealed, error) {
	aead, err := newAEAD(k)
	if err != nil {
		return sealed{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return sealed{}, fmt.Errorf("generate nonce: %w", err)
	}
	return sealed{
		Alg:        algAESGCM,
		KeyID:      k.ID(),
		Nonce:      nonce,
		Ciphertext: aead.Seal(nil, nonce, []byte(t.Reveal()), associatedData(recordID)),
	}, nil
}

// ErrDecrypt is matched by errors from a ciphertext that does not
// authenticate: a wrong key with a colliding id, a tampered file, or a
// ciphertext moved between records.
var ErrDecrypt = errors.New("token does not decrypt")

// open decrypts s for recordID with k, whose id must match s.KeyID.
func open(k Key, recordID string, s sealed) (Token, error) {
	if s.Alg != algAESGCM {
		return Token{}, fmt.Errorf("unsupported encryption %q (written by a newer dbtlink?)", s.Alg)
	}
	aead, err := newAEAD(k)
	if err != nil {
		return Token{}, err
	}
	if len(s.Nonce) != aead.NonceSize() {
		return Token{}, fmt.Errorf("%w: nonce has %d bytes, want %d", ErrDecrypt, len(s.Nonce), aead.NonceSize())
	}
	pt, err := aead.Open(nil, s.Nonce, s.Ciphertext, associatedData(recordID))
	if err != nil {
		return Token{}, fmt.Errorf("%w: the ciphertext or its record was altered, or key %s is not the key it was sealed with", ErrDecrypt, s.KeyID)
	}
	return NewToken(string(pt)), nil
}

// ErrKeyMissing is matched by [*KeyMissingError].
var ErrKeyMissing = errors.New("encryption key missing")

// KeyMissingError reports that a token was sealed with a key that is not
// available, naming the key id so the user can find it.
type KeyMissingError struct {
	Name   string   // the connection
	KeyID  string   // the key it needs
	Tried  []string // where the store looked
	Active string   // id of the key currently in use, if any
}

func (e *KeyMissingError) Error() string {
	msg := fmt.Sprintf("connection %q: its token is encrypted with key %s, which is not available", e.Name, e.KeyID)
	if e.Active != "" {
		msg += fmt.Sprintf(" (the current key is %s)", e.Active)
	}
	if len(e.Tried) > 0 {
		msg += "; looked in " + strings.Join(e.Tried, ", ")
	}
	return msg + fmt.Sprintf("; set %s to that key, or restore the key file secret-%s.key into the dbtlink home directory, or re-add the connection with its token", EnvSecretKey, e.KeyID)
}

// Is makes errors.Is(err, ErrKeyMissing) true.
func (e *KeyMissingError) Is(target error) bool { return target == ErrKeyMissing }
