package cli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/connection"
)

// refusedHost returns a loopback URL where nothing listens.
func refusedHost(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestConnectionAdd(t *testing.T) {
	const badToken = "dbtc_this_token_is_not_known_anywhere"
	tests := []struct {
		name       string
		stdin      string
		env        map[string]string
		args       func(e *cloudEnv) []string
		wantCode   int
		wantStderr []string
		wantSaved  bool
	}{
		{
			name:  "token on stdin, tested",
			stdin: emulator.DemoToken + "\n",
			args: func(e *cloudEnv) []string {
				return []string{"--host", e.emu.URL, "--account-id", "1", "--token-stdin"}
			},
			wantStderr: []string{`Saved connection "c"`, "tested OK"},
			wantSaved:  true,
		},
		{
			name: "token from --token-env",
			env:  map[string]string{"MY_TOKEN": emulator.DemoToken},
			args: func(e *cloudEnv) []string {
				return []string{"--host", e.emu.URL, "--account-id", "1", "--token-env", "MY_TOKEN"}
			},
			wantSaved: true,
		},
		{
			name: "token, host and account from DBT_CLOUD_* variables",
			env:  map[string]string{"DBT_CLOUD_API_TOKEN": emulator.DemoToken, "DBT_CLOUD_ACCOUNT_ID": "1"},
			args: func(e *cloudEnv) []string {
				e.env["DBT_CLOUD_HOST"] = e.emu.URL
				return nil
			},
			wantSaved: true,
		},
		{
			name:  "bad token exits 5 and saves nothing",
			stdin: badToken,
			args: func(e *cloudEnv) []string {
				return []string{"--host", e.emu.URL, "--account-id", "1", "--token-stdin"}
			},
			wantCode:   ExitAuth,
			wantStderr: []string{"fail  token: The token was rejected (401)", `connection "c" was not saved`, "--no-test"},
		},
		{
			name:  "IP-restricted token exits 5",
			stdin: emulator.DemoIPBlockedToken,
			args: func(e *cloudEnv) []string {
				return []string{"--host", e.emu.URL, "--account-id", "1", "--token-stdin"}
			},
			wantCode:   ExitAuth,
			wantStderr: []string{"account_access_denied"},
		},
		{
			name:  "unknown account exits 6",
			stdin: emulator.DemoToken,
			args: func(e *cloudEnv) []string {
				return []string{"--host", e.emu.URL, "--account-id", "999", "--token-stdin"}
			},
			wantCode:   ExitNotFound,
			wantStderr: []string{"Account 999 is not visible to this token (404)", "account 1 (Emulated Jaffle Shop)"},
		},
		{
			name:  "refused port exits 7",
			stdin: emulator.DemoToken,
			args: func(e *cloudEnv) []string {
				return []string{"--host", refusedHost(t), "--account-id", "1", "--token-stdin"}
			},
			wantCode:   ExitUpstream,
			wantStderr: []string{"fail  host: The connection to 127.0.0.1", "was refused"},
		},
		{
			name:  "refused port saved anyway with --no-test",
			stdin: emulator.DemoToken,
			args: func(e *cloudEnv) []string {
				return []string{"--host", refusedHost(t), "--account-id", "1", "--token-stdin", "--no-test"}
			},
			wantStderr: []string{"not tested"},
			wantSaved:  true,
		},
		{
			name: "token as a flag value is refused without echoing it",
			args: func(e *cloudEnv) []string {
				return []string{"--host", e.emu.URL, "--account-id", "1", "--token", emulator.DemoToken}
			},
			wantCode:   ExitUsage,
			wantStderr: []string{"tokens are not accepted as flag values", "--token-stdin"},
		},
		{
			name: "no token source and no terminal",
			args: func(e *cloudEnv) []string {
				return []string{"--host", e.emu.URL, "--account-id", "1"}
			},
			wantCode:   ExitUsage,
			wantStderr: []string{"no token given", "--token-stdin"},
		},
		{
			name:  "two token sources",
			stdin: emulator.DemoToken,
			env:   map[string]string{"MY_TOKEN": emulator.DemoToken},
			args: func(e *cloudEnv) []string {
				return []string{"--host", e.emu.URL, "--account-id", "1", "--token-stdin", "--token-env", "MY_TOKEN"}
			},
			wantCode:   ExitUsage,
			wantStderr: []string{"give only one"},
		},
		{
			name:       "no host",
			stdin:      emulator.DemoToken,
			args:       func(e *cloudEnv) []string { return []string{"--account-id", "1", "--token-stdin"} },
			wantCode:   ExitUsage,
			wantStderr: []string{"no host"},
		},
		{
			name:       "no account id",
			stdin:      emulator.DemoToken,
			args:       func(e *cloudEnv) []string { return []string{"--host", e.emu.URL, "--token-stdin"} },
			wantCode:   ExitUsage,
			wantStderr: []string{"no account id"},
		},
		{
			name:       "empty stdin",
			args:       func(e *cloudEnv) []string { return []string{"--host", e.emu.URL, "--account-id", "1", "--token-stdin"} },
			wantCode:   ExitUsage,
			wantStderr: []string{"input is empty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCloudEnv(t)
			e.secrets = append(e.secrets, badToken)
			for k, v := range tt.env {
				e.env[k] = v
			}
			args := append([]string{"connection", "add", "c"}, tt.args(e)...)
			r := e.runIn(tt.stdin, args...)
			wantCode(t, r, tt.wantCode, "connection add")
			for _, w := range tt.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			// Remove DBT_CLOUD_* so list shows the store only.
			delete(e.env, "DBT_CLOUD_HOST")
			delete(e.env, "DBT_CLOUD_API_TOKEN")
			delete(e.env, "DBT_CLOUD_ACCOUNT_ID")
			list := e.mustRun("connection", "list", "--json")
			var got []connListEntry
			if err := json.Unmarshal([]byte(list.stdout), &got); err != nil {
				t.Fatalf("list --json: %v\n%s", err, list.stdout)
			}
			saved := len(got) == 1 && got[0].Name == "c"
			if saved != tt.wantSaved {
				t.Errorf("saved = %v, want %v (list: %+v)", saved, tt.wantSaved, got)
			}
		})
	}
}

func TestConnectionAddPrompt(t *testing.T) {
	e := newCloudEnv(t)
	ios, _, _, errOut := TestStreams()
	ios.SetTTY(true, true, true)
	f := e.factory(ios)
	var prompted string
	cmd := NewCmdConnectionAdd(f, func(o *ConnectionAddOptions) error {
		o.PromptToken = func(p string) (connection.Token, error) {
			prompted = p
			return connection.NewToken(emulator.DemoToken), nil
		}
		return connectionAddRun(t.Context(), o)
	})
	cmd.SetArgs([]string{"p", "--host", e.emu.URL, "--account-id", "1"})
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("add with prompt: %v\n%s", err, errOut)
	}
	if !strings.Contains(prompted, `token for "p"`) {
		t.Errorf("prompt = %q", prompted)
	}
	show := e.mustRun("connection", "show", "p")
	if !strings.Contains(show.stdout, connection.Mask(emulator.DemoToken)) {
		t.Errorf("show lacks the masked token:\n%s", show.stdout)
	}
}

