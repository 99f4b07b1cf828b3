package dbtcloud

import (
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
)

func TestWriteMethodsSendTheirBodies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	b.mux.HandleFunc("POST /api/v2/accounts/1/jobs/", func(w http.ResponseWriter, r *http.Request) {
		checkAuth(t, r)
		checkJSONBody(t, r, map[string]any{
			"account_id": 1.0, "project_id": 2.0, "environment_id": 3.0, "name": "nightly", "description": "",
			"dbt_version": nil, "execute_steps": []any{"dbt build"}, "state": 1.0, "generate_docs": false,
			"run_generate_sources": false,
			"triggers":             map[string]any{"github_webhook": false, "git_provider_webhook": false, "schedule": true, "on_merge": false, "custom_branch_only": false},
			"settings":             map[string]any{"threads": 4.0, "target_name": "default"},
			"execution":            map[string]any{"timeout_seconds": 0.0},
			"schedule":             map[string]any{"cron": "0 6 * * *"},
		})
		serveFile(t, "job_create_response.json")(w, r)
	})
	b.mux.HandleFunc("POST /api/v3/accounts/1/projects/", func(w http.ResponseWriter, r *http.Request) {
		checkJSONBody(t, r, map[string]any{"account_id": 1.0, "name": "My test project", "description": "",
			"dbt_project_subdirectory": "dbt/", "type": 0.0, "state": 1.0})
		serveFile(t, "project_create_response.json")(w, r)
	})
	b.mux.HandleFunc("POST /api/v3/accounts/1/projects/7/environments/", func(w http.ResponseWriter, r *http.Request) {
		checkJSONBody(t, r, map[string]any{"account_id": 1.0, "project_id": 7.0, "name": "pytest environment",
			"dbt_version": "1.6.0-latest", "type": "deployment", "deployment_type": nil, "use_custom_branch": false,
			"custom_branch": nil, "supports_docs": false, "state": 1.0})
		serveFile(t, "environment_create_response.json")(w, r)
	})
	b.mux.HandleFunc("DELETE /api/v2/accounts/1/jobs/48474/", serveFile(t, "job_delete_response.json"))
	b.mux.HandleFunc("DELETE /api/v3/accounts/1/projects/274346/", serveFile(t, "project_delete_response.json"))
	b.mux.HandleFunc("DELETE /api/v3/accounts/1/projects/7/environments/40480/", serveFile(t, "environment_delete_response.json"))
	b.mux.HandleFunc("GET /api/v3/accounts/1/environments/", func(w http.ResponseWriter, r *http.Request) {
		checkQuery(t, r, url.Values{"project_id": {"7"}, "deployment_type": {"production"}, "limit": {"5"}})
		serveFile(t, "environment_list_response.json")(w, r)
	})

	job, _, err := b.client.Jobs.Create(ctx, 1, &JobRequest{ProjectID: 2, EnvironmentID: 3, Name: "nightly",
		ExecuteSteps: []string{"dbt build"}, Triggers: JobTriggers{Schedule: true},
		Settings: JobSettings{Threads: 4, TargetName: "default"}, Schedule: &JobSchedule{Cron: "0 6 * * *"}})
	if err != nil || job.ID != 48180 || job.Name != "Dummy job" {
		t.Fatalf("Jobs.Create = %+v, %v", job, err)
	}
	sub := "dbt/"
	p, _, err := b.client.Projects.Create(ctx, 1, &ProjectRequest{Name: "My test project", DBTProjectSubdirectory: &sub})
	if err != nil || p.ID != 273731 || p.ConnectionID != 0 {
		t.Fatalf("Projects.Create = %+v, %v", p, err)
	}
	env, _, err := b.client.Environments.Create(ctx, 1, 7, &EnvironmentRequest{Name: "pytest environment", DBTVersion: "1.6.0-latest"})
	if err != nil || env.ID != 222601 {
		t.Fatalf("Environments.Create = %+v, %v", env, err)
	}
	dj, _, err := b.client.Jobs.Delete(ctx, 1, 48474)
	if err != nil || dj.State != StateDeleted {
		t.Fatalf("Jobs.Delete = %+v, %v", dj, err)
	}
	dp, _, err := b.client.Projects.Delete(ctx, 1, 274346)
	if err != nil || dp.State != StateDeleted {
		t.Fatalf("Projects.Delete = %+v, %v", dp, err)
	}
	de, _, err := b.client.Environments.Delete(ctx, 1, 7, 40480)
	if err != nil || de.State != StateDeleted {
		t.Fatalf("Environments.Delete = %+v, %v", de, err)
	}
	envs, _, err := b.client.Environments.ListAccount(ctx, 1, &AccountEnvironmentListOptions{ProjectID: 7,
		EnvironmentListOptions: EnvironmentListOptions{DeploymentType: "production", ListOptions: ListOptions{Limit: 5}}})
	if err != nil || len(envs) == 0 {
		t.Fatalf("Environments.ListAccount = %+v, %v", envs, err)
	}
}

