package emulator

import (
	"fmt"
	"strings"
	"testing"
)

func TestPermissionSets(t *testing.T) {
	b := setup(t)
	run := b.trigger(t, DemoDailyJobID, nil) // a run of project 101 to read, cancel and list artifacts of
	legacyRun := b.trigger(t, DemoLegacyJobID, nil)
	b.srv.Advance(10 * 60e9)
	trigger := map[string]any{"cause": "permission test"}
	type call struct {
		method, path string
		body         any
	}
	var (
		account      = call{"GET", acctPath(""), nil}
		accounts     = call{"GET", "/api/v2/accounts/", nil}
		projects     = call{"GET", "/api/v3/accounts/1/projects/", nil}
		environments = call{"GET", fmt.Sprintf("/api/v3/accounts/1/projects/%d/environments/", DemoProjectID), nil}
		jobs         = call{"GET", acctPath("jobs/"), nil}
		job          = call{"GET", acctPath("jobs/%d/", DemoDailyJobID), nil}
		legacyJob    = call{"GET", acctPath("jobs/%d/", DemoLegacyJobID), nil}
		runs         = call{"GET", acctPath("runs/"), nil}
		getRun       = call{"GET", acctPath("runs/%d/", run), nil}
		legacyGetRun = call{"GET", acctPath("runs/%d/", legacyRun), nil}
		artifacts    = call{"GET", acctPath("runs/%d/artifacts/", run), nil}
		manifest     = call{"GET", acctPath("runs/%d/artifacts/manifest.json", run), nil}
		jobManifest  = call{"GET", acctPath("jobs/%d/artifacts/manifest.json", DemoDailyJobID), nil}
		triggerJob   = call{"POST", acctPath("jobs/%d/run/", DemoDailyJobID), trigger}
		triggerBad   = call{"POST", acctPath("jobs/%d/run/", DemoDailyJobID), map[string]any{}} // no cause
		triggerLeg   = call{"POST", acctPath("jobs/%d/run/", DemoLegacyJobID), trigger}
		rerun        = call{"POST", acctPath("jobs/%d/rerun/", DemoDailyJobID), nil}
		cancel       = call{"POST", acctPath("runs/%d/cancel/", run), nil}
		webhooks     = call{"GET", "/api/v3/accounts/1/webhooks/subscriptions", nil}
	)
	tests := []struct {
		name  string
		token string
		call  call
		code  int
	}{
		{"admin triggers", DemoToken, triggerJob, 200},
		{"admin lists webhooks", DemoToken, webhooks, 200},

		{"analyst reads the account", DemoAnalystToken, account, 200},
		{"analyst lists accounts", DemoAnalystToken, accounts, 200},
		{"analyst lists projects", DemoAnalystToken, projects, 200},
		{"analyst lists environments", DemoAnalystToken, environments, 200},
		{"analyst lists jobs", DemoAnalystToken, jobs, 200},
		{"analyst reads a job", DemoAnalystToken, job, 200},
		{"analyst lists runs", DemoAnalystToken, runs, 200},
		{"analyst reads a run", DemoAnalystToken, getRun, 200},
		{"analyst lists artifacts", DemoAnalystToken, artifacts, 200},
		{"analyst downloads an artifact", DemoAnalystToken, manifest, 200},
		{"analyst downloads a job's latest artifact", DemoAnalystToken, jobManifest, 200},
		{"analyst may not trigger", DemoAnalystToken, triggerJob, 403},
		{"analyst is refused before the body is checked", DemoAnalystToken, triggerBad, 403},
		{"analyst may not rerun", DemoAnalystToken, rerun, 403},
		{"analyst may not cancel", DemoAnalystToken, cancel, 403},
		{"analyst may not manage webhooks", DemoAnalystToken, webhooks, 403},

		{"metadata only may not read the account", DemoMetadataOnlyToken, account, 403},
		{"metadata only may not list jobs", DemoMetadataOnlyToken, jobs, 403},
		{"metadata only may not list runs", DemoMetadataOnlyToken, runs, 403},
		{"metadata only may not download artifacts", DemoMetadataOnlyToken, manifest, 403},
		{"metadata only may not trigger", DemoMetadataOnlyToken, triggerJob, 403},

		{"job runner reads the account", DemoJobRunnerToken, account, 200},
		{"job runner may not list projects", DemoJobRunnerToken, projects, 403},
		{"job runner may not list environments", DemoJobRunnerToken, environments, 403},
		{"job runner reads a job of its project", DemoJobRunnerToken, job, 200},
		{"job runner does not see another project's job", DemoJobRunnerToken, legacyJob, 404},
		{"job runner does not see another project's run", DemoJobRunnerToken, legacyGetRun, 404},
		{"job runner triggers in its project", DemoJobRunnerToken, triggerJob, 200},
		{"job runner cannot trigger in another project", DemoJobRunnerToken, triggerLeg, 404},
		{"job runner cancels", DemoJobRunnerToken, cancel, 200},
		{"job runner may not manage webhooks", DemoJobRunnerToken, webhooks, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.callAs(t, "Token "+tt.token, tt.call.method, tt.call.path, tt.call.body)
			wantCode(t, r, tt.code)
			if tt.code != 403 {
				return
			}
			st, _ := r.body["status"].(map[string]any)
			if st == nil || st["code"] != float64(403) || st["is_success"] != false || r.body["data"] != nil {
				t.Errorf("403 body is not dbt Cloud's envelope: %s", r.raw)
			}
			if r.userMessage() != "You do not have permission to perform this action." {
				t.Errorf("user_message = %q", r.userMessage())
			}
			dev, _ := st["developer_message"].(string)
			if !strings.Contains(dev, "may not") || strings.Contains(string(r.raw), tt.token) {
				t.Errorf("developer_message = %q (must say what is missing and never echo the token)", dev)
			}
		})
	}
}

