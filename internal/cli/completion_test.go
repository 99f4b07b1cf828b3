package cli

import (
	"slices"
	"strings"
	"testing"
)

// complete asks for completions as a shell does (cobra's __complete) and
// returns the values offered, without descriptions.
func complete(t *testing.T, e *cloudEnv, args ...string) []string {
	t.Helper()
	r := e.run(append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		t.Fatalf("__complete %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if strings.HasPrefix(l, ":") { // the directive line
			continue
		}
		v, _, _ := strings.Cut(l, "\t")
		out = append(out, v)
	}
	return out
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	e := newCloudEnv(t)
	e.addDemo("demo")
	e.addDemo("prod")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"connection", "test", ""}, []string{"demo", "prod"}},
		{[]string{"--connection", ""}, []string{"demo", "prod"}},
		{[]string{"job", "list", "-c", ""}, []string{"demo", "prod"}},
		{[]string{"lineage", "x", "--format", ""}, []string{"text", "json", "dot", "mermaid"}},
		{[]string{"run", "list", "--status", ""}, []string{"queued", "starting", "running", "success", "error", "cancelled"}},
		{[]string{"token", "create", "--scope", ""}, []string{"read", "write", "admin"}},
		// A list flag completes its next value after the ones typed.
		{[]string{"run", "list", "--status", "running,q"}, []string{"running,queued", "running,success"}},
		{[]string{"-c", "demo", "job", "run", ""}, []string{"301", "302", "303", "304"}},
		{[]string{"-c", "demo", "job", "run", "--job", ""}, []string{"daily build", "failing build"}},
	}
	for _, tt := range tests {
		got := complete(t, e, tt.args...)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("complete %q: %q lacks %q", tt.args, got, w)
			}
		}
	}
	// Ids are described by the job's name.
	r := e.run("__complete", "-c", "demo", "job", "get", "")
	if !strings.Contains(r.stdout, "301\tdaily build") {
		t.Errorf("job ids without names:\n%s", r.stdout)
	}
}
