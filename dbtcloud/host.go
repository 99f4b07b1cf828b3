package dbtcloud

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// hostFormHelp is appended to every NormalizeHost error so that a user who
// pasted the wrong thing learns what to paste instead.
const hostFormHelp = `expected a dbt Cloud access URL such as "cloud.getdbt.com", "https://ab123.us1.dbt.com" or "https://emea.dbt.com/api/v2"`

// NormalizeHost turns whatever a user pasted as their dbt Cloud host into the
// canonical form "scheme://host[:port]" (no path, no trailing slash).
//
// Accepted: a bare host ("cloud.getdbt.com"), a host with scheme, a host
// followed by "/api", "/api/v2" or "/api/v3" (with or without a trailing
// slash), cell hosts ("ab123.us1.dbt.com") and single-tenant domains. Plain
// http is accepted only for loopback addresses (local emulators such as
// "http://127.0.0.1:8080"), because the API token would otherwise travel in
// clear text. Anything else (another path, a query, a fragment, user
// credentials, an empty string) is rejected with an error explaining the
// expected form.
//
// A host without a scheme gets https, except a loopback host (127.0.0.0/8,
// ::1, localhost), which gets http: dbt Cloud is never served on a loopback
// address, while local emulators and fakes serve plain http, and some
// sources of a host (Airflow's dbt-cloud://ACCOUNT:TOKEN@HOST URI) cannot
// name a scheme at all. An explicit scheme always wins, so
// "https://127.0.0.1:8443" stays https.
func NormalizeHost(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("dbtcloud: empty host: %s", hostFormHelp)
	}
	defaultScheme := !strings.Contains(s, "://")
	if defaultScheme {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the input; the input is not secret (userinfo is
		// rejected below only after a successful parse), but keep it short.
		return "", fmt.Errorf("dbtcloud: cannot parse host %q: %s", raw, hostFormHelp)
	}
	if u.User != nil {
		// Do not echo the raw input: it may contain a password.
		return "", fmt.Errorf("dbtcloud: host must not contain user credentials: %s", hostFormHelp)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", fmt.Errorf("dbtcloud: unsupported scheme %q in host %q: %s", u.Scheme, raw, hostFormHelp)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("dbtcloud: host %q must not have a query or fragment: %s", raw, hostFormHelp)
	}
	if u.Opaque != "" {
		return "", fmt.Errorf("dbtcloud: cannot parse host %q: %s", raw, hostFormHelp)
	}
	switch strings.TrimSuffix(strings.ToLower(u.Path), "/") {
	case "", "/api", "/api/v2", "/api/v3":
	default:
		return "", fmt.Errorf("dbtcloud: host %q has unexpected path %q (only /api, /api/v2 or /api/v3 may follow the host): %s", raw, u.Path, hostFormHelp)
	}
	hostname := strings.ToLower(u.Hostname())
	if hostname == "" {
		return "", fmt.Errorf("dbtcloud: host %q has no host name: %s", raw, hostFormHelp)
	}
	if err := checkHostname(hostname); err != nil {
		return "", fmt.Errorf("dbtcloud: host %q: %w: %s", raw, err, hostFormHelp)
	}
	if defaultScheme && isLoopback(hostname) {
		scheme = "http"
	}
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("dbtcloud: host %q has an empty port: %s", raw, hostFormHelp)
	}
	if scheme == "http" && !isLoopback(hostname) {
		return "", fmt.Errorf("dbtcloud: host %q uses plain http, which is only allowed for loopback addresses (local emulators); use https: %s", raw, hostFormHelp)
	}
	host := hostname
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// checkHostname accepts IP literals and DNS names made of letters, digits,
// hyphens and dots.
func checkHostname(h string) error {
	if net.ParseIP(h) != nil {
		return nil
	}
	if strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return errors.New("malformed host name")
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
		default:
			return fmt.Errorf("invalid character %q in host name", r)
		}
	}
	return nil
}

func isLoopback(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// multiTenantHosts are the shared dbt Cloud hosts whose Discovery API lives at
// metadata.HOST.
var multiTenantHosts = map[string]bool{
	"cloud.getdbt.com": true,
	"emea.dbt.com":     true,
	"au.dbt.com":       true,
}

// IsMultiTenantHost reports whether host (any form NormalizeHost accepts) is
// one of dbt Cloud's shared multi-tenant hosts: cloud.getdbt.com,
// emea.dbt.com or au.dbt.com. They answer 401 to a valid token of an
// account that lives on a cell host (PREFIX.REGION.dbt.com).
func IsMultiTenantHost(host string) bool { return multiTenantHosts[hostName(host)] }

// IsLoopbackHost reports whether host (any form NormalizeHost accepts) names
// a loopback address (127.0.0.0/8, ::1, localhost), where dbt Cloud is never
// served.
func IsLoopbackHost(host string) bool { return isLoopback(hostName(host)) }

// hostName returns the lower-case host name of host, without scheme, port
// or brackets, or "" if host does not normalise.
func hostName(host string) string {
	norm, err := NormalizeHost(host)
	if err != nil {
		return ""
	}
	u, err := url.Parse(norm)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// DiscoveryURL returns the Discovery (GraphQL) API endpoint for a host given
// in any form NormalizeHost accepts (an unparsable host is used as is).
//
//   - multi-tenant hosts (cloud.getdbt.com, emea.dbt.com, au.dbt.com):
//     https://metadata.HOST/graphql
//   - cell hosts PREFIX.REGION.dbt.com (e.g. ab123.us1.dbt.com):
//     https://PREFIX.metadata.REGION.dbt.com/graphql; several public clients
//     wrongly prepend "metadata." here.
//   - loopback hosts (local emulators): the host itself, HOST/graphql.
//   - any other host (single tenant): https://metadata.HOST/graphql.
func DiscoveryURL(host string) string {
	norm, err := NormalizeHost(host)
	if err != nil {
		norm = host
		if !strings.Contains(norm, "://") {
			norm = "https://" + norm
		}
	}
	scheme, hostport, _ := strings.Cut(norm, "://")
	hostport = strings.TrimSuffix(hostport, "/")
	name, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		name, port = h, ":"+p
	}
	switch {
	case isLoopback(name) || net.ParseIP(name) != nil:
		return norm + "/graphql"
	case multiTenantHosts[name]:
		name = "metadata." + name
	case isCellHost(name):
		prefix, rest, _ := strings.Cut(name, ".")
		name = prefix + ".metadata." + rest
	default:
		name = "metadata." + name
	}
	return scheme + "://" + name + port + "/graphql"
}

// isCellHost reports whether h looks like PREFIX.REGION.dbt.com, where
// REGION is two letters and a number (us1, eu2, jp1, ...). New regions keep
// appearing, so the shape is matched rather than a fixed list.
func isCellHost(h string) bool {
	labels := strings.Split(h, ".")
	if len(labels) != 4 || labels[2] != "dbt" || labels[3] != "com" || labels[0] == "" {
		return false
	}
	r := labels[1]
	if len(r) < 3 || !isLower(r[0]) || !isLower(r[1]) {
		return false
	}
	for i := 2; i < len(r); i++ {
		if r[i] < '0' || r[i] > '9' {
			return false
		}
	}
	return true
}

func isLower(b byte) bool { return b >= 'a' && b <= 'z' }
