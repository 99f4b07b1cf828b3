package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func newJobBody(projectID, envID int64, name string, steps ...string) map[string]any {
	return map[string]any{
		"account_id": DemoAccountID, "project_id": projectID, "environment_id": envID, "name": name,
		"execute_steps": steps, "settings": map[string]any{"threads": 2, "target_name": "prod"},
		"execution": map[string]any{"timeout_seconds": 0}, "triggers": map[string]any{"schedule": false},
		"generate_docs": false, "run_generate_sources": false, "state": 1,
		// Fields the emulator does not model are accepted and ignored.
		"run_lint": false, "deferring_job_definition_id": nil, "lifecycle_webhooks": false,
	}
}

func TestJobCreateUpdateDelete(t *testing.T) {
	b := setup(t)
	r := b.call(t, "POST", acctPath("jobs/"), newJobBody(DemoProjectID, DemoProductionEnvID, "nightly", "dbt seed", "dbt run"))
	wantCode(t, r, 201)
	if st, _ := r.body["status"].(map[string]any); num(st["code"]) != 201 {
		t.Errorf("status.code = %v, want 201 as dbt Cloud answers a create", st["code"])
	}
	id := int64(num(r.data()["id"]))
	if id <= DemoLegacyJobID || r.data()["name"] != "nightly" || num(r.data()["state"]) != 1 {
		t.Fatalf("created job = %v", r.data())
	}

	// The created job is a job like any other: it is listed, read, and its runs play out with its steps.
	r = b.call(t, "GET", acctPath("jobs/?project_id=%d&name__icontains=nightly", DemoProjectID), nil)
	if got := ids(r.list()); !slices.Equal(got, []int64{id}) {
		t.Errorf("listed = %v, want [%d]", got, id)
	}
	run := b.trigger(t, id, nil)
	b.srv.Advance(10 * time.Minute)
	got := b.getRun(t, run, "run_steps")
	if status(got) != StatusSuccess || !slices.Contains(stepNames(got), "Invoke dbt with `dbt seed`") {
		t.Fatalf("run of the created job: status %d, steps %v", status(got), stepNames(got))
	}

	// Update: only the fields sent change.
	r = b.call(t, "POST", acctPath("jobs/%d/", id), map[string]any{"name": "nightly v2", "execute_steps": []string{"dbt build"}})
	wantCode(t, r, 200)
	if r.data()["name"] != "nightly v2" || !slices.Equal(toStrings(r.data()["execute_steps"]), []string{"dbt build"}) ||
		num(r.data()["settings"].(map[string]any)["threads"]) != 2 {
		t.Errorf("updated job = %v", r.data())
	}
	run2 := b.trigger(t, id, nil)
	b.srv.Advance(10 * time.Minute)
	if steps := stepNames(b.getRun(t, run2, "run_steps")); !slices.Contains(steps, "Invoke dbt with `dbt build`") || slices.Contains(steps, "Invoke dbt with `dbt seed`") {
		t.Errorf("run after the update has steps %v", steps)
	}

	// Delete answers the job in its deleted state; then it is gone from reads, lists and triggers.
	r = b.call(t, "DELETE", acctPath("jobs/%d/", id), nil)
	wantCode(t, r, 200)
	if num(r.data()["state"]) != 2 {
		t.Errorf("deleted job state = %v, want 2", r.data()["state"])
	}
	wantCode(t, b.call(t, "GET", acctPath("jobs/%d/", id), nil), 404)
	wantCode(t, b.call(t, "POST", acctPath("jobs/%d/run/", id), map[string]any{"cause": "x"}), 404)
	wantCode(t, b.call(t, "DELETE", acctPath("jobs/%d/", id), nil), 404)
	if got := ids(b.call(t, "GET", acctPath("jobs/?state=deleted"), nil).list()); !slices.Equal(got, []int64{id}) {
		t.Errorf("state=deleted lists %v, want [%d]", got, id)
	}
	if got := ids(b.call(t, "GET", acctPath("jobs/"), nil).list()); slices.Contains(got, id) {
		t.Errorf("the active list still has the deleted job: %v", got)
	}
	// Its runs stay readable.
	wantCode(t, b.call(t, "GET", acctPath("runs/%d/", run), nil), 200)

	// An update with state 2 deletes too, as older clients delete jobs.
	wantCode(t, b.call(t, "POST", acctPath("jobs/%d/", DemoStagingJobID), map[string]any{"state": 2}), 200)
	wantCode(t, b.call(t, "GET", acctPath("jobs/%d/", DemoStagingJobID), nil), 404)
}

