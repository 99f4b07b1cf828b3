package connection

import (
	"errors"
	"fmt"
	"strings"
)

// Source says where a connection came from, for `connection list` and for
// error messages that must tell the user what to change.
type Source string

// The sources of a connection.
const (
	SourceStore   Source = "store"   // the local connections file
	SourceEnv     Source = "env"     // DBT_CLOUD_* variables
	SourceAirflow Source = "airflow" // an AIRFLOW_CONN_* variable
)

// Connection is one named dbt Cloud connection.
//
// Printing a Connection with any fmt verb, slog or encoding/json masks the
// token; see [Token].
type Connection struct {
	// Name identifies the connection: letters, digits, '-' and '_'.
	Name string
	// Host is the access URL as "https://host", normalised, without a
	// trailing slash, e.g. "https://ab123.us1.dbt.com".
	Host string
	// AccountID is the dbt Cloud account id (positive).
	AccountID int64
	// Token is the API token (service token or personal access token).
	Token Token
	// Default marks the store's default connection, used when no name is
	// given. At most one stored connection has it.
	Default bool
	// Source says where the connection came from.
	Source Source
	// Origin names the exact origin for messages: the store file's path,
	// "DBT_CLOUD_* environment variables", or "AIRFLOW_CONN_PROD".
	Origin string
}

// Validate checks that c can be stored and used: a valid name, a host that
// normalises, a positive account id and a token. It normalises c.Host in
// place.
func (c *Connection) Validate() error {
	if err := ValidateName(c.Name); err != nil {
		return err
	}
	h, err := NormalizeHost(c.Host)
	if err != nil {
		return fmt.Errorf("connection %q: %w", c.Name, err)
	}
	c.Host = h
	if c.AccountID <= 0 {
		return fmt.Errorf("connection %q: the account id must be a positive number (find it in the dbt Cloud URL: /settings/accounts/<id>)", c.Name)
	}
	if c.Token.IsZero() {
		return fmt.Errorf("connection %q: the API token is empty; create a service token in dbt Cloud under Account settings → Service tokens", c.Name)
	}
	return nil
}

// maxNameLen keeps names usable as file names and in table output.
const maxNameLen = 64

// ErrInvalidName is wrapped by every name validation error.
var ErrInvalidName = errors.New("invalid connection name")

// ValidateName checks a connection name: 1 to 64 characters, each an ASCII
// letter, digit, '-' or '_', starting with a letter or digit. Names are
// case-sensitive.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: the name is empty; use letters, digits, '-' and '_', e.g. \"prod\"", ErrInvalidName)
	case len(name) > maxNameLen:
		return fmt.Errorf("%w: %q is longer than %d characters", ErrInvalidName, name, maxNameLen)
	case name[0] == '-' || name[0] == '_':
		return fmt.Errorf("%w: %q must start with a letter or digit", ErrInvalidName, name)
	}
	for _, r := range name {
		if !isNameRune(r) {
			return fmt.Errorf("%w: %q contains %q; use only letters, digits, '-' and '_'", ErrInvalidName, name, r)
		}
	}
	return nil
}

func isNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// sanitizeName turns a foreign identifier (an Airflow conn id) into a valid
// connection name, replacing other characters with '-'.
func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if isNameRune(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	out := strings.TrimLeft(b.String(), "-_")
	if len(out) > maxNameLen {
		out = out[:maxNameLen]
	}
	return out
}

// ErrNotFound is matched (with errors.Is) by [*NotFoundError].
var ErrNotFound = errors.New("connection not found")

// NotFoundError reports a connection name that is not stored.
type NotFoundError struct {
	Name  string
	Known []string // the stored names, to suggest
}

func (e *NotFoundError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("connection %q not found: no connections are stored; add one with `dbtlink connection add`", e.Name)
	}
	return fmt.Sprintf("connection %q not found; stored connections: %s", e.Name, strings.Join(e.Known, ", "))
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ErrExists is matched by [*ExistsError].
var ErrExists = errors.New("connection already exists")

// ExistsError reports an Add of a name that is already stored.
type ExistsError struct{ Name string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("connection %q already exists; choose another name, or replace it (connection add --force)", e.Name)
}

// Is makes errors.Is(err, ErrExists) true.
func (e *ExistsError) Is(target error) bool { return target == ErrExists }
