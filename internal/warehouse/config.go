package warehouse

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Config says how to reach a warehouse. It never holds the password: that
// is kept sealed elsewhere and passed to [Adapter.Open] or
// [Config.ConnString] on its own.
//
// PostgreSQL and Redshift take either DSN (a postgres:// URL or a
// "host=... dbname=..." keyword string, without a password) or the
// Host/Port/Database/User/SSLMode fields. DuckDB takes DSN as the path of
// its database file, opened read-only.
type Config struct {
	Name string `json:"name"` // the connection's name in dbtlink
	Type Type   `json:"type"`

	DSN string `json:"dsn,omitempty"`

	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"` // 0 means the default (5432, Redshift 5439)
	Database string `json:"database,omitempty"`
	User     string `json:"user,omitempty"`
	SSLMode  string `json:"sslmode,omitempty"` // disable, allow, prefer, require, verify-ca, verify-full
	// Options are further connection parameters (application_name,
	// search_path, connect_timeout, sslrootcert, ...), added to DSN or the
	// fields above.
	Options map[string]string `json:"options,omitempty"`

	// Databases are further databases on the same server to crawl after
	// the one connected to. A PostgreSQL connection sees one database, so
	// a crawl opens one connection to each.
	Databases []string `json:"databases,omitempty"`

	Filter Filter `json:"filter,omitzero"`
}

var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// secretOptions are connection parameters that carry secrets, refused in
// Options and DSN.
var secretOptions = []string{"password"}

// Validate reports what is wrong with c, all problems at once, each
// saying how to fix it.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(c.Name) == "" {
		bad("name is empty: give the connection a name")
	} else if strings.IndexFunc(c.Name, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		bad("name %q holds spaces or control characters: use letters, digits, - and _", c.Name)
	}
	if _, err := Lookup(c.Type); err != nil {
		errs = append(errs, err)
		return errors.Join(errs...)
	}
	switch c.Type {
	case Postgres, Redshift:
		errs = append(errs, c.validatePostgres()...)
	case DuckDB:
		errs = append(errs, c.validateDuckDB()...)
	}
	if err := c.Filter.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("filter: %w", err))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("warehouse %s: %w", c.Name, errors.Join(errs...))
}

func (c Config) validatePostgres() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	fieldsSet := c.Host != "" || c.Port != 0 || c.Database != "" || c.User != "" || c.SSLMode != ""
	switch {
	case c.DSN == "" && c.Host == "":
		bad("no DSN and no host: give a DSN such as postgres://user@host:5432/db, or a host")
	case c.DSN != "" && fieldsSet:
		bad("both DSN and host/port/database/user/sslmode are set: give one or the other")
	case c.DSN != "":
		if _, pw, err := SplitPassword(c.DSN); err != nil {
			errs = append(errs, err)
		} else if pw != "" {
			bad("the DSN holds a password: remove it from the DSN and store it as the connection's secret (it is kept sealed, never in the configuration)")
		}
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port %d is out of range 1-65535", c.Port)
	}
	if c.SSLMode != "" && !slices.Contains(sslModes, c.SSLMode) {
		bad("sslmode %q is unknown: use one of %s", c.SSLMode, strings.Join(sslModes, ", "))
	}
	for k := range c.Options {
		if k == "" {
			bad("an option has an empty name")
		}
		if slices.Contains(secretOptions, strings.ToLower(k)) {
			bad("option %q holds a secret: store the password as the connection's secret instead", k)
		}
	}
	seen := map[string]bool{}
	for _, d := range c.Databases {
		switch {
		case strings.TrimSpace(d) == "":
			bad("databases: an empty database name")
		case seen[d]:
			bad("databases: %q is listed twice", d)
		}
		seen[d] = true
	}
	return errs
}

func (c Config) validateDuckDB() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case strings.TrimSpace(c.DSN) == "":
		bad("no DSN: for DuckDB give the path of the database file")
	case c.DSN == ":memory:" || strings.HasPrefix(c.DSN, ":memory:"):
		bad("DSN %q is an in-memory database, which holds nothing to crawl: give the path of a database file", c.DSN)
	case strings.ContainsAny(c.DSN, "?"):
		bad("DSN %q holds options (?...): give the path of the database file only (it is opened read-only)", c.DSN)
	}
	if c.Host != "" || c.Port != 0 || c.Database != "" || c.User != "" || c.SSLMode != "" || len(c.Options) > 0 {
		bad("host, port, database, user, sslmode and options do not apply to DuckDB: give the file path as DSN")
	}
	if len(c.Databases) > 0 {
		bad("databases do not apply to DuckDB: a DuckDB file is one database")
	}
	return errs
}

// ConnString returns the connection string for PostgreSQL or Redshift
// with secret as the password, or DuckDB's file path. The result holds the
// secret: hand it to a driver, never print or store it.
func (c Config) ConnString(secret string) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	if c.Type == DuckDB {
		return c.DSN, nil
	}
	s := c.connString()
	if secret == "" {
		return s, nil
	}
	if isURL(s) {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("warehouse %s: the DSN is not a valid URL: %v", c.Name, redactURLError(err))
		}
		u.User = url.UserPassword(u.User.Username(), secret)
		return u.String(), nil
	}
	return s + " password=" + quoteKV(secret), nil
}