func stepNames(run map[string]any) []string {
	var out []string
	steps, _ := run["run_steps"].([]any)
	for _, s := range steps {
		out = append(out, s.(map[string]any)["name"].(string))
	}
	return out
}

func TestJobWriteValidation(t *testing.T) {
	b := setup(t)
	devEnv := b.call(t, "POST", v3Path("projects/%d/environments/", DemoProjectID),
		map[string]any{"name": "Dev", "type": "development", "dbt_version": "latest"})
	wantCode(t, devEnv, 201)
	dev := int64(num(devEnv.data()["id"]))
	ok := newJobBody(DemoProjectID, DemoProductionEnvID, "x", "dbt build")
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		body map[string]any
		want string // in the developer message
	}{
		{"no name", with("name", nil), "name: This field is required."},
		{"blank name", with("name", "  "), "name: This field may not be blank."},
		{"no account", with("account_id", nil), "account_id: This field is required."},
		{"other account", with("account_id", 2), "account_id: is 2"},
		{"no project", with("project_id", nil), "project_id: This field is required."},
		{"missing project", with("project_id", 999), "project_id: project 999 does not exist"},
		{"environment of another project", with("environment_id", DemoLegacyProdEnvID), "environment_id: environment 203 does not exist in project 101"},
		{"development environment", with("environment_id", dev), "jobs run only in deployment environments"},
		{"no steps", with("execute_steps", []string{}), "execute_steps: a job needs at least one dbt command"},
		{"not dbt", with("execute_steps", []string{"rm -rf /"}), `execute_steps[0]: "rm -rf /" is not a dbt command`},
		{"threads", with("settings", map[string]any{"threads": 0}), "settings.threads"},
		{"cron", with("schedule", map[string]any{"cron": "daily"}), "schedule.cron"},
		{"job type", with("job_type", "weekly"), `job_type: "weekly" is not a valid choice.`},
		{"deleted on create", with("state", 2), "state: a new object must be active"},
		{"not JSON", nil, "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r reply
			if tt.body == nil {
				r = b.callRaw(t, "POST", acctPath("jobs/"), "{")
			} else {
				r = b.call(t, "POST", acctPath("jobs/"), tt.body)
			}
			wantCode(t, r, 400)
			st, _ := r.body["status"].(map[string]any)
			if dev, _ := st["developer_message"].(string); !strings.Contains(dev, tt.want) {
				t.Errorf("developer_message %q does not say %q", dev, tt.want)
			}
		})
	}
	wantCode(t, b.call(t, "POST", acctPath("jobs/%d/", DemoDailyJobID), map[string]any{"id": 1}), 400)
	wantCode(t, b.call(t, "POST", acctPath("jobs/999/"), map[string]any{"name": "x"}), 404)
	if n := len(b.call(t, "GET", acctPath("jobs/"), nil).list()); n != 6 {
		t.Errorf("%d jobs after refused writes, want the 6 seeded", n)
	}
}