// TestPermissionScopeLists checks that lists hold only the objects of the token's projects.
func TestPermissionScopeLists(t *testing.T) {
	b := setup(t)
	b.trigger(t, DemoDailyJobID, nil)
	b.trigger(t, DemoLegacyJobID, nil)
	for _, tt := range []struct {
		token string
		want  int
	}{{DemoToken, 2}, {DemoAnalystToken, 2}, {DemoJobRunnerToken, 1}} {
		r := b.callAs(t, "Token "+tt.token, "GET", acctPath("runs/"), nil)
		wantCode(t, r, 200)
		if _, total := r.pagination(); total != tt.want {
			t.Errorf("%s: %d runs listed, want %d", tt.token, total, tt.want)
		}
		for _, it := range r.list() {
			item := it.(map[string]any)
			if tt.token == DemoJobRunnerToken && item["project_id"] != float64(DemoProjectID) {
				t.Errorf("job runner sees a run of project %v", item["project_id"])
			}
		}
	}
	r := b.callAs(t, "Token "+DemoJobRunnerToken, "GET", acctPath("jobs/"), nil)
	for _, it := range r.list() {
		item := it.(map[string]any)
		if item["project_id"] != float64(DemoProjectID) {
			t.Errorf("job runner lists job %v of project %v", item["id"], item["project_id"])
		}
	}
	if len(r.list()) == 0 {
		t.Error("job runner lists no jobs")
	}
}

func TestParsePermissionSet(t *testing.T) {
	for in, want := range map[string]PermissionSet{
		"analyst": PermissionAnalyst, "Job Admin": PermissionJobAdmin, "Read-Only": PermissionReadOnly,
		"readonly": PermissionReadOnly, "METADATA ONLY": PermissionMetadataOnly, "webhooks_only": PermissionWebhooksOnly,
	} {
		got, err := ParsePermissionSet(in)
		if err != nil || got != want {
			t.Errorf("ParsePermissionSet(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParsePermissionSet("superuser"); err == nil || !strings.Contains(err.Error(), "job_admin") {
		t.Errorf("unknown set: %v (want an error listing the valid ones)", err)
	}
	for set, row := range permissionTable {
		if row.name == "" {
			t.Errorf("%s has no display name", set)
		}
		if row.runs == write && row.jobs < read {
			t.Errorf("%s may trigger runs but not read the job", set)
		}
	}
}

func TestSeedServiceTokens(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown set", "permission_sets: [superuser]", "service_tokens[0].permission_sets[0]: \"superuser\" is not a permission set"},
		{"no set", "permission_sets: []", "give at least one permission set"},
		{"account-level scoped", "permission_sets: [account_admin]\n        project_ids: [101]", "account-level permission set"},
		{"bad project id", "permission_sets: [analyst]\n        project_ids: [-1]", "project_ids[0]: must be a positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := "accounts:\n  - name: a\n    tokens: [t1]\n    service_tokens:\n      - name: x\n        token: t2\n        " + tt.yaml + "\n"
			_, err := ParseSeed([]byte(y))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	dup := "accounts:\n  - name: a\n    tokens: [t1]\n    service_tokens:\n      - {name: x, token: t1, permission_sets: [analyst]}\n"
	if _, err := ParseSeed([]byte(dup)); err == nil || !strings.Contains(err.Error(), "token already used") {
		t.Errorf("duplicate token: %v", err)
	}
	missing := "accounts:\n  - name: a\n    tokens: [t1]\n    service_tokens:\n      - {name: x, token: t2, permission_sets: [analyst], project_ids: [999]}\n"
	s, err := ParseSeed([]byte(missing))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewHandler(Options{Seed: s}); err == nil || !strings.Contains(err.Error(), "project 999") {
		t.Errorf("scope on a missing project: %v", err)
	}
}

func TestServiceTokensListed(t *testing.T) {
	b := setup(t)
	got := b.srv.ServiceTokens()
	if len(got) != 3 || got[0].Token != DemoAnalystToken || got[0].PermissionSets[0] != PermissionAnalyst ||
		got[2].ProjectIDs[0] != DemoProjectID || got[1].PermissionSets[0].String() != "Metadata Only" {
		t.Errorf("ServiceTokens() = %+v", got)
	}
	if b.srv.Token != DemoToken {
		t.Errorf("Token = %q, want the Account Admin token", b.srv.Token)
	}
}
