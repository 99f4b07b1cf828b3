package connection

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      map[string]string
		wantOK   bool
		wantHost string
		wantAcct int64
		wantErr  string
	}{
		{"none", nil, false, "", 0, ""},
		{"all", map[string]string{EnvHost: "https://emea.dbt.com/api/v2/", EnvToken: testToken, EnvAccountID: "12"}, true, "https://emea.dbt.com", 12, ""},
		{"host defaults", map[string]string{EnvToken: testToken, EnvAccountID: " 12 "}, true, "https://cloud.getdbt.com", 12, ""},
		{"only host", map[string]string{EnvHost: "emea.dbt.com"}, true, "", 0, "DBT_CLOUD_API_TOKEN and DBT_CLOUD_ACCOUNT_ID not set"},
		{"no token", map[string]string{EnvAccountID: "1"}, true, "", 0, "DBT_CLOUD_API_TOKEN not set"},
		{"no account", map[string]string{EnvToken: testToken}, true, "", 0, "DBT_CLOUD_ACCOUNT_ID not set"},
		{"bad account", map[string]string{EnvToken: testToken, EnvAccountID: "acme"}, true, "", 0, `DBT_CLOUD_ACCOUNT_ID: account id "acme"`},
		{"zero account", map[string]string{EnvToken: testToken, EnvAccountID: "0"}, true, "", 0, "positive"},
		{"bad host", map[string]string{EnvHost: "ftp://x", EnvToken: testToken, EnvAccountID: "1"}, true, "", 0, "DBT_CLOUD_HOST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ok, err := FromEnv(envMap(tt.env))
			if ok != tt.wantOK {
				t.Errorf("ok = %v", ok)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secretTail) {
					t.Fatalf("error leaks the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				if c != nil {
					t.Errorf("c = %v", c)
				}
				return
			}
			if c.Name != "env" || c.Host != tt.wantHost || c.AccountID != tt.wantAcct || c.Token.Reveal() != testToken || c.Source != SourceEnv {
				t.Errorf("got %+v", c)
			}
		})
	}
}