func TestProjectLifecycle(t *testing.T) {
	b := setup(t)
	r := b.call(t, "POST", v3Path("projects/"), map[string]any{"name": "marketing", "account_id": 1, "type": 0,
		"state": 1, "dbt_project_subdirectory": "dbt/"})
	wantCode(t, r, 201)
	pid := int64(num(r.data()["id"]))
	if r.data()["connection"] != nil || r.data()["repository_id"] != nil || r.data()["dbt_project_subdirectory"] != "dbt/" {
		t.Errorf("created project = %v: want no connection or repository yet", r.data())
	}
	// Point it at an existing connection and repository, rename it.
	r = b.call(t, "POST", v3Path("projects/%d/", pid), map[string]any{"name": "marketing analytics",
		"connection_id": DemoProjectID + 10_000, "repository_id": DemoProjectID + 20_000})
	wantCode(t, r, 200)
	if r.data()["name"] != "marketing analytics" || r.data()["connection"] == nil || r.data()["repository"] == nil {
		t.Errorf("updated project = %v", r.data())
	}
	wantCode(t, b.call(t, "POST", v3Path("projects/%d/", pid), map[string]any{"connection_id": 1}), 400)

	// An environment and a job in it; the job runs.
	env := b.call(t, "POST", v3Path("projects/%d/environments/", pid), map[string]any{"name": "Prod",
		"dbt_version": "1.10.0-latest", "type": "deployment", "deployment_type": "production", "account_id": 1, "project_id": pid})
	wantCode(t, env, 201)
	eid := int64(num(env.data()["id"]))
	// One production environment per project.
	dup := b.call(t, "POST", v3Path("projects/%d/environments/", pid), map[string]any{"name": "Prod 2", "deployment_type": "production"})
	wantCode(t, dup, 400)
	stg := b.call(t, "POST", v3Path("projects/%d/environments/", pid), map[string]any{"name": "Staging", "deployment_type": "staging"})
	wantCode(t, stg, 201)
	sid := int64(num(stg.data()["id"]))
	wantCode(t, b.call(t, "POST", v3Path("projects/%d/environments/%d/", pid, sid), map[string]any{"deployment_type": "production"}), 400)
	r = b.call(t, "POST", v3Path("projects/%d/environments/%d/", pid, sid), map[string]any{"name": "Staging EU", "custom_branch": "eu", "use_custom_branch": true})
	wantCode(t, r, 200)
	if r.data()["name"] != "Staging EU" || r.data()["custom_branch"] != "eu" || num(r.data()["connection_id"]) != DemoProjectID+10_000 {
		t.Errorf("updated environment = %v", r.data())
	}

	j := b.call(t, "POST", acctPath("jobs/"), newJobBody(pid, eid, "marketing build", "dbt build"))
	wantCode(t, j, 201)
	jid := int64(num(j.data()["id"]))
	sj := b.call(t, "POST", acctPath("jobs/"), newJobBody(pid, sid, "staging build", "dbt build"))
	wantCode(t, sj, 201)
	sjid := int64(num(sj.data()["id"]))
	run := b.trigger(t, jid, nil)
	b.srv.Advance(10 * time.Minute)
	got := b.getRun(t, run, "")
	if status(got) != StatusSuccess || num(got["project_id"]) != float64(pid) || got["dbt_version"] != "1.10.0-latest" {
		t.Errorf("run in the new project: %v", got)
	}

	// Deleting the staging environment deletes its job only.
	wantCode(t, b.call(t, "DELETE", v3Path("projects/%d/environments/%d/", pid, sid), nil), 200)
	wantCode(t, b.call(t, "GET", acctPath("jobs/%d/", sjid), nil), 404)
	wantCode(t, b.call(t, "GET", acctPath("jobs/%d/", jid), nil), 200)

	// Deleting the project deletes its environments and jobs.
	r = b.call(t, "DELETE", v3Path("projects/%d/", pid), nil)
	wantCode(t, r, 200)
	if num(r.data()["state"]) != 2 {
		t.Errorf("deleted project state = %v", r.data()["state"])
	}
	wantCode(t, b.call(t, "GET", v3Path("projects/%d/", pid), nil), 404)
	wantCode(t, b.call(t, "GET", v3Path("projects/%d/environments/%d/", pid, eid), nil), 404)
	wantCode(t, b.call(t, "GET", acctPath("jobs/%d/", jid), nil), 404)
	wantCode(t, b.call(t, "POST", acctPath("jobs/%d/run/", jid), map[string]any{"cause": "x"}), 404)
	if got := ids(b.call(t, "GET", v3Path("environments/?project_id=%d", pid), nil).list()); len(got) != 0 {
		t.Errorf("environments of the deleted project: %v", got)
	}
	if got := ids(b.call(t, "GET", v3Path("environments/?project_id=%d&state=deleted", pid), nil).list()); !slices.Equal(got, []int64{eid, sid}) {
		t.Errorf("deleted environments: %v, want [%d %d]", got, eid, sid)
	}
	if got := ids(b.call(t, "GET", acctPath("jobs/?project_id=%d&state=all", pid), nil).list()); !slices.Equal(got, []int64{jid, sjid}) {
		t.Errorf("jobs of the deleted project (state=all): %v", got)
	}
	if got := names(b.call(t, "GET", v3Path("projects/"), nil).list()); slices.Contains(got, "marketing analytics") {
		t.Errorf("project list still has the deleted project: %v", got)
	}
	// The seeded projects are untouched.
	if got := ids(b.call(t, "GET", acctPath("jobs/"), nil).list()); len(got) != 6 {
		t.Errorf("seeded jobs after the deletes: %v", got)
	}
	wantCode(t, b.call(t, "POST", v3Path("projects/"), map[string]any{"description": "no name"}), 400)
}

