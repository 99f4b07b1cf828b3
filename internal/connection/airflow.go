package connection

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// airflowEnvPrefix starts every Airflow connection variable.
const airflowEnvPrefix = "AIRFLOW_CONN_"

// ErrNotDbtCloud is wrapped by ParseAirflow errors for connections of
// another type (postgres, http, ...), which ImportAirflow skips.
var ErrNotDbtCloud = errors.New("not a dbt Cloud connection")

// airflowConn holds the Airflow connection fields dbt Cloud uses.
type airflowConn struct {
	connType string
	login    string
	password string
	host     string // may include ":port" or a scheme
	schema   string
	extra    map[string]any
}

// ParseAirflow reads the value of AIRFLOW_CONN_<ID> for an Airflow dbt Cloud
// connection (apache-airflow-providers-dbt-cloud) and returns it as a
// connection named after id (lower case, other characters turned into '-').
//
// Both Airflow forms are accepted:
//
//	dbt-cloud://ACCOUNT_ID:TOKEN@HOST            (URI; parts percent-encoded)
//	{"conn_type": "dbt_cloud", "login": "ACCOUNT_ID", "password": "TOKEN", "host": "HOST"}
//
// The provider maps login to the account id, password to the token and host
// to the tenant domain (default cloud.getdbt.com). Provider versions before
// 2.3.1 took a tenant name from the schema field ("acme" meaning
// acme.getdbt.com); that and an extra "tenant" field are used when host is
// empty.
//
// The account id is optional in Airflow: when login is empty, AccountID is
// 0 and the caller must ask for it ([Connection.Validate] fails until then).
// A connection of another type fails with an error matching
// [ErrNotDbtCloud]. No error ever contains the value or the token.
func ParseAirflow(id, value string) (*Connection, error) {
	envVar := airflowEnvPrefix + strings.ToUpper(id)
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, fmt.Errorf("%s is empty", envVar)
	}
	var ac *airflowConn
	var err error
	if strings.HasPrefix(value, "{") {
		ac, err = parseAirflowJSON(value)
	} else {
		ac, err = parseAirflowURI(value)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envVar, err)
	}
	if t := strings.ReplaceAll(strings.ToLower(ac.connType), "-", "_"); t != "dbt_cloud" {
		return nil, fmt.Errorf("%s: %w (its type is %q)", envVar, ErrNotDbtCloud, ac.connType)
	}
	if ac.password == "" {
		return nil, fmt.Errorf("%s has no password; in Airflow's dbt Cloud connection the password holds the API token", envVar)
	}
	c := &Connection{
		Name:   sanitizeName(id),
		Token:  NewToken(ac.password),
		Source: SourceAirflow,
		Origin: envVar,
	}
	if err := ValidateName(c.Name); err != nil {
		return nil, fmt.Errorf("%s: cannot name a connection after it: %w", envVar, err)
	}
	if ac.login != "" {
		// Never echo login: in a mangled URI it may hold part of the token.
		aid, err := parseAccountID(ac.login)
		if err != nil {
			return nil, fmt.Errorf("%s: the login (the dbt Cloud account id) is not a positive number; if the token contains ':', '@' or '/', percent-encode it", envVar)
		}
		c.AccountID = aid
	}
	host := ac.tenantHost()
	norm, err := NormalizeHost(host)
	if err != nil {
		// The host is not echoed either, for the same reason as login.
		return nil, fmt.Errorf("%s: the host is not a valid dbt Cloud host (expected e.g. cloud.getdbt.com or ab123.us1.dbt.com); if the token contains '/', '@' or '?', percent-encode it", envVar)
	}
	c.Host = norm
	return c, nil
}

// tenantHost applies the provider's rules for the dbt Cloud host.
func (ac *airflowConn) tenantHost() string {
	if ac.host != "" {
		return ac.host
	}
	tenant, _ := ac.extra["tenant"].(string)
	if tenant == "" {
		tenant = ac.schema
	}
	switch {
	case tenant == "":
		return DefaultHost
	case strings.Contains(tenant, "."):
		return tenant
	default:
		// The old provider built https://{tenant}.getdbt.com.
		return tenant + ".getdbt.com"
	}
}

