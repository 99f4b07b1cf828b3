package connection

import (
	"errors"
	"strings"
	"testing"
)

func TestSealSecretRoundTrip(t *testing.T) {
	t.Parallel()
	s, err := NewStore(t.TempDir(), WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	blob, keyID, err := s.SealSecret("db/connection/prod", "s3cret-token")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(blob), "s3cret") {
		t.Fatalf("envelope holds the plain secret: %s", blob)
	}
	if keyID == "" {
		t.Fatal("no key id")
	}
	got, err := s.OpenSecret("prod", "db/connection/prod", blob)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reveal() != "s3cret-token" {
		t.Fatalf("got %q", got.Reveal())
	}
	// Bound to its record: another record id does not open it.
	if _, err := s.OpenSecret("prod", "db/connection/other", blob); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("moved envelope: err = %v, want ErrDecrypt", err)
	}
	if _, _, err := s.SealSecret("x", ""); err == nil {
		t.Fatal("empty secret sealed")
	}
	if _, err := s.OpenSecret("prod", "db/connection/prod", []byte("nope")); err == nil {
		t.Fatal("garbage opened")
	}
}
