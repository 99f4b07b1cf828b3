package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Creating, changing and deleting jobs (v2), projects and environments (v3).
//
// Bodies are JSON; fields the emulator does not model (deferral, compare changes, lint, notification settings,
// extended attributes, ...) are accepted and ignored, as Django REST framework ignores fields a serializer does not
// know. Creates answer 201, updates 200, both with the object in dbt's envelope. A delete answers 200 with the
// object in its deleted state (state 2), as the recorded responses show (recorded/job_delete_response.json,
// project_delete_response.json, environment_delete_response.json); openapi-v2/v3.yaml document 204 instead.
// Deletion is soft and cascades: a deleted project's environments and jobs, and a deleted environment's jobs, are
// deleted with it. An update whose body says "state": 2 deletes too, which is how older clients delete jobs.
// Runs already queued or running are left to finish.

// nullable tells a field sent as null (set, value nil) from one left out (not set), so that an update can clear a
// field with null and leave alone the fields it does not send.
type nullable[T any] struct {
	set   bool
	value *T
}

func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.set = true
	if string(b) == "null" {
		n.value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.value = &v
	return nil
}

// writeCreated answers 201 with data in dbt's envelope (status.code 201, as recorded/job_create_response.json).
func writeCreated(w http.ResponseWriter, data any) {
	st := okStatus()
	st.Code = http.StatusCreated
	writeJSON(w, http.StatusCreated, envelope{Status: st, Data: data})
}

// fieldError is a 400 naming the field, in the spirit of Django REST framework's per-field messages.
func fieldError(w http.ResponseWriter, field, msg string, args ...any) {
	badRequest(w, field+": "+fmt.Sprintf(msg, args...))
}

// checkAccount answers 400 when a body's account_id names another account than the path.
func checkAccount(w http.ResponseWriter, r *http.Request, bodyAccount *int64, required bool) bool {
	acct, _ := pathInt(r, "a")
	if bodyAccount == nil {
		if required {
			fieldError(w, "account_id", "This field is required.")
			return false
		}
		return true
	}
	if *bodyAccount != acct {
		fieldError(w, "account_id", "is %d but the path names account %d", *bodyAccount, acct)
		return false
	}
	return true
}

func validName(w http.ResponseWriter, name *string, required bool, max int) bool {
	if name == nil {
		if required {
			fieldError(w, "name", "This field is required.")
			return false
		}
		return true
	}
	if strings.TrimSpace(*name) == "" {
		fieldError(w, "name", "This field may not be blank.")
		return false
	}
	if len(*name) > max {
		fieldError(w, "name", "Ensure this field has no more than %d characters.", max)
		return false
	}
	return true
}

// validState reads a body's state: absent or 1 keeps the object, 2 deletes it (not allowed on create).
func validState(w http.ResponseWriter, state *int, creating bool) (deletes, ok bool) {
	if state == nil || *state == stateActive {
		return false, true
	}
	if *state == stateDeleted && !creating {
		return true, true
	}
	if creating {
		fieldError(w, "state", "a new object must be active (1), got %d", *state)
	} else {
		fieldError(w, "state", "must be 1 (active) or 2 (deleted), got %d", *state)
	}
	return false, false
}

func (e *Emulator) newID(kind string) int64 {
	id := e.nextObjectID[kind]
	e.nextObjectID[kind] = id + 1
	return id
}

// ---- jobs ----

type jobBody struct {
	ID            *int64           `json:"id"`
	AccountID     *int64           `json:"account_id"`
	ProjectID     *int64           `json:"project_id"`
	EnvironmentID *int64           `json:"environment_id"`
	Name          *string          `json:"name"`
	Description   *string          `json:"description"`
	DBTVersion    nullable[string] `json:"dbt_version"`
	ExecuteSteps  []string         `json:"execute_steps"`
	Settings      *struct {
		Threads    *int    `json:"threads"`
		TargetName *string `json:"target_name"`
	} `json:"settings"`
	Execution *struct {
		TimeoutSeconds *int `json:"timeout_seconds"`
	} `json:"execution"`
	Triggers *struct {
		GithubWebhook      *bool `json:"github_webhook"`
		GitProviderWebhook *bool `json:"git_provider_webhook"`
		Schedule           *bool `json:"schedule"`
		OnMerge            *bool `json:"on_merge"`
		CustomBranchOnly   *bool `json:"custom_branch_only"`
	} `json:"triggers"`
	Schedule *struct {
		Cron *string `json:"cron"`
	} `json:"schedule"`
	GenerateDocs       *bool   `json:"generate_docs"`
	RunGenerateSources *bool   `json:"run_generate_sources"`
	GenerateSources    *bool   `json:"generate_sources"`
	JobType            *string `json:"job_type"`
	State              *int    `json:"state"`
}