func TestWritePermissions(t *testing.T) {
	b := setup(t,
		withServiceToken("jobadmin", "dbtc_job_admin_101", []string{"job_admin"}, DemoProjectID))
	const jobAdmin = "Token dbtc_job_admin_101"
	newJob101 := newJobBody(DemoProjectID, DemoProductionEnvID, "by job admin", "dbt build")
	newJob102 := newJobBody(DemoLegacyProjectID, DemoLegacyProdEnvID, "elsewhere", "dbt build")
	tests := []struct {
		name         string
		auth         string
		method, path string
		body         any
		code         int
	}{
		{"analyst may not create jobs", "Token " + DemoAnalystToken, "POST", acctPath("jobs/"), newJob101, 403},
		{"runner may not create jobs", "Token " + DemoJobRunnerToken, "POST", acctPath("jobs/"), newJob101, 403},
		{"runner may not delete jobs", "Token " + DemoJobRunnerToken, "DELETE", acctPath("jobs/%d/", DemoDailyJobID), nil, 403},
		{"metadata may not create projects", "Token " + DemoMetadataOnlyToken, "POST", v3Path("projects/"), map[string]any{"name": "x"}, 403},
		{"analyst may not create environments", "Token " + DemoAnalystToken, "POST", v3Path("projects/%d/environments/", DemoProjectID), map[string]any{"name": "x"}, 403},
		{"job admin creates a job in its project", jobAdmin, "POST", acctPath("jobs/"), newJob101, 201},
		{"job admin may not create one elsewhere", jobAdmin, "POST", acctPath("jobs/"), newJob102, 400},
		{"job admin may not change a job elsewhere", jobAdmin, "POST", acctPath("jobs/%d/", DemoLegacyJobID), map[string]any{"name": "x"}, 404},
		{"job admin may not move a job elsewhere", jobAdmin, "POST", acctPath("jobs/%d/", DemoDailyJobID), map[string]any{"project_id": DemoLegacyProjectID, "environment_id": DemoLegacyProdEnvID}, 400},
		{"job admin creates an environment", jobAdmin, "POST", v3Path("projects/%d/environments/", DemoProjectID), map[string]any{"name": "CI"}, 201},
		{"job admin may not create projects", jobAdmin, "POST", v3Path("projects/"), map[string]any{"name": "x"}, 403},
		{"job admin may not delete projects", jobAdmin, "DELETE", v3Path("projects/%d/", DemoProjectID), nil, 403},
		{"analyst (Projects W) renames a project", "Token " + DemoAnalystToken, "POST", v3Path("projects/%d/", DemoLegacyProjectID), map[string]any{"name": "legacy"}, 200},
		{"other account's token", "Token " + OtherToken, "POST", acctPath("jobs/"), newJob101, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.callAs(t, tt.auth, tt.method, tt.path, tt.body)
			wantCode(t, r, tt.code)
			if tt.code == 403 && r.userMessage() != "You do not have permission to perform this action." {
				t.Errorf("403 message %q", r.userMessage())
			}
		})
	}
	// A project-scoped token cannot create a project: a new project is outside its scope.
	sb := setup(t, withServiceToken("scoped admin", "dbtc_admin_101", []string{"admin"}, DemoProjectID))
	wantCode(t, sb.callAs(t, "Token dbtc_admin_101", "POST", v3Path("projects/"), map[string]any{"name": "x"}), 403)
	wantCode(t, sb.callAs(t, "Token dbtc_admin_101", "POST", v3Path("projects/%d/", DemoProjectID), map[string]any{"description": "d"}), 200)
}