func TestParseAirflow(t *testing.T) {
	t.Parallel()
	// A token with characters that must be percent-encoded in a URI.
	const odd = "dbtc_ab/c@d:e%f+g" + secretTail
	esc := url.QueryEscape(odd)
	tests := []struct {
		name     string
		id       string
		value    string
		wantName string
		wantHost string
		wantAcct int64
		wantTok  string
		wantErr  string
		notDbt   bool
	}{
		{"uri", "dbt_cloud_default", "dbt-cloud://123:" + testToken + "@ab123.us1.dbt.com", "dbt_cloud_default", "https://ab123.us1.dbt.com", 123, testToken, "", false},
		{"uri underscore scheme, upper id", "DBT_CLOUD_PROD", "dbt_cloud://7:" + testToken + "@emea.dbt.com", "dbt_cloud_prod", "https://emea.dbt.com", 7, testToken, "", false},
		{"uri percent-encoded token", "x", "dbt-cloud://5:" + esc + "@cloud.getdbt.com", "x", "https://cloud.getdbt.com", 5, odd, "", false},
		{"uri encoded host with scheme", "x", "dbt-cloud://5:" + testToken + "@https%3A%2F%2Fab123.us1.dbt.com%2Fapi%2Fv2", "x", "https://ab123.us1.dbt.com", 5, testToken, "", false},
		{"uri empty host", "x", "dbt-cloud://5:" + testToken + "@", "x", "https://cloud.getdbt.com", 5, testToken, "", false},
		{"uri no account", "x", "dbt-cloud://:" + testToken + "@acme.getdbt.com", "x", "https://acme.getdbt.com", 0, testToken, "", false},
		{"uri old schema tenant", "x", "dbt-cloud://5:" + testToken + "@/acme", "x", "https://acme.getdbt.com", 5, testToken, "", false},
		{"uri extra tenant", "x", "dbt-cloud://5:" + testToken + "@?tenant=emea.dbt.com", "x", "https://emea.dbt.com", 5, testToken, "", false},
		{"uri __extra__ tenant", "x", "dbt-cloud://5:" + testToken + "@?__extra__=" + url.QueryEscape(`{"tenant":"au.dbt.com"}`), "x", "https://au.dbt.com", 5, testToken, "", false},
		{"uri no token", "x", "dbt-cloud://5@cloud.getdbt.com", "", "", 0, "", "no password", false},
		{"uri unencoded slash in token", "x", "dbt-cloud://5:dbtc_ab/" + secretTail + "@cloud.getdbt.com", "", "", 0, "", "percent-encode", false},
		{"uri bad escape", "x", "dbt-cloud://5:%zz" + secretTail + "@h", "", "", 0, "", "malformed percent-encoding", false},
		{"uri other type", "pg", "postgres://u:" + secretTail + "@db/x", "", "", 0, "", "", true},
		{"not a uri", "x", "hello " + secretTail, "", "", 0, "", "expected a URI", false},
		{"json", "dbt_cloud_default", `{"conn_type": "dbt_cloud", "login": "99", "password": "` + testToken + `", "host": "ab123.us1.dbt.com"}`, "dbt_cloud_default", "https://ab123.us1.dbt.com", 99, testToken, "", false},
		{"json numeric login, no host", "x", `{"conn_type": "dbt_cloud", "login": 99, "password": "` + testToken + `"}`, "x", "https://cloud.getdbt.com", 99, testToken, "", false},
		{"json extra tenant object", "x", `{"conn_type": "dbt_cloud", "login": "1", "password": "` + testToken + `", "extra": {"tenant": "emea.dbt.com"}}`, "x", "https://emea.dbt.com", 1, testToken, "", false},
		{"json extra tenant string", "x", `{"conn_type": "dbt_cloud", "login": "1", "password": "` + testToken + `", "extra": "{\"tenant\": \"acme\"}"}`, "x", "https://acme.getdbt.com", 1, testToken, "", false},
		{"json schema tenant", "x", `{"conn_type": "dbt-cloud", "login": "1", "password": "` + testToken + `", "schema": "acme"}`, "x", "https://acme.getdbt.com", 1, testToken, "", false},
		{"json port", "x", `{"conn_type": "dbt_cloud", "login": "1", "password": "` + testToken + `", "host": "127.0.0.1", "port": 8080}`, "x", "http://127.0.0.1:8080", 1, testToken, "", false},
		{"uri loopback host gets http", "x", "dbt-cloud://1:" + testToken + "@127.0.0.1:36811", "x", "http://127.0.0.1:36811", 1, testToken, "", false},
		{"uri localhost gets http", "x", "dbt-cloud://1:" + testToken + "@localhost:36811", "x", "http://localhost:36811", 1, testToken, "", false},
		{"json bad host", "x", `{"conn_type": "dbt_cloud", "login": "1", "password": "` + testToken + `", "host": "a b"}`, "", "", 0, "", "host is not a valid", false},
		{"json no password", "x", `{"conn_type": "dbt_cloud", "login": "1"}`, "", "", 0, "", "no password", false},
		{"json bad login", "x", `{"conn_type": "dbt_cloud", "login": "` + secretTail + `", "password": "` + testToken + `"}`, "", "", 0, "", "login (the dbt Cloud account id)", false},
		{"json malformed", "x", `{"conn_type": "dbt_cloud", "password": "` + testToken + `"`, "", "", 0, "", "malformed", false},
		{"json wrong field type", "x", `{"conn_type": "dbt_cloud", "password": ["` + testToken + `"]}`, "", "", 0, "", "malformed", false},
		{"json no conn_type", "x", `{"password": "` + testToken + `"}`, "", "", 0, "", "no \"conn_type\"", false},
		{"json other type", "x", `{"conn_type": "http", "password": "` + testToken + `"}`, "", "", 0, "", "", true},
		{"empty", "x", "  ", "", "", 0, "", "AIRFLOW_CONN_X is empty", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseAirflow(tt.id, tt.value)
			if tt.notDbt {
				if !errors.Is(err, ErrNotDbtCloud) {
					t.Fatalf("err = %v, want ErrNotDbtCloud", err)
				}
				return
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), secretTail) || strings.Contains(err.Error(), testToken) {
					t.Fatalf("error leaks the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != tt.wantName || c.Host != tt.wantHost || c.AccountID != tt.wantAcct || c.Token.Reveal() != tt.wantTok || c.Source != SourceAirflow {
				t.Errorf("got %+v (token ok: %v)", c, c.Token.Reveal() == tt.wantTok)
			}
		})
	}
}