// parseAirflowURI splits conn-type://login:password@host:port/schema?extra
// the way Airflow does (Python's urlsplit, then unquote on each part). It is
// written by hand because net/url rejects percent-encoded ASCII in hosts,
// which Airflow allows (e.g. an encoded "https://" prefix).
func parseAirflowURI(v string) (*airflowConn, error) {
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok || scheme == "" {
		return nil, errors.New(`not an Airflow connection: expected a URI like dbt-cloud://ACCOUNT_ID:TOKEN@HOST or a JSON object`)
	}
	ac := &airflowConn{connType: scheme}
	netloc := rest
	tail := ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		netloc, tail = rest[:i], rest[i:]
	}
	tail, _, _ = strings.Cut(tail, "#")
	path, query, _ := strings.Cut(tail, "?")

	hostport := netloc
	if !strings.Contains(netloc, "@") && strings.Contains(tail, "@") {
		// Python would read this the same way, but the user almost surely
		// pasted a token containing '/', '?' or '#' without encoding it.
		return nil, errors.New("the login or password contains '/', '?' or '#'; percent-encode them (e.g. with urllib.parse.quote(token, safe=''))")
	}
	if i := strings.LastIndex(netloc, "@"); i >= 0 {
		userinfo := netloc[:i]
		hostport = netloc[i+1:]
		login, password, _ := strings.Cut(userinfo, ":")
		var err error
		if ac.login, err = url.PathUnescape(login); err != nil {
			return nil, errors.New("the login has a malformed percent-encoding")
		}
		if ac.password, err = url.PathUnescape(password); err != nil {
			return nil, errors.New("the password (token) has a malformed percent-encoding")
		}
	}
	h, err := url.PathUnescape(hostport)
	if err != nil {
		return nil, errors.New("the host has a malformed percent-encoding")
	}
	ac.host = h
	if s, err := url.PathUnescape(strings.TrimPrefix(path, "/")); err == nil {
		ac.schema = s
	} else {
		return nil, errors.New("the schema (path) has a malformed percent-encoding")
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, errors.New("the query (extra) is malformed")
		}
		ac.extra = map[string]any{}
		if raw := q.Get("__extra__"); raw != "" {
			if err := json.Unmarshal([]byte(raw), &ac.extra); err != nil {
				return nil, errors.New("the __extra__ parameter is not a JSON object")
			}
		} else {
			for k := range q {
				ac.extra[k] = q.Get(k)
			}
		}
	}
	return ac, nil
}

// parseAirflowJSON reads Airflow's JSON connection form. login may be a
// string or a number; extra may be an object or a string holding JSON.
func parseAirflowJSON(v string) (*airflowConn, error) {
	var raw struct {
		ConnType string          `json:"conn_type"`
		Login    json.RawMessage `json:"login"`
		Password *string         `json:"password"`
		Host     *string         `json:"host"`
		Schema   *string         `json:"schema"`
		Port     json.RawMessage `json:"port"`
		Extra    json.RawMessage `json:"extra"`
	}
	dec := json.NewDecoder(strings.NewReader(v))
	if err := dec.Decode(&raw); err != nil {
		// Do not wrap err: a type error could quote part of the value.
		return nil, errors.New("the JSON connection is malformed; expected {\"conn_type\": \"dbt_cloud\", \"login\": ACCOUNT_ID, \"password\": TOKEN, \"host\": HOST}")
	}
	if raw.ConnType == "" {
		return nil, errors.New(`the JSON connection has no "conn_type"; for dbt Cloud it is "dbt_cloud"`)
	}
	ac := &airflowConn{connType: raw.ConnType}
	if raw.Password != nil {
		ac.password = *raw.Password
	}
	if raw.Host != nil {
		ac.host = *raw.Host
	}
	if raw.Schema != nil {
		ac.schema = *raw.Schema
	}
	if l := bytes.TrimSpace(raw.Login); len(l) > 0 && !bytes.Equal(l, []byte("null")) {
		var s string
		if err := json.Unmarshal(l, &s); err == nil {
			ac.login = s
		} else {
			ac.login = string(l) // a JSON number; parseAccountID checks it
		}
	}
	if p := bytes.TrimSpace(raw.Port); len(p) > 0 && !bytes.Equal(p, []byte("null")) && ac.host != "" {
		var port json.Number
		if err := json.Unmarshal(p, &port); err == nil && port != "" {
			ac.host += ":" + port.String()
		}
	}
	if e := bytes.TrimSpace(raw.Extra); len(e) > 0 && !bytes.Equal(e, []byte("null")) {
		var s string
		if json.Unmarshal(e, &s) == nil {
			e = []byte(s)
		}
		if len(bytes.TrimSpace(e)) > 0 {
			if err := json.Unmarshal(e, &ac.extra); err != nil {
				return nil, errors.New(`the "extra" field is not a JSON object`)
			}
		}
	}
	return ac, nil
}

