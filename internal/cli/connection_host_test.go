package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// TestConnectionAddNotDBTCloud: a host that answers but is not dbt Cloud
// (here a plain file server, whose 404 has no dbt Cloud envelope) is
// diagnosed as the wrong host, not as a good token with a wrong account.
func TestConnectionAddNotDBTCloud(t *testing.T) {
	t.Parallel()
	files := httptest.NewServer(http.FileServer(http.Dir(t.TempDir())))
	t.Cleanup(files.Close)
	e := newCloudEnv(t)
	host := strings.TrimPrefix(files.URL, "http://")
	r := e.runIn(emulator.DemoToken, "connection", "add", "x", "--host", host, "--account-id", "1", "--token-stdin")
	wantCode(t, r, ExitUpstream, "connection add against a file server")
	out := r.stdout + r.stderr
	if !strings.Contains(out, "it is not a dbt Cloud API") || !strings.Contains(out, host) {
		t.Errorf("output does not say the host is not dbt Cloud:\n%s", out)
	}
	for _, wrong := range []string{"The token was accepted", "account id is wrong", "not visible to this token"} {
		if strings.Contains(out, wrong) {
			t.Errorf("output says %q:\n%s", wrong, out)
		}
	}
	if r := e.run("connection", "list"); strings.Contains(r.stdout, "x ") {
		t.Errorf("the connection was saved:\n%s", r.stdout)
	}
}
