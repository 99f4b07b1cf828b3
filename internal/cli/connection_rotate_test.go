package cli

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/connection"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/dbtlink/dbtlink/internal/tracker"
)

// rotate-key re-seals the server database's secrets too (with --db on
// PostgreSQL, by default on the SQLite file in the dbtlink home), and a
// rotation the database part of which failed is finished by running it
// again.
func TestConnectionRotateKeyServerDB(t *testing.T) {
	for _, b := range storetest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			e := newCloudEnv(t)
			e.addDemo("a")
			home := e.env["DBTLINK_HOME"]
			var flags []string
			if b.Name == string(store.SQLite) {
				b.DSN = filepath.Join(home, "dbtlink.db") // the default database
			} else {
				flags = []string{"--db", b.DSN}
			}
			keys, err := connection.NewStore(home, connection.WithGetenv(func(string) string { return "" }))
			if err != nil {
				t.Fatal(err)
			}
			st := storetest.Open(t, b)
			tr, err := tracker.New(ctx, tracker.Config{Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.AddConnection(ctx, tracker.NewConnection{Name: "srv", Host: e.emu.URL, AccountID: e.emu.AccountID, Token: emulator.DemoToken}); err != nil {
				t.Fatal(err)
			}
			// A token sealed under another home's key cannot be opened here.
			other, err := connection.NewStore(t.TempDir(), connection.WithGetenv(func(string) string { return "" }))
			if err != nil {
				t.Fatal(err)
			}
			sealed, keyID, err := other.SealSecret("db/connection/zz", "dbtc_other")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.CreateConnection(ctx, store.Connection{Name: "zz", Host: e.emu.URL, AccountID: 1, SealedToken: sealed, KeyID: keyID}); err != nil {
				t.Fatal(err)
			}
			before, err := st.GetConnection(ctx, "srv")
			if err != nil {
				t.Fatal(err)
			}

			r := e.run(append([]string{"connection", "rotate-key"}, flags...)...)
			wantCode(t, r, ExitUsage, "rotate-key with an unreadable database secret")
			if !strings.Contains(r.stderr, "nothing was changed") || !strings.Contains(r.stderr, "run `dbtlink connection rotate-key` again") {
				t.Fatalf("stderr:\n%s", r.stderr)
			}
			if after, _ := st.GetConnection(ctx, "srv"); after.KeyID != before.KeyID {
				t.Fatalf("a failed re-seal changed connection srv's key to %s", after.KeyID)
			}
			// Still readable through the kept old key.
			if rep, err := tr.TestConnection(ctx, "srv"); err != nil || !rep.OK() {
				t.Fatalf("srv after the failed re-seal: %v %v", err, rep)
			}

			if err := st.DeleteConnection(ctx, "zz"); err != nil {
				t.Fatal(err)
			}
			r = e.run(append([]string{"connection", "rotate-key"}, flags...)...)
			wantCode(t, r, ExitOK, "rotate-key again")
			m := regexp.MustCompile(`with new key (\S+)\.`).FindStringSubmatch(r.stdout)
			if m == nil || !strings.Contains(r.stdout, "Re-sealed 1 secret(s) in the server database (1 connection token(s), 0 webhook secret(s))") {
				t.Fatalf("stdout:\n%s", r.stdout)
			}
			after, err := st.GetConnection(ctx, "srv")
			if err != nil {
				t.Fatal(err)
			}
			if after.KeyID != m[1] {
				t.Errorf("srv sealed with %s, want the new key %s", after.KeyID, m[1])
			}
			if rep, err := tr.TestConnection(ctx, "srv"); err != nil || !rep.OK() {
				t.Fatalf("srv after rotation: %v %v", err, rep)
			}
			e.mustRun("connection", "test", "a")
		})
	}
}

// Without --db, $DBTLINK_DB or a dbtlink.db in the home, no database is
// created; a --db that cannot be opened (nothing listens on port 1) stops before any key changes.
func TestConnectionRotateKeyNoDB(t *testing.T) {
	e := newCloudEnv(t)
	e.addDemo("a")
	home := e.env["DBTLINK_HOME"]
	r := e.mustRun("connection", "rotate-key")
	if strings.Contains(r.stdout, "server database") {
		t.Errorf("stdout mentions a database:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(home, "dbtlink.db")); err == nil {
		t.Error("rotate-key created dbtlink.db")
	}
	key, err := os.ReadFile(filepath.Join(home, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	r = e.run("connection", "rotate-key", "--db", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if r.code == ExitOK {
		t.Fatalf("rotate-key with a bad --db succeeded:\n%s", r.stdout)
	}
	if now, _ := os.ReadFile(filepath.Join(home, "secret.key")); string(now) != string(key) {
		t.Error("the key changed although the database could not be opened")
	}
}