// AirflowCandidate is one Airflow connection found by [ImportAirflow].
type AirflowCandidate struct {
	// EnvVar is the variable it came from, e.g. AIRFLOW_CONN_DBT_CLOUD_DEFAULT.
	EnvVar string
	// ConnID is the Airflow connection id, e.g. dbt_cloud_default.
	ConnID string
	// Connection is the parsed connection; nil when Err is set. Its
	// AccountID may be 0 (see [ParseAirflow]).
	Connection *Connection
	// Err says why a dbt Cloud connection could not be read.
	Err error
}

// ImportAirflow finds Airflow dbt Cloud connections in environ (as returned
// by os.Environ; a list rather than a lookup function because finding every
// AIRFLOW_CONN_* variable needs the whole environment).
//
// With an id (e.g. "dbt_cloud_default"), it reads AIRFLOW_CONN_<ID> and
// fails if that is unset, malformed or not a dbt Cloud connection. With an
// empty id, it returns every AIRFLOW_CONN_* variable of type dbt_cloud,
// sorted by variable name, with parse problems reported per candidate in
// Err; connections of other types are skipped. No result and no error means
// none was found.
func ImportAirflow(environ []string, id string) ([]AirflowCandidate, error) {
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, airflowEnvPrefix) && len(k) > len(airflowEnvPrefix) {
			vars[k] = v
		}
	}
	if id != "" {
		envVar := airflowEnvPrefix + strings.ToUpper(id)
		v, ok := vars[envVar]
		if !ok {
			return nil, fmt.Errorf("%s is not set; export the Airflow connection %q in this environment (Airflow reads connections from AIRFLOW_CONN_<ID> variables)", envVar, id)
		}
		c, err := ParseAirflow(id, v)
		if err != nil {
			return nil, err
		}
		return []AirflowCandidate{{EnvVar: envVar, ConnID: id, Connection: c}}, nil
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []AirflowCandidate
	for _, k := range keys {
		connID := strings.ToLower(strings.TrimPrefix(k, airflowEnvPrefix))
		c, err := ParseAirflow(connID, vars[k])
		if errors.Is(err, ErrNotDbtCloud) {
			continue
		}
		if err != nil && !looksLikeDbtCloud(vars[k]) {
			// Unparsable and not recognisably dbt Cloud: not ours to report.
			continue
		}
		out = append(out, AirflowCandidate{EnvVar: k, ConnID: connID, Connection: c, Err: err})
	}
	return out, nil
}

// looksLikeDbtCloud guesses whether a value that failed to parse was meant
// as a dbt Cloud connection, so its error is reported rather than hidden.
func looksLikeDbtCloud(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return strings.HasPrefix(v, "dbt-cloud:") || strings.HasPrefix(v, "dbt_cloud:") ||
		strings.HasPrefix(v, "{") && (strings.Contains(v, `"dbt_cloud"`) || strings.Contains(v, `"dbt-cloud"`))
}