var jobTypes = map[string]bool{"ci": true, "scheduled": true, "other": true, "merge": true, "exposure_sync": true,
	"adaptive": true, "hybrid": true}

// applyJob checks b and copies it onto j (a fresh job on create, a copy of the stored one on update). It answers
// the 400 itself and reports whether b was valid. e.mu must be held.
func (e *Emulator) applyJob(w http.ResponseWriter, r *http.Request, b *jobBody, j *job, creating bool) bool {
	if !checkAccount(w, r, b.AccountID, creating) || !validName(w, b.Name, creating, 255) {
		return false
	}
	if creating && b.ProjectID == nil {
		fieldError(w, "project_id", "This field is required.")
		return false
	}
	if creating && b.EnvironmentID == nil {
		fieldError(w, "environment_id", "This field is required.")
		return false
	}
	if b.ProjectID != nil {
		j.projectID = *b.ProjectID
	}
	if b.EnvironmentID != nil {
		j.envID = *b.EnvironmentID
	}
	pr := e.projects[j.projectID]
	if pr == nil || pr.state != stateActive || pr.accountID != j.accountID || !inScope(r, pr.id) {
		fieldError(w, "project_id", "project %d does not exist in account %d (or this token may not change its jobs)", j.projectID, j.accountID)
		return false
	}
	en := e.envs[j.envID]
	if en == nil || en.state != stateActive || en.projectID != pr.id {
		fieldError(w, "environment_id", "environment %d does not exist in project %d", j.envID, pr.id)
		return false
	}
	if en.envType != "deployment" {
		fieldError(w, "environment_id", "environment %d is a %s environment; jobs run only in deployment environments", en.id, en.envType)
		return false
	}
	if b.Name != nil {
		j.name = *b.Name
	}
	if b.Description != nil {
		j.description = *b.Description
	}
	if b.DBTVersion.set {
		j.dbtVersion = b.DBTVersion.value // null: use the environment's
	}
	if b.ExecuteSteps != nil || creating {
		if len(b.ExecuteSteps) == 0 {
			fieldError(w, "execute_steps", "a job needs at least one dbt command, e.g. [\"dbt build\"]")
			return false
		}
		for i, s := range b.ExecuteSteps {
			if !strings.HasPrefix(strings.TrimSpace(s), "dbt ") {
				fieldError(w, fmt.Sprintf("execute_steps[%d]", i), "%q is not a dbt command", s)
				return false
			}
		}
		j.commands = append([]string(nil), b.ExecuteSteps...)
	}
	if s := b.Settings; s != nil {
		if s.Threads != nil {
			if *s.Threads < 1 {
				fieldError(w, "settings.threads", "Ensure this value is greater than or equal to 1.")
				return false
			}
			j.threads = *s.Threads
		}
		if s.TargetName != nil {
			j.targetName = *s.TargetName
		}
	}
	if x := b.Execution; x != nil && x.TimeoutSeconds != nil {
		if *x.TimeoutSeconds < 0 {
			fieldError(w, "execution.timeout_seconds", "Ensure this value is greater than or equal to 0.")
			return false
		}
		j.timeoutSeconds = *x.TimeoutSeconds
	}
	if t := b.Triggers; t != nil {
		for _, f := range []struct {
			src *bool
			dst *bool
		}{{t.GithubWebhook, &j.triggers.GithubWebhook}, {t.GitProviderWebhook, &j.triggers.GitProviderWebhook},
			{t.Schedule, &j.triggers.Schedule}, {t.OnMerge, &j.triggers.OnMerge}, {t.CustomBranchOnly, &j.triggers.CustomBranchOnly}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
	}
	if s := b.Schedule; s != nil && s.Cron != nil {
		if len(strings.Fields(*s.Cron)) != 5 {
			fieldError(w, "schedule.cron", "%q is not a five-field cron expression", *s.Cron)
			return false
		}
		j.cron = *s.Cron
	}
	if b.GenerateDocs != nil {
		j.generateDocs = *b.GenerateDocs
	}
	if b.RunGenerateSources != nil {
		j.generateSources = *b.RunGenerateSources
	} else if b.GenerateSources != nil {
		j.generateSources = *b.GenerateSources
	}
	if b.JobType != nil {
		if !jobTypes[*b.JobType] {
			fieldError(w, "job_type", "%q is not a valid choice.", *b.JobType)
			return false
		}
		j.jobType = *b.JobType
	}
	return true
}

func (e *Emulator) createJob(w http.ResponseWriter, r *http.Request) {
	var b jobBody
	if err := readJSONBody(r, &b); err != nil {
		badRequest(w, err.Error())
		return
	}
	if _, ok := validState(w, b.State, true); !ok {
		return
	}
	acct, _ := pathInt(r, "a")
	e.begin()
	defer e.end()
	now := e.clock.Now()
	j := &job{accountID: acct, threads: 4, targetName: "default", jobType: "other", state: stateActive,
		createdAt: now, updatedAt: now}
	if !e.applyJob(w, r, &b, j, true) {
		return
	}
	if b.JobType == nil && j.triggers.Schedule {
		j.jobType = "scheduled"
	}
	j.id = e.newID("job")
	e.jobs[j.id] = j
	writeCreated(w, e.wireJob(j, nil, baseURL(r)))
}

func (e *Emulator) updateJob(w http.ResponseWriter, r *http.Request) {
	var b jobBody
	if err := readJSONBody(r, &b); err != nil {
		badRequest(w, err.Error())
		return
	}
	deletes, ok := validState(w, b.State, false)
	if !ok {
		return
	}
	e.begin()
	defer e.end()
	j := e.findJob(r)
	if j == nil {
		notFound(w)
		return
	}
	if b.ID != nil && *b.ID != j.id {
		fieldError(w, "id", "is %d but the path names job %d", *b.ID, j.id)
		return
	}
	next := *j
	next.commands = append([]string(nil), j.commands...)
	if !e.applyJob(w, r, &b, &next, false) {
		return
	}
	next.updatedAt = e.clock.Now()
	if deletes {
		next.state = stateDeleted
	}
	*j = next
	writeData(w, e.wireJob(j, nil, baseURL(r)))
}

func (e *Emulator) deleteJob(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	j := e.findJob(r)
	if j == nil {
		notFound(w)
		return
	}
	e.deleteJobLocked(j)
	writeData(w, e.wireJob(j, nil, baseURL(r)))
}

func (e *Emulator) deleteJobLocked(j *job) {
	j.state, j.updatedAt = stateDeleted, e.clock.Now()
}

// ---- projects ----

type projectBody struct {
	ID                     *int64           `json:"id"`
	AccountID              *int64           `json:"account_id"`
	Name                   *string          `json:"name"`
	Description            *string          `json:"description"`
	DBTProjectSubdirectory nullable[string] `json:"dbt_project_subdirectory"`
	ConnectionID           nullable[int64]  `json:"connection_id"`
	RepositoryID           nullable[int64]  `json:"repository_id"`
	Type                   *int             `json:"type"`
	State                  *int             `json:"state"`
}

func (e *Emulator) applyProject(w http.ResponseWriter, r *http.Request, b *projectBody, p *project, creating bool) bool {
	if !checkAccount(w, r, b.AccountID, false) || !validName(w, b.Name, creating, 250) {
		return false
	}
	if b.Type != nil && *b.Type != 0 && *b.Type != 1 {
		fieldError(w, "type", "%d is not a valid choice (0 DEFAULT, 1 HYBRID).", *b.Type)
		return false
	}
	if b.ConnectionID.set {
		if id := b.ConnectionID.value; id != nil {
			if c := e.conns[*id]; c == nil || c.accountID != p.accountID {
				fieldError(w, "connection_id", "connection %d does not exist in account %d", *id, p.accountID)
				return false
			}
		}
		p.connID = b.ConnectionID.value // null detaches the connection
	}
	if b.RepositoryID.set {
		if id := b.RepositoryID.value; id != nil {
			if rp := e.repos[*id]; rp == nil || rp.accountID != p.accountID {
				fieldError(w, "repository_id", "repository %d does not exist in account %d", *id, p.accountID)
				return false
			}
		}
		p.repoID = b.RepositoryID.value
	}
	if b.Name != nil {
		p.name = *b.Name
	}
	if b.Description != nil {
		p.description = *b.Description
	}
	if b.DBTProjectSubdirectory.set {
		p.subdirectory = b.DBTProjectSubdirectory.value
	}
	return true
}

func (e *Emulator) createProject(w http.ResponseWriter, r *http.Request) {
	var b projectBody
	if err := readJSONBody(r, &b); err != nil {
		badRequest(w, err.Error())
		return
	}
	if _, ok := validState(w, b.State, true); !ok {
		return
	}
	acct, _ := pathInt(r, "a")
	e.begin()
	defer e.end()
	now := e.clock.Now()
	// A project created through the API has no connection or repository until one is set (recorded/project_create_response.json).
	p := &project{accountID: acct, state: stateActive, createdAt: now, updatedAt: now}
	if !e.applyProject(w, r, &b, p, true) {
		return
	}
	p.id = e.newID("project")
	e.projects[p.id] = p
	writeCreated(w, e.wireProjectRelated(p, nil, baseURL(r)))
}

func (e *Emulator) updateProject(w http.ResponseWriter, r *http.Request) {
	var b projectBody
	if err := readJSONBody(r, &b); err != nil {
		badRequest(w, err.Error())
		return
	}
	deletes, ok := validState(w, b.State, false)
	if !ok {
		return
	}
	e.begin()
	defer e.end()
	p := e.findProject(r)
	if p == nil {
		notFound(w)
		return
	}
	if b.ID != nil && *b.ID != p.id {
		fieldError(w, "id", "is %d but the path names project %d", *b.ID, p.id)
		return
	}
	next := *p
	if !e.applyProject(w, r, &b, &next, false) {
		return
	}
	next.updatedAt = e.clock.Now()
	*p = next
	if deletes {
		e.deleteProjectLocked(p)
	}
	writeData(w, e.wireProjectRelated(p, nil, baseURL(r)))
}

func (e *Emulator) deleteProject(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	p := e.findProject(r)
	if p == nil {
		notFound(w)
		return
	}
	e.deleteProjectLocked(p)
	writeData(w, e.wireProjectRelated(p, nil, baseURL(r)))
}

// deleteProjectLocked deletes p with its environments (and so their jobs).
func (e *Emulator) deleteProjectLocked(p *project) {
	p.state, p.updatedAt = stateDeleted, e.clock.Now()
	for _, en := range e.envs {
		if en.projectID == p.id && en.state == stateActive {
			e.deleteEnvironmentLocked(en)
		}
	}
	for _, j := range e.jobs {
		if j.projectID == p.id && j.state == stateActive {
			e.deleteJobLocked(j)
		}
	}
}

// ---- environments ----

type environmentBody struct {
	ID              *int64           `json:"id"`
	AccountID       *int64           `json:"account_id"`
	ProjectID       *int64           `json:"project_id"`
	Name            *string          `json:"name"`
	DBTVersion      *string          `json:"dbt_version"`
	Type            *string          `json:"type"`
	DeploymentType  nullable[string] `json:"deployment_type"`
	UseCustomBranch *bool            `json:"use_custom_branch"`
	CustomBranch    nullable[string] `json:"custom_branch"`
	CredentialsID   nullable[int64]  `json:"credentials_id"`
	State           *int             `json:"state"`
}

func (e *Emulator) applyEnvironment(w http.ResponseWriter, r *http.Request, b *environmentBody, en *environment, creating bool) bool {
	if !checkAccount(w, r, b.AccountID, false) || !validName(w, b.Name, creating, 255) {
		return false
	}
	if b.ProjectID != nil && *b.ProjectID != en.projectID {
		fieldError(w, "project_id", "is %d but the path names project %d", *b.ProjectID, en.projectID)
		return false
	}
	if b.Name != nil {
		en.name = *b.Name
	}
	if b.DBTVersion != nil {
		if strings.TrimSpace(*b.DBTVersion) == "" {
			fieldError(w, "dbt_version", "This field may not be blank.")
			return false
		}
		en.dbtVersion = *b.DBTVersion
	}
	if b.Type != nil {
		if *b.Type != "deployment" && *b.Type != "development" {
			fieldError(w, "type", "%q is not a valid choice (deployment, development).", *b.Type)
			return false
		}
		if !creating && *b.Type != en.envType {
			fieldError(w, "type", "an environment's type cannot change (it is %s)", en.envType)
			return false
		}
		en.envType = *b.Type
	}
	if b.DeploymentType.set {
		dt := ""
		if b.DeploymentType.value != nil {
			dt = *b.DeploymentType.value
		}
		switch dt {
		case "production", "staging", "":
		default:
			fieldError(w, "deployment_type", "%q is not a valid choice (production, staging or null).", dt)
			return false
		}
		en.deployType = dt // null: a general deployment environment
	}
	if en.envType == "development" && en.deployType != "" {
		fieldError(w, "deployment_type", "a development environment has no deployment type")
		return false
	}
	if b.UseCustomBranch != nil {
		en.useCustomBranch = *b.UseCustomBranch
	}
	if b.CustomBranch.set {
		en.customBranch = b.CustomBranch.value
	}
	if b.CredentialsID.set {
		en.credentialsID = b.CredentialsID.value
	}
	// dbt Cloud allows one production environment and one development environment per project.
	for _, o := range e.envs {
		if o.id == en.id || o.projectID != en.projectID || o.state != stateActive {
			continue
		}
		if en.deployType == "production" && o.deployType == "production" {
			fieldError(w, "deployment_type", "project %d already has a production environment (%d %q)", en.projectID, o.id, o.name)
			return false
		}
		if en.envType == "development" && o.envType == "development" {
			fieldError(w, "type", "project %d already has a development environment (%d %q)", en.projectID, o.id, o.name)
			return false
		}
	}
	return true
}

func (e *Emulator) createEnvironment(w http.ResponseWriter, r *http.Request) {
	var b environmentBody
	if err := readJSONBody(r, &b); err != nil {
		badRequest(w, err.Error())
		return
	}
	if _, ok := validState(w, b.State, true); !ok {
		return
	}
	e.begin()
	defer e.end()
	p := e.findProject(r)
	if p == nil {
		notFound(w)
		return
	}
	now := e.clock.Now()
	// The spec's defaults: a deployment environment on dbt "latest".
	en := &environment{accountID: p.accountID, projectID: p.id, envType: "deployment", dbtVersion: "latest",
		state: stateActive, createdAt: now, updatedAt: now}
	if !e.applyEnvironment(w, r, &b, en, true) {
		return
	}
	en.id = e.newID("environment")
	e.envs[en.id] = en
	writeCreated(w, e.wireEnvironment(en, true))
}

func (e *Emulator) updateEnvironment(w http.ResponseWriter, r *http.Request) {
	var b environmentBody
	if err := readJSONBody(r, &b); err != nil {
		badRequest(w, err.Error())
		return
	}
	deletes, ok := validState(w, b.State, false)
	if !ok {
		return
	}
	e.begin()
	defer e.end()
	en := e.findEnvironment(r, e.findProject(r), r.PathValue("e"))
	if en == nil {
		notFound(w)
		return
	}
	if b.ID != nil && *b.ID != en.id {
		fieldError(w, "id", "is %d but the path names environment %d", *b.ID, en.id)
		return
	}
	next := *en
	if !e.applyEnvironment(w, r, &b, &next, false) {
		return
	}
	next.updatedAt = e.clock.Now()
	*en = next
	if deletes {
		e.deleteEnvironmentLocked(en)
	}
	writeData(w, e.wireEnvironment(en, true))
}

func (e *Emulator) deleteEnvironment(w http.ResponseWriter, r *http.Request) {
	e.begin()
	defer e.end()
	en := e.findEnvironment(r, e.findProject(r), r.PathValue("e"))
	if en == nil {
		notFound(w)
		return
	}
	e.deleteEnvironmentLocked(en)
	writeData(w, e.wireEnvironment(en, true))
}

// deleteEnvironmentLocked deletes en and its jobs.
func (e *Emulator) deleteEnvironmentLocked(en *environment) {
	en.state, en.updatedAt = stateDeleted, e.clock.Now()
	for _, j := range e.jobs {
		if j.envID == en.id && j.state == stateActive {
			e.deleteJobLocked(j)
		}
	}
}