// callRaw sends body as it is, for bodies that are not valid JSON.
func (b *bundle) callRaw(t *testing.T, method, path, body string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token "+b.srv.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	rp := reply{code: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &rp.body)
	return rp
}

// An update clears a field sent as null and leaves alone the fields it does not send.
func TestUpdatesTellNullFromAbsent(t *testing.T) {
	b := setup(t)
	r := b.call(t, "POST", v3Path("projects/%d/environments/%d/", DemoProjectID, DemoStagingEnvID), map[string]any{"name": "Staging 2"})
	wantCode(t, r, 200)
	if r.data()["deployment_type"] != "staging" {
		t.Errorf("deployment_type = %v after an update that did not send it", r.data()["deployment_type"])
	}
	r = b.call(t, "POST", v3Path("projects/%d/environments/%d/", DemoProjectID, DemoStagingEnvID), map[string]any{"deployment_type": nil, "custom_branch": "dev"})
	wantCode(t, r, 200)
	if r.data()["deployment_type"] != nil || r.data()["custom_branch"] != "dev" || r.data()["name"] != "Staging 2" {
		t.Errorf("after deployment_type null: %v", r.data())
	}
	r = b.call(t, "POST", v3Path("projects/%d/", DemoLegacyProjectID), map[string]any{"connection_id": nil})
	wantCode(t, r, 200)
	if r.data()["connection_id"] != nil || r.data()["connection"] != nil || r.data()["repository_id"] == nil {
		t.Errorf("after connection_id null: connection %v/%v, repository %v", r.data()["connection_id"], r.data()["connection"], r.data()["repository_id"])
	}
	r = b.call(t, "POST", acctPath("jobs/%d/", DemoDailyJobID), map[string]any{"dbt_version": "1.9.0-latest"})
	wantCode(t, r, 200)
	if r.data()["dbt_version"] != "1.9.0-latest" {
		t.Errorf("job dbt_version = %v", r.data()["dbt_version"])
	}
	if run := b.getRun(t, b.trigger(t, DemoDailyJobID, nil), ""); run["dbt_version"] != "1.9.0-latest" {
		t.Errorf("a run of the job has dbt_version %v, want the job's", run["dbt_version"])
	}
	r = b.call(t, "POST", acctPath("jobs/%d/", DemoDailyJobID), map[string]any{"dbt_version": nil})
	wantCode(t, r, 200)
	if r.data()["dbt_version"] != nil {
		t.Errorf("job dbt_version = %v after null", r.data()["dbt_version"])
	}
}