// A create is not retried (a retry after a lost answer would create a second object); an update is.
func TestWriteRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var creates, updates, deletes atomic.Int32
	b.mux.HandleFunc("POST /api/v2/accounts/1/jobs/", func(w http.ResponseWriter, r *http.Request) {
		creates.Add(1)
		writeError(w, http.StatusServiceUnavailable, "down")
	})
	b.mux.HandleFunc("POST /api/v2/accounts/1/jobs/9/", func(w http.ResponseWriter, r *http.Request) {
		if updates.Add(1) == 1 {
			writeError(w, http.StatusServiceUnavailable, "down")
			return
		}
		serveFile(t, "job_get_response.json")(w, r)
	})
	b.mux.HandleFunc("DELETE /api/v2/accounts/1/jobs/9/", func(w http.ResponseWriter, r *http.Request) {
		if deletes.Add(1) == 1 {
			writeError(w, http.StatusServiceUnavailable, "down")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	req := &JobRequest{ProjectID: 2, EnvironmentID: 3, Name: "x", ExecuteSteps: []string{"dbt build"}}
	if _, _, err := b.client.Jobs.Create(t.Context(), 1, req); !errors.Is(err, ErrServer) || creates.Load() != 1 {
		t.Errorf("Create: err %v after %d attempts, want one attempt and ErrServer", err, creates.Load())
	}
	j, _, err := b.client.Jobs.Update(t.Context(), 1, 9, req)
	if err != nil || updates.Load() != 2 || j.ID != 43167 {
		t.Errorf("Update: %+v, %v after %d attempts, want success on the second", j, err, updates.Load())
	}
	if _, _, err := b.client.Jobs.Delete(t.Context(), 1, 9); !errors.Is(err, ErrServer) || deletes.Load() != 1 {
		t.Errorf("Delete: err %v after %d attempts, want one attempt", err, deletes.Load())
	}
	// A 204 gives no object and no error.
	dj, _, err := b.client.Jobs.Delete(t.Context(), 1, 9)
	if err != nil || dj != nil {
		t.Errorf("Delete answered 204: %+v, %v", dj, err)
	}
}

func TestWriteMethodsCheckArguments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	for name, call := range map[string]func() error{
		"job nil request":         func() error { _, _, err := b.client.Jobs.Create(ctx, 1, nil); return err },
		"job bad account":         func() error { _, _, err := b.client.Jobs.Create(ctx, 0, &JobRequest{}); return err },
		"job update bad id":       func() error { _, _, err := b.client.Jobs.Update(ctx, 1, -1, &JobRequest{}); return err },
		"project nil":             func() error { _, _, err := b.client.Projects.Update(ctx, 1, 2, nil); return err },
		"environment bad project": func() error { _, _, err := b.client.Environments.Delete(ctx, 1, 0, 3); return err },
		"list account bad":        func() error { _, _, err := b.client.Environments.ListAccount(ctx, 0, nil); return err },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRequestFromObjects(t *testing.T) {
	t.Parallel()
	j := &Job{ID: 5, AccountID: 1, ProjectID: 2, EnvironmentID: 3, Name: "n", DBTVersion: "1.9.0-latest",
		ExecuteSteps: []string{"dbt run"}, State: StateActive, Schedule: JobSchedule{Cron: "0 * * * *"},
		Settings: JobSettings{Threads: 8, TargetName: "t"}}
	r := j.Request()
	if r.Name != "n" || *r.DBTVersion != "1.9.0-latest" || r.Schedule.Cron != "0 * * * *" || r.Settings.Threads != 8 {
		t.Errorf("Job.Request = %+v", r)
	}
	r.ExecuteSteps[0] = "dbt build"
	if j.ExecuteSteps[0] != "dbt run" {
		t.Error("Job.Request shares the job's steps")
	}
	e := (&Environment{Name: "Prod", DeploymentType: "production", CustomBranch: "main", CredentialsID: 9}).Request()
	if *e.DeploymentType != "production" || *e.CustomBranch != "main" || *e.CredentialsID != 9 {
		t.Errorf("Environment.Request = %+v", e)
	}
	p := (&Project{Name: "p", ConnectionID: 4, DBTProjectSubdirectory: "dbt"}).Request()
	if p.ConnectionID != 4 || *p.DBTProjectSubdirectory != "dbt" {
		t.Errorf("Project.Request = %+v", p)
	}
}
