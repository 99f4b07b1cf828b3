package warehouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	pg := func(f func(*Config)) Config {
		c := Config{Name: "prod", Type: Postgres, DSN: "postgres://dbt@db.example.com:5432/analytics?sslmode=require"}
		f(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		want string // "" for valid; else a part of the error
	}{
		{"dsn", pg(func(*Config) {}), ""},
		{"fields", Config{Name: "prod", Type: Redshift, Host: "x.redshift.amazonaws.com", Database: "dev", User: "dbt", SSLMode: "verify-full"}, ""},
		{"keyword dsn", pg(func(c *Config) { c.DSN = "host=db dbname=analytics user=dbt" }), ""},
		{"no name", pg(func(c *Config) { c.Name = "" }), "name is empty"},
		{"name with space", pg(func(c *Config) { c.Name = "my prod" }), "spaces"},
		{"unknown type", pg(func(c *Config) { c.Type = "oracle" }), `unknown warehouse type "oracle": use one of duckdb, postgres, redshift`},
		{"nothing to reach", pg(func(c *Config) { c.DSN = "" }), "no DSN and no host"},
		{"both", pg(func(c *Config) { c.Host = "db" }), "give one or the other"},
		{"password in URL", pg(func(c *Config) { c.DSN = "postgres://dbt:hunter2@db/analytics" }), "the DSN holds a password"},
		{"password in query", pg(func(c *Config) { c.DSN = "postgres://dbt@db/analytics?password=hunter2" }), "the DSN holds a password"},
		{"password keyword", pg(func(c *Config) { c.DSN = "host=db password='hunter 2'" }), "the DSN holds a password"},
		{"password option", pg(func(c *Config) { c.Options = map[string]string{"password": "hunter2"} }), `option "password" holds a secret`},
		{"other scheme", pg(func(c *Config) { c.DSN = "mysql://db/x" }), `scheme "mysql"`},
		{"not key=value", pg(func(c *Config) { c.DSN = "just words" }), "neither a postgres:// URL nor key=value"},
		{"bad port", Config{Name: "p", Type: Postgres, Host: "db", Port: 70000}, "port 70000"},
		{"bad sslmode", Config{Name: "p", Type: Postgres, Host: "db", SSLMode: "on"}, `sslmode "on" is unknown`},
		{"repeated database", pg(func(c *Config) { c.Databases = []string{"a", "a"} }), `"a" is listed twice`},
		{"bad pattern", pg(func(c *Config) { c.Filter.IncludeTables = []string{"a.b.c.d"} }), `include table pattern "a.b.c.d": has 4 dot-separated parts`},
		{"duckdb", Config{Name: "d", Type: DuckDB, DSN: "/data/jaffle.duckdb"}, ""},
		{"duckdb no path", Config{Name: "d", Type: DuckDB}, "path of the database file"},
		{"duckdb memory", Config{Name: "d", Type: DuckDB, DSN: ":memory:"}, "in-memory"},
		{"duckdb options", Config{Name: "d", Type: DuckDB, DSN: "x.duckdb?access_mode=read_write"}, "holds options"},
		{"duckdb host", Config{Name: "d", Type: DuckDB, DSN: "x.duckdb", Host: "h"}, "do not apply to DuckDB"},
		{"duckdb databases", Config{Name: "d", Type: DuckDB, DSN: "x.duckdb", Databases: []string{"y"}}, "databases do not apply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate accepted the config, want an error with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Validate: %v\nwant it to say %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestSplitPassword(t *testing.T) {
	tests := []struct{ dsn, clean, password string }{
		{"postgres://dbt:hunter2@db:5432/analytics?sslmode=require", "postgres://dbt@db:5432/analytics?sslmode=require", "hunter2"},
		{"postgresql://dbt:p%40ss%2Fw@db/a", "postgresql://dbt@db/a", "p@ss/w"},
		{"postgres://dbt@db/a?password=x%26y&sslmode=disable", "postgres://dbt@db/a?sslmode=disable", "x&y"},
		{"postgres://dbt@db/a", "postgres://dbt@db/a", ""},
		{"postgres://db1:5432,db2:5432/a", "postgres://db1:5432,db2:5432/a", ""},
		{`host=db password='it\'s secret' user=dbt`, "host=db user=dbt", "it's secret"},
		{"host=db password=plain dbname=a", "host=db dbname=a", "plain"},
		{"host = db dbname = 'my db'", "host=db dbname='my db'", ""},
	}
	for _, tt := range tests {
		clean, pw, err := SplitPassword(tt.dsn)
		if err != nil || clean != tt.clean || pw != tt.password {
			t.Errorf("SplitPassword(%q) = %q, %q, %v; want %q, %q", tt.dsn, clean, pw, err, tt.clean, tt.password)
		}
	}
	if _, _, err := SplitPassword("host='unterminated"); err == nil {
		t.Error("SplitPassword accepted an unterminated quote")
	}
}

func TestConnStringAndRedacted(t *testing.T) {
	const secret = "s3cr et'\\pw"
	tests := []struct {
		cfg      Config
		wantConn string
		wantRed  string
	}{
		{
			Config{Name: "u", Type: Postgres, DSN: "postgres://dbt@db/a", Options: map[string]string{"application_name": "x y"}},
			"postgres://dbt:s3cr%20et%27%5Cpw@db/a?application_name=x+y",
			"u (postgres) postgres://dbt@db/a?application_name=x+y",
		},
		{
			Config{Name: "f", Type: Redshift, Host: "rs.example.com", Database: "dev", User: "dbt", SSLMode: "require", Databases: []string{"other"}},
			`host=rs.example.com port=5439 dbname=dev user=dbt sslmode=require password='s3cr et\'\\pw'`,
			"f (redshift) host=rs.example.com port=5439 dbname=dev user=dbt sslmode=require +databases other",
		},
		{
			Config{Name: "d", Type: DuckDB, DSN: "/data/x.duckdb"},
			"/data/x.duckdb",
			"d (duckdb) /data/x.duckdb",
		},
	}
	for _, tt := range tests {
		got, err := tt.cfg.ConnString(secret)
		if err != nil || got != tt.wantConn {
			t.Errorf("ConnString = %q, %v; want %q", got, err, tt.wantConn)
		}
		if got := tt.cfg.Redacted(); got != tt.wantRed {
			t.Errorf("Redacted = %q, want %q", got, tt.wantRed)
		}
		// The keyword form must read back to the same password.
		if tt.cfg.Type == Redshift {
			if _, pw, err := SplitPassword(got); err != nil || pw != secret {
				t.Errorf("password read back as %q, %v", pw, err)
			}
		}
	}

	// A password wrongly left in the DSN never shows.
	bad := Config{Name: "b", Type: Postgres, DSN: "postgres://dbt:hunter2@db/a"}
	for _, s := range []string{bad.Redacted(), bad.String(), fmt.Sprint(bad), fmt.Sprintf("%v %+v %#v %s", bad, bad, bad, bad)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the config prints its password: %s", s)
		}
	}
	if _, err := bad.ConnString(""); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("ConnString of a DSN with a password: %v", err)
	}
}

func TestLookup(t *testing.T) {
	for _, typ := range []Type{Postgres, Redshift, DuckDB} {
		a, err := Lookup(typ)
		if err != nil || a.Type() != typ {
			t.Errorf("Lookup(%s) = %v, %v", typ, a, err)
		}
	}
	if got := fmt.Sprint(Types()); got != "[duckdb postgres redshift]" {
		t.Errorf("Types() = %s", got)
	}
	a, _ := Lookup(Postgres)
	if _, err := a.Open(context.Background(), Config{Name: "x", Type: DuckDB, DSN: "x.duckdb"}, ""); err == nil {
		t.Error("the postgres adapter opened a duckdb config")
	}
}

func TestRedactError(t *testing.T) {
	const secret = "p@ss word"
	err := redact(fmt.Errorf("connect to postgres://u:%s@h and postgres://u:p%%40ss%%20word@h: %w", secret, context.DeadlineExceeded), secret)
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "p%40ss") {
		t.Errorf("redact left the secret: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("redact lost the context error")
	}
}