// connString is the connection string without a password: DSN (with the
// options added) or one built from the fields.
func (c Config) connString() string {
	keys := slices.Sorted(maps.Keys(c.Options))
	if c.DSN != "" {
		if isURL(c.DSN) {
			if len(keys) == 0 {
				return c.DSN
			}
			sep := "?"
			if strings.Contains(c.DSN, "?") {
				sep = "&"
			}
			q := url.Values{}
			for _, k := range keys {
				q.Set(k, c.Options[k])
			}
			return c.DSN + sep + q.Encode()
		}
		var b strings.Builder
		b.WriteString(c.DSN)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%s", k, quoteKV(c.Options[k]))
		}
		return b.String()
	}
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+quoteKV(v))
		}
	}
	add("host", c.Host)
	port := c.Port
	if port == 0 && c.Type == Redshift {
		port = 5439
	}
	if port != 0 {
		add("port", strconv.Itoa(port))
	}
	add("dbname", c.Database)
	add("user", c.User)
	add("sslmode", c.SSLMode)
	for _, k := range keys {
		add(k, c.Options[k])
	}
	return strings.Join(parts, " ")
}

// Redacted describes c for logs and output, without any secret (a
// password wrongly left in DSN shows as xxxxx).
func (c Config) Redacted() string {
	var target string
	if c.Type == DuckDB {
		target = c.DSN
	} else {
		s := c.connString()
		if clean, pw, err := SplitPassword(s); err == nil {
			if pw != "" {
				clean = redactWith(s, pw)
			}
			target = clean
		} else {
			target = "(unreadable DSN)"
		}
	}
	out := fmt.Sprintf("%s (%s) %s", c.Name, c.Type, target)
	if len(c.Databases) > 0 {
		out += " +databases " + strings.Join(c.Databases, ",")
	}
	return out
}

// String is [Config.Redacted].
func (c Config) String() string { return c.Redacted() }

// GoString keeps %#v from printing fields one by one.
func (c Config) GoString() string { return "warehouse.Config{" + c.Redacted() + "}" }

func isURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// SplitPassword returns dsn without its password, and the password (""
// when there is none), for a postgres:// URL or a keyword/value string.
// Use it to move a password someone pasted into a DSN into the secret.
func SplitPassword(dsn string) (clean, password string, err error) {
	if isURL(dsn) {
		return splitURLPassword(dsn)
	}
	if strings.Contains(dsn, "://") {
		scheme, _, _ := strings.Cut(dsn, "://")
		return "", "", fmt.Errorf("DSN scheme %q is not postgres:// or postgresql://", scheme)
	}
	return splitKVPassword(dsn)
}

func splitURLPassword(dsn string) (string, string, error) {
	scheme, rest, _ := strings.Cut(dsn, "://")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	var password string
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hosts := authority[:at], authority[at+1:]
		if user, pw, ok := strings.Cut(userinfo, ":"); ok {
			p, err := url.PathUnescape(pw)
			if err != nil {
				p = pw
			}
			password = p
			authority = user + "@" + hosts
		}
	}
	// A password given as a query parameter.
	if path, query, ok := strings.Cut(tail, "?"); ok {
		frag := ""
		if q, f, ok := strings.Cut(query, "#"); ok {
			query, frag = q, "#"+f
		}
		var kept []string
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "password" {
				if p, err := url.QueryUnescape(v); err == nil {
					v = p
				}
				password = v
				continue
			}
			kept = append(kept, kv)
		}
		tail = path
		if len(kept) > 0 {
			tail += "?" + strings.Join(kept, "&")
		}
		tail += frag
	}
	return scheme + "://" + authority + tail, password, nil
}

// splitKVPassword handles libpq's keyword/value form: key=value pairs
// separated by spaces, values optionally single-quoted with \ escapes.
func splitKVPassword(dsn string) (string, string, error) {
	var kept []string
	var password string
	s := dsn
	for {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return "", "", errors.New("the DSN is neither a postgres:// URL nor key=value pairs (such as host=db.example.com dbname=analytics)")
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeftFunc(s[eq+1:], unicode.IsSpace)
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			i, closed := 1, false
			for ; i < len(s); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
					val.WriteByte(s[i])
					continue
				}
				if s[i] == '\'' {
					closed = true
					i++
					break
				}
				val.WriteByte(s[i])
			}
			if !closed {
				return "", "", fmt.Errorf("the DSN has an unterminated quoted value for %q", key)
			}
			s = s[i:]
		} else {
			i := 0
			for ; i < len(s) && !unicode.IsSpace(rune(s[i])); i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
			s = s[i:]
		}
		if key == "password" {
			password = val.String()
			continue
		}
		kept = append(kept, key+"="+quoteKV(val.String()))
	}
	return strings.Join(kept, " "), password, nil
}

// quoteKV quotes v for a keyword/value connection string when needed.
func quoteKV(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r'\\=") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// redactWith replaces every occurrence of secret in s (and its URL-escaped
// forms) with xxxxx.
func redactWith(s, secret string) string {
	if secret == "" {
		return s
	}
	for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), url.UserPassword("", secret).String()[1:]} {
		if form != "" {
			s = strings.ReplaceAll(s, form, "xxxxx")
		}
	}
	return s
}

func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
