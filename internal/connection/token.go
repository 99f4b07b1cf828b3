package connection

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Token is a dbt Cloud API token. Its zero value is the empty token.
//
// The plain value sits in an unexported field and every formatting hook
// (String, GoString, Format, LogValue, MarshalJSON, MarshalText) prints a
// masked form, so a Token inside a struct printed with %+v, logged with slog
// or encoded as JSON never shows the secret. Use [Token.Reveal] only where
// the token must be sent to dbt Cloud.
type Token struct {
	secret string
}

// NewToken wraps a plain token. Surrounding whitespace is not trimmed here;
// use [ReadToken] to read user input.
func NewToken(s string) Token { return Token{secret: s} }

// Reveal returns the plain token. Call it only to build the Authorization
// header or to encrypt it; never print or log the result.
func (t Token) Reveal() string { return t.secret }

// IsZero reports whether the token is empty.
func (t Token) IsZero() bool { return t.secret == "" }

// Len returns the token's length in characters.
func (t Token) Len() int { return utf8.RuneCountInString(t.secret) }

// Equal reports whether two tokens are the same, so callers can compare
// without revealing them.
func (t Token) Equal(u Token) bool { return t.secret == u.secret }

// String returns the masked token, see [Mask].
func (t Token) String() string { return Mask(t.secret) }

// GoString keeps %#v from printing the secret field.
func (t Token) GoString() string { return "connection.Token(" + Mask(t.secret) + ")" }

// Format masks the token for every verb, including the ones fmt would
// otherwise print raw after a bad-verb error (%d, %x and so on).
func (t Token) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, t.GoString())
		return
	}
	_, _ = io.WriteString(f, t.String())
}

// LogValue masks the token in slog output.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON writes the masked token: JSON output of a Connection (for
// `connection show --json`) must not contain the secret. The store does not
// use this; it writes ciphertexts.
func (t Token) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// MarshalText writes the masked token, for encoders that prefer text.
func (t Token) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// maskVisible is how many leading characters Mask shows: enough to tell a
// service token ("dbtc_") from a user key, too few to help a guesser.
const (
	maskVisible = 4
	// maskMinLen is the shortest token that shows any characters. Below it,
	// four characters would be a large share of the secret.
	maskMinLen = 16
)

// Mask returns a form of token safe to display: the first 4 characters
// followed by stars and the length, e.g. "dbtc****…(40 chars)". Tokens shorter
// than 16 characters show no characters at all, and an empty token is
// "(empty)".
func Mask(token string) string {
	n := utf8.RuneCountInString(token)
	switch {
	case n == 0:
		return "(empty)"
	case n < maskMinLen:
		return fmt.Sprintf("****…(%d chars)", n)
	}
	return fmt.Sprintf("%s****…(%d chars)", string([]rune(token)[:maskVisible]), n)
}

// maxTokenInput bounds ReadToken so a mistaken pipe (a file, /dev/zero)
// fails fast instead of filling memory.
const maxTokenInput = 64 << 10

// ReadToken reads one token from r, typically standard input:
//
//	printf '%s' "$TOKEN" | dbtlink connection add prod --token-stdin
//
// Surrounding whitespace and the final newline are trimmed. Empty input,
// more than one non-empty line, and inner whitespace are rejected, since each
// usually means the wrong thing was piped in. Errors never include the input.
func ReadToken(r io.Reader) (Token, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxTokenInput+1))
	if err != nil {
		return Token{}, fmt.Errorf("read token from standard input: %w", err)
	}
	if len(data) > maxTokenInput {
		return Token{}, fmt.Errorf("read token: input is longer than %d bytes; pipe in only the token", maxTokenInput)
	}
	s := strings.TrimSpace(string(data))
	if s == "" {
		return Token{}, errors.New("read token: input is empty; pipe the token into standard input, e.g. printf '%s' \"$DBT_CLOUD_API_TOKEN\" | dbtlink connection add NAME")
	}
	sc := bufio.NewScanner(strings.NewReader(s))
	lines := 0
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			lines++
		}
	}
	if lines > 1 {
		return Token{}, fmt.Errorf("read token: input has %d lines; pipe in only the token, on one line", lines)
	}
	if strings.ContainsFunc(s, isSpaceOrControl) {
		return Token{}, errors.New("read token: the token contains spaces or control characters; pipe in only the token")
	}
	if !utf8.ValidString(s) {
		return Token{}, errors.New("read token: input is not valid UTF-8; pipe in only the token")
	}
	return NewToken(s), nil
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f
}