func TestParseAirflowLoopbackPort(t *testing.T) {
	t.Parallel()
	c, err := ParseAirflow("x", `{"conn_type": "dbt_cloud", "login": "1", "password": "t", "host": "http://127.0.0.1", "port": 8080}`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "http://127.0.0.1:8080" {
		t.Errorf("host = %q", c.Host)
	}
}

func TestImportAirflow(t *testing.T) {
	t.Parallel()
	environ := []string{
		"PATH=/bin",
		"AIRFLOW_CONN_POSTGRES_DEFAULT=postgres://u:p@db/x",
		"AIRFLOW_CONN_DBT_CLOUD_DEFAULT=dbt-cloud://1:" + testToken + "@cloud.getdbt.com",
		"AIRFLOW_CONN_BROKEN=dbt-cloud://notanumber:" + testToken + "@cloud.getdbt.com",
		`AIRFLOW_CONN_A_JSON={"conn_type": "dbt_cloud", "login": "2", "password": "` + testToken + `", "host": "emea.dbt.com"}`,
		"AIRFLOW_CONN_GARBAGE=???",
		"AIRFLOW_CONN_=dbt-cloud://1:x@h",
	}
	all, err := ImportAirflow(environ, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range all {
		s := c.EnvVar + ":" + c.ConnID
		if c.Err != nil {
			s += ":error"
			if strings.Contains(c.Err.Error(), secretTail) {
				t.Errorf("candidate error leaks the token: %v", c.Err)
			}
		} else {
			s += ":" + c.Connection.Host
		}
		got = append(got, s)
	}
	want := []string{
		"AIRFLOW_CONN_A_JSON:a_json:https://emea.dbt.com",
		"AIRFLOW_CONN_BROKEN:broken:error",
		"AIRFLOW_CONN_DBT_CLOUD_DEFAULT:dbt_cloud_default:https://cloud.getdbt.com",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("candidates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	one, err := ImportAirflow(environ, "dbt_cloud_default")
	if err != nil || len(one) != 1 || one[0].Connection.AccountID != 1 {
		t.Errorf("by id: %+v, %v", one, err)
	}
	if _, err := ImportAirflow(environ, "missing"); err == nil || !strings.Contains(err.Error(), "AIRFLOW_CONN_MISSING is not set") {
		t.Errorf("missing id: %v", err)
	}
	if _, err := ImportAirflow(environ, "postgres_default"); !errors.Is(err, ErrNotDbtCloud) {
		t.Errorf("wrong type by id: %v", err)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	dbtEnv := map[string]string{EnvToken: testToken, EnvAccountID: "5"}
	tests := []struct {
		name     string
		stored   []string // names; "*x" marks the default
		env      map[string]string
		arg      string
		want     string // resolved name, or "" when an error is expected
		wantErr  error
		errMatch string
	}{
		{"explicit", []string{"a", "b"}, dbtEnv, "b", "b", nil, ""},
		{"explicit missing", []string{"a"}, nil, "zz", "", ErrNotFound, `"zz" not found`},
		{"explicit env", nil, dbtEnv, "env", "env", nil, ""},
		{"explicit env unset", nil, nil, "env", "", nil, "none is set"},
		{"stored env shadows", []string{"env"}, dbtEnv, "env", "env", nil, ""},
		{"DBTLINK_CONNECTION", []string{"a", "b"}, map[string]string{EnvConnection: "a", EnvToken: testToken, EnvAccountID: "5"}, "", "a", nil, ""},
		{"DBTLINK_CONNECTION missing", []string{"a"}, map[string]string{EnvConnection: "q"}, "", "", ErrNotFound, "DBTLINK_CONNECTION=q"},
		{"dbt env over store", []string{"*a"}, dbtEnv, "", "env", nil, ""},
		{"partial dbt env", []string{"*a"}, map[string]string{EnvToken: testToken}, "", "", nil, "DBT_CLOUD_ACCOUNT_ID not set"},
		{"default", []string{"a", "*b", "c"}, nil, "", "b", nil, ""},
		{"only one", []string{"a"}, nil, "", "a", nil, ""},
		{"none", nil, nil, "", "", ErrNoConnection, "connection add"},
		{"ambiguous", []string{"a", "b"}, nil, "", "", ErrAmbiguous, "(a, b)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestStore(t, tt.env)
			for _, n := range tt.stored {
				c := testConn(strings.TrimPrefix(n, "*"))
				c.Default = strings.HasPrefix(n, "*")
				mustAdd(t, s, c)
			}
			c, err := s.Resolve(tt.arg)
			if tt.want == "" {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.errMatch) {
					t.Fatalf("Resolve = %v, %v; want error %v containing %q", c, err, tt.wantErr, tt.errMatch)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != tt.want {
				t.Errorf("resolved %q, want %q", c.Name, tt.want)
			}
		})
	}
}
