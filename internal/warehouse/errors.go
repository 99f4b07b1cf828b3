package warehouse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Reasons a connection fails, for errors.Is on a [ConnectError].
var (
	ErrRefused        = errors.New("connection refused")
	ErrHostNotFound   = errors.New("host not found")
	ErrTimeout        = errors.New("connection timed out")
	ErrAuth           = errors.New("authentication failed")
	ErrNoDatabase     = errors.New("database does not exist")
	ErrTLS            = errors.New("TLS failed")
	ErrNoCgo          = errors.New("built without cgo")
	ErrFileNotFound   = errors.New("database file not found")
	ErrFileLocked     = errors.New("database file locked")
	ErrPermission     = errors.New("permission denied")
	ErrUnknownFailure = errors.New("connection failed")
)

// ConnectError is a failed connection, said in plain words. Its text
// never contains the secret, and it does not wrap the driver's error
// (which may hold the connection string); Detail keeps the driver's
// words with the secret removed.
type ConnectError struct {
	Warehouse string // the connection's name
	Reason    error  // one of the Err* values above
	Message   string // one sentence: what happened and what to do
	Detail    string // the driver's message, redacted
}

func (e *ConnectError) Error() string {
	s := "connect to warehouse " + e.Warehouse + ": " + e.Message
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns the Reason, for errors.Is(err, warehouse.ErrAuth).
func (e *ConnectError) Unwrap() error { return e.Reason }

// redact removes secret from err's text; it returns a plain error that
// does not wrap err (whose chain may hold the secret), except for context
// errors, kept so callers can tell cancellation.
func redact(err error, secret string) error {
	if err == nil {
		return nil
	}
	msg := redactWith(err.Error(), secret)
	switch {
	case errors.Is(err, context.Canceled):
		return &redactedError{msg: msg, cause: context.Canceled}
	case errors.Is(err, context.DeadlineExceeded):
		return &redactedError{msg: msg, cause: context.DeadlineExceeded}
	}
	return &redactedError{msg: msg}
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// diagnosePG explains a pgx connection error in plain words.
func diagnosePG(name, host string, database string, err error, secret string) error {
	if errors.Is(err, context.Canceled) {
		return redact(err, secret)
	}
	ce := &ConnectError{Warehouse: name, Reason: ErrUnknownFailure, Detail: redactWith(pgDetail(err), secret)}
	var pgErr *pgconn.PgError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000"):
		ce.Reason = ErrAuth
		ce.Message = "the server refused the user name or password: check the user and the stored secret"
		if pgErr.Code == "28000" {
			ce.Message = "the server does not allow this user to connect from here (pg_hba.conf) or refused its credentials: check the user, the secret and the server's access rules"
		}
	case errors.As(err, &pgErr) && pgErr.Code == "3D000":
		ce.Reason = ErrNoDatabase
		ce.Message = "database " + quoteName(database) + " does not exist on the server: check the database name (Test lists the databases you can see)"
	case errors.As(err, &pgErr) && pgErr.Code == "42501":
		ce.Reason = ErrPermission
		ce.Message = "the server denied permission to connect: grant CONNECT on the database to the user"
	case errors.As(err, &dnsErr):
		ce.Reason = ErrHostNotFound
		ce.Message = "host " + quoteName(host) + " was not found (DNS): check the host name"
	case errors.Is(err, syscall.ECONNREFUSED):
		ce.Reason = ErrRefused
		ce.Message = "nothing accepts connections at " + quoteName(host) + ": check the host and port, and that the server is running"
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		strings.Contains(ce.Detail, "tls:"), strings.Contains(ce.Detail, "x509:"), strings.Contains(ce.Detail, "server refused TLS"):
		ce.Reason = ErrTLS
		ce.Message = "the TLS handshake failed: check sslmode (the server may not offer TLS, or its certificate is not trusted; set sslrootcert for a private CA)"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		ce.Reason = ErrTimeout
		ce.Message = "no answer from " + quoteName(host) + " in time: check the host, port and any firewall between"
	default:
		ce.Message = "the connection failed"
	}
	return ce
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// pgDetail is the innermost useful message of a pgx connect error.
func pgDetail(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Severity + ": " + pgErr.Message + " (SQLSTATE " + pgErr.Code + ")"
	}
	return err.Error()
}

func quoteName(s string) string {
	if s == "" {
		return "(default)"
	}
	return `"` + s + `"`
}