func TestConnectionAddExisting(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("prod")
	r := e.runIn(emulator.DemoToken, "connection", "add", "prod", "--host", e.emu.URL, "--account-id", "1", "--token-stdin")
	wantCode(t, r, ExitUsage, "add existing")
	if !strings.Contains(r.stderr, "already exists") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("stderr = %s", r.stderr)
	}
	r = e.runIn(emulator.DemoToken, "connection", "add", "prod", "--host", e.emu.URL, "--account-id", "1", "--token-stdin", "--force")
	wantCode(t, r, ExitOK, "add --force")
}

func TestConnectionLifecycle(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("a")
	e.addDemo("b")

	// Two connections and no default: commands cannot choose.
	r := e.run("connection", "show")
	wantCode(t, r, ExitNotFound, "show with two and no default")
	if !strings.Contains(r.stderr, "connection default NAME") {
		t.Errorf("stderr = %s", r.stderr)
	}

	e.mustRun("connection", "default", "b")
	list := e.mustRun("connection", "list")
	lines := strings.Split(strings.TrimSpace(list.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("list:\n%s", list.stdout)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		wantDefault := f[0] == "b"
		if (len(f) == 5 && f[3] == "yes") != wantDefault || f[1] != e.emu.URL || f[2] != "1" || f[len(f)-1] != "store" {
			t.Errorf("list row %q", l)
		}
	}

	show := e.mustRun("connection", "show", "--json")
	var sj connShowJSON
	if err := json.Unmarshal([]byte(show.stdout), &sj); err != nil {
		t.Fatal(err)
	}
	if sj.Name != "b" || !sj.Default || sj.Token != connection.Mask(emulator.DemoToken) || sj.Source != "store" {
		t.Errorf("show --json = %+v", sj)
	}
	show = e.mustRun("-c", "a", "connection", "show")
	if !strings.Contains(show.stdout, "name:        a") || !strings.Contains(show.stdout, "default:     no") {
		t.Errorf("show -c a:\n%s", show.stdout)
	}

	e.mustRun("connection", "remove", "b")
	wantCode(t, e.run("connection", "show", "b"), ExitNotFound, "show removed")
	wantCode(t, e.run("connection", "remove", "b"), ExitNotFound, "remove twice")
	wantCode(t, e.run("connection", "default", "nope"), ExitNotFound, "default of unknown")
	wantCode(t, e.run("connection", "default"), ExitUsage, "default without name")
	e.mustRun("connection", "default", "--unset")
	// One connection left: it is used without being the default.
	if r := e.mustRun("connection", "show"); !strings.Contains(r.stdout, "name:        a") {
		t.Errorf("show:\n%s", r.stdout)
	}
}

// TestConnectionAddLoopbackHostWithoutScheme adds the emulator by its bare
// address, as `dbtlink emulator` prints it: a loopback host means http.
func TestConnectionAddLoopbackHostWithoutScheme(t *testing.T) {
	e := newCloudEnv(t)
	bare := strings.TrimPrefix(e.emu.URL, "http://")
	r := e.runIn(emulator.DemoToken+"\n", "connection", "add", "local", "--host", bare, "--account-id", "1", "--token-stdin")
	wantCode(t, r, ExitOK, "connection add --host "+bare)
	if show := e.mustRun("connection", "show", "local"); !strings.Contains(show.stdout, e.emu.URL) {
		t.Errorf("show local:\n%s", show.stdout)
	}
}

func TestConnectionTestHelpSaysRetryForDoesNotApply(t *testing.T) {
	e := newCloudEnv(t)
	r := e.run("connection", "test", "--help")
	if !strings.Contains(r.stdout, "DBTLINK_RETRY_FOR does not apply: the test retries a failed call at most once,") {
		t.Errorf("connection test --help:\n%s", r.stdout)
	}
}

func TestConnectionRemoveEnvironmentConnection(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("stored")
	r := e.run("connection", "remove", "env")
	wantCode(t, r, ExitNotFound, "remove env without DBT_CLOUD_*")
	if !strings.Contains(r.stderr, `connection "env" is not stored: it is built from the DBT_CLOUD_HOST, DBT_CLOUD_ACCOUNT_ID and DBT_CLOUD_API_TOKEN environment variables; none of them is set`) {
		t.Errorf("remove env (unset):\n%s", r.stderr)
	}

	e.env["DBT_CLOUD_HOST"] = e.emu.URL
	e.env["DBT_CLOUD_API_TOKEN"] = emulator.DemoToken
	e.env["AIRFLOW_CONN_DBT_PROD"] = "dbt-cloud://7:" + emulator.OtherToken + "@ab123.us1.dbt.com"
	r = e.run("connection", "remove", "env")
	wantCode(t, r, ExitNotFound, "remove env")
	if !strings.Contains(r.stderr, "unset them to remove it (set now: DBT_CLOUD_HOST, DBT_CLOUD_API_TOKEN)") {
		t.Errorf("remove env:\n%s", r.stderr)
	}
	r = e.run("connection", "remove", "dbt_prod")
	wantCode(t, r, ExitNotFound, "remove an Airflow connection")
	if !strings.Contains(r.stderr, `connection "dbt_prod" is not stored: it is the Airflow connection read from the AIRFLOW_CONN_DBT_PROD environment variable; unset it`) {
		t.Errorf("remove dbt_prod:\n%s", r.stderr)
	}
	// Any other unknown name keeps the plain message listing what is stored.
	r = e.run("connection", "remove", "nope")
	wantCode(t, r, ExitNotFound, "remove unknown")
	if strings.Contains(r.stderr, "environment variable") || !strings.Contains(r.stderr, "stored connections: stored") {
		t.Errorf("remove nope:\n%s", r.stderr)
	}
	// A stored connection named like an Airflow one is removed as usual.
	e.addDemo("dbt_prod")
	e.mustRun("connection", "remove", "dbt_prod")
}

func TestConnectionListSources(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("stored")
	e.mustRun("connection", "default", "stored")
	e.env["DBT_CLOUD_HOST"] = e.emu.URL
	e.env["DBT_CLOUD_ACCOUNT_ID"] = "1"
	e.env["DBT_CLOUD_API_TOKEN"] = emulator.DemoToken
	e.env["AIRFLOW_CONN_DBT_PROD"] = "dbt-cloud://7:" + emulator.OtherToken + "@ab123.us1.dbt.com"
	e.env["AIRFLOW_CONN_BROKEN"] = `{"conn_type": "dbt_cloud", "login": "1"}`
	e.env["AIRFLOW_CONN_WAREHOUSE"] = "postgres://u:p@db/x"

	r := e.mustRun("connection", "list")
	for _, want := range []string{"stored", "env ", "dbt_prod", "https://ab123.us1.dbt.com", "airflow AIRFLOW_CONN_DBT_PROD"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "WAREHOUSE") {
		t.Errorf("list shows a postgres connection:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "AIRFLOW_CONN_BROKEN") || !strings.Contains(r.stderr, "no password") {
		t.Errorf("stderr lacks the broken Airflow connection:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "not the default stored connection") {
		t.Errorf("stderr lacks the env-over-default note:\n%s", r.stderr)
	}
	rj := e.mustRun("connection", "list", "--json")
	var got []connListEntry
	if err := json.Unmarshal([]byte(rj.stdout), &got); err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{}
	for _, g := range got {
		sources[g.Name] = g.Source
	}
	want := map[string]string{"stored": "store", "env": "env", "dbt_prod": "airflow", "broken": "airflow"}
	for k, v := range want {
		if sources[k] != v {
			t.Errorf("source of %s = %q, want %q (all: %v)", k, sources[k], v, sources)
		}
	}
}

func TestConnectionTest(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("good")
	const badToken = "dbtc_revoked_token_value_0123456789"
	e.secrets = append(e.secrets, badToken)
	add := func(name, host, account, token string) {
		t.Helper()
		r := e.runIn(token, "connection", "add", name, "--host", host, "--account-id", account, "--token-stdin", "--no-test")
		wantCode(t, r, ExitOK, "add "+name)
	}
	add("revoked", e.emu.URL, "1", badToken)
	add("otheraccount", e.emu.URL, "2", emulator.DemoToken)
	add("down", refusedHost(t), "1", emulator.DemoToken)
	e.mustRun("connection", "default", "good")

	tests := []struct {
		args     []string
		wantCode int
		want     []string
	}{
		{[]string{"good"}, ExitOK, []string{"pass  host:", "pass  token: The token was accepted.", "pass  account: Account 1 (Emulated Jaffle Shop)"}},
		{nil, ExitOK, []string{`Testing connection "good"`}},
		{[]string{"revoked"}, ExitAuth, []string{"fail  token: The token was rejected (401)", "skip  account:"}},
		{[]string{"otheraccount"}, ExitNotFound, []string{"fail  account: Account 2 is not visible"}},
		{[]string{"down"}, ExitUpstream, []string{"fail  host:", "refused"}},
		{[]string{"missing"}, ExitNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := e.run(append([]string{"connection", "test"}, tt.args...)...)
			wantCode(t, r, tt.wantCode, "connection test")
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}

	r := e.run("connection", "test", "revoked", "--json")
	wantCode(t, r, ExitAuth, "test --json")
	var got connTestJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if got.OK || len(got.Checks) != 3 || got.Checks[1].Status != "fail" || got.Connection != "revoked" {
		t.Errorf("test --json = %+v", got)
	}
}

func TestConnectionImportAirflow(t *testing.T) {
	uriFor := func(e *cloudEnv, login string) string {
		return "dbt-cloud://" + login + ":" + url.PathEscape(emulator.DemoToken) + "@" + url.PathEscape(e.emu.URL)
	}
	jsonFor := func(e *cloudEnv) string {
		b, _ := json.Marshal(map[string]any{"conn_type": "dbt_cloud", "login": 1, "password": emulator.DemoToken, "host": e.emu.URL})
		return string(b)
	}
	tests := []struct {
		name      string
		env       func(e *cloudEnv) map[string]string
		args      []string
		wantCode  int
		wantNames []string
		wantErr   string
	}{
		{
			name: "URI form by conn id",
			env: func(e *cloudEnv) map[string]string {
				return map[string]string{"AIRFLOW_CONN_DBT_CLOUD_DEFAULT": uriFor(e, "1")}
			},
			args:      []string{"dbt_cloud_default"},
			wantNames: []string{"dbt_cloud_default"},
		},
		{
			name:      "JSON form renamed",
			env:       func(e *cloudEnv) map[string]string { return map[string]string{"AIRFLOW_CONN_DBT": jsonFor(e)} },
			args:      []string{"dbt", "--name", "prod", "--default"},
			wantNames: []string{"prod"},
		},
		{
			name: "all dbt Cloud connections, others skipped",
			env: func(e *cloudEnv) map[string]string {
				return map[string]string{"AIRFLOW_CONN_ONE": uriFor(e, "1"), "AIRFLOW_CONN_TWO": jsonFor(e), "AIRFLOW_CONN_PG": "postgres://u:p@h/db"}
			},
			wantNames: []string{"one", "two"},
		},
		{
			name: "--name with several",
			env: func(e *cloudEnv) map[string]string {
				return map[string]string{"AIRFLOW_CONN_ONE": uriFor(e, "1"), "AIRFLOW_CONN_TWO": jsonFor(e)}
			},
			args:     []string{"--name", "x"},
			wantCode: ExitUsage,
			wantErr:  "one, two",
		},
		{
			name:     "missing account id",
			env:      func(e *cloudEnv) map[string]string { return map[string]string{"AIRFLOW_CONN_NOLOGIN": uriFor(e, "")} },
			args:     []string{"nologin"},
			wantCode: ExitUsage,
			wantErr:  "pass --account-id",
		},
		{
			name:      "missing account id given",
			env:       func(e *cloudEnv) map[string]string { return map[string]string{"AIRFLOW_CONN_NOLOGIN": uriFor(e, "")} },
			args:      []string{"nologin", "--account-id", "1"},
			wantNames: []string{"nologin"},
		},
		{
			name:     "wrong account fails its test",
			env:      func(e *cloudEnv) map[string]string { return map[string]string{"AIRFLOW_CONN_X": uriFor(e, "2")} },
			args:     []string{"x"},
			wantCode: ExitNotFound,
			wantErr:  "not saved",
		},
		{
			name:     "unset variable",
			env:      func(e *cloudEnv) map[string]string { return nil },
			args:     []string{"nothere"},
			wantCode: ExitUsage,
			wantErr:  "AIRFLOW_CONN_NOTHERE is not set",
		},
		{
			name:     "none at all",
			env:      func(e *cloudEnv) map[string]string { return nil },
			wantCode: ExitNotFound,
			wantErr:  "no Airflow dbt Cloud connection found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCloudEnv(t)
			for k, v := range tt.env(e) {
				e.env[k] = v
			}
			r := e.run(append([]string{"connection", "import-airflow"}, tt.args...)...)
			wantCode(t, r, tt.wantCode, "import-airflow")
			if tt.wantErr != "" && !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, r.stderr)
			}
			for _, n := range tt.wantNames {
				// Each imported connection works and holds the token it was given.
				test := e.run("connection", "test", n)
				wantCode(t, test, ExitOK, "test imported "+n)
			}
		})
	}
}

func TestConnectionRotateKey(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("a")
	e.addDemo("b")

	r := e.mustRun("connection", "rotate-key")
	if !strings.Contains(r.stdout, "Re-encrypted 2 connection(s) with new key ") || !strings.Contains(r.stdout, "secret-") {
		t.Errorf("rotate-key:\n%s", r.stdout)
	}
	e.mustRun("connection", "test", "a")
	if s := e.mustRun("connection", "show", "b"); !strings.Contains(s.stdout, connection.Mask(emulator.DemoToken)) {
		t.Errorf("show after rotation:\n%s", s.stdout)
	}

	key, err := connection.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	e.secrets = append(e.secrets, key.Encode())
	r = e.runIn(key.Encode()+"\n", "connection", "rotate-key", "--key-stdin")
	wantCode(t, r, ExitOK, "rotate-key --key-stdin")
	if !strings.Contains(r.stdout, "new key "+key.ID()) {
		t.Errorf("rotate-key --key-stdin does not name key %s:\n%s", key.ID(), r.stdout)
	}
	e.mustRun("connection", "test", "b")

	// The same key again is refused; a malformed key is not echoed.
	wantCode(t, e.runIn(key.Encode(), "connection", "rotate-key", "--key-stdin"), ExitUsage, "same key")
	const junk = "not-a-key-but-maybe-secret"
	e.secrets = append(e.secrets, junk)
	r = e.runIn(junk, "connection", "rotate-key", "--key-stdin")
	wantCode(t, r, ExitUsage, "junk key")

	// With DBTLINK_SECRET_KEY set the user is told it still holds the old key.
	envKey, _ := connection.GenerateKey()
	e.secrets = append(e.secrets, envKey.Encode(), hex.EncodeToString([]byte(envKey.Encode())))
	e.env["DBTLINK_SECRET_KEY"] = envKey.Encode()
	e.addDemo("c")
	r = e.mustRun("connection", "rotate-key")
	if !strings.Contains(r.stderr, "DBTLINK_SECRET_KEY is set") {
		t.Errorf("no warning about DBTLINK_SECRET_KEY:\n%s", r.stderr)
	}
	e.mustRun("connection", "test", "c")
}

func TestDiagnosisExitCode(t *testing.T) {
	tests := []struct {
		name   string
		report connection.Report
		want   int
	}{
		{"all pass", connection.Report{Checks: []connection.Check{{Name: "host", Status: connection.CheckPass}}}, ExitOK},
		{"host fails", connection.Report{Checks: []connection.Check{{Name: connection.CheckHost, Status: connection.CheckFail, Err: errors.New("dial")}}}, ExitUpstream},
		{"no checks", connection.Report{}, ExitUpstream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diagnosisExitCode(tt.report); got != tt.want {
				t.Errorf("diagnosisExitCode = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestTokenFromPrompt: pressing Enter at the token prompt used to answer
// "input is empty; pipe the token into standard input", advice for another
// way of giving the token than the one the user was using.
func TestTokenFromPrompt(t *testing.T) {
	t.Parallel()
	for _, typed := range []string{"", "  \t"} {
		_, err := tokenFromPrompt([]byte(typed))
		if exitCode(err) != ExitUsage || err == nil || !strings.Contains(err.Error(), "no token was typed: paste it at the prompt") || strings.Contains(err.Error(), "pipe") {
			t.Errorf("typed %q: err = %v (exit %d)", typed, err, exitCode(err))
		}
	}
	if _, err := tokenFromPrompt([]byte("dbtc_abcdefghijklmnop")); err != nil {
		t.Errorf("a token: %v", err)
	}
}
