package emulator

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// PermissionSet is a dbt Cloud permission set, spelled as the Admin API spells it (PermissionSetEnum in
// openapi-v2.yaml, e.g. "job_admin"). A service token carries one or more of them, each granted on all projects or
// on chosen ones.
type PermissionSet string

// The permission sets the emulator models. The API knows a few more (analyst_read, cost_*, fusion_admin,
// job_creator, notification_manager, scim_only) that no public page describes well enough to emulate.
const (
	PermissionAccountAdmin          PermissionSet = "account_admin"
	PermissionAccountViewer         PermissionSet = "account_viewer"
	PermissionAdmin                 PermissionSet = "admin"
	PermissionAnalyst               PermissionSet = "analyst"
	PermissionBillingAdmin          PermissionSet = "billing_admin"
	PermissionDatabaseAdmin         PermissionSet = "database_admin"
	PermissionDeveloper             PermissionSet = "developer"
	PermissionGitAdmin              PermissionSet = "git_admin"
	PermissionJobAdmin              PermissionSet = "job_admin"
	PermissionJobRunner             PermissionSet = "job_runner"
	PermissionJobViewer             PermissionSet = "job_viewer"
	PermissionManageMarketplaceApps PermissionSet = "manage_marketplace_apps"
	PermissionMember                PermissionSet = "member"
	PermissionMetadataOnly          PermissionSet = "metadata_only"
	PermissionOwner                 PermissionSet = "owner"
	PermissionProjectCreator        PermissionSet = "project_creator"
	PermissionReadOnly              PermissionSet = "readonly"
	PermissionSecurityAdmin         PermissionSet = "security_admin"
	PermissionSemanticLayerOnly     PermissionSet = "semantic_layer_only"
	PermissionStakeholder           PermissionSet = "stakeholder"
	PermissionTeamAdmin             PermissionSet = "team_admin"
	PermissionWebhooksOnly          PermissionSet = "webhooks_only"
)

// action is what a request does, in the terms the permission tables use.
type action int

const (
	actNone              action = iota
	actReadAccount              // GET /accounts/, /accounts/{a}/
	actReadProjects             // GET v3 projects
	actReadEnvironments         // GET v3 environments
	actReadJobs                 // GET jobs, one job
	actReadRuns                 // GET runs, one run, retry details, artifacts (of a run or a job's latest run)
	actWriteRuns                // trigger, rerun, retry, cancel
	actWebhooks                 // any webhook subscription call: the tables grant webhooks only as Write
	actReadUsers                // GET v3 users
	actCreateProjects           // POST v3 projects: Projects W on the whole account
	actWriteProjects            // update or delete a project (and so its environments and jobs)
	actWriteEnvironments        // create, update or delete an environment (and so its jobs)
	actWriteJobs                // create, update or delete a job
)

func (a action) String() string {
	return [...]string{"nothing", "read the account", "read projects", "read environments", "read jobs",
		"read runs and artifacts", "trigger, rerun, retry or cancel runs", "manage webhook subscriptions",
		"read the account's users", "create projects", "change or delete projects", "create, change or delete environments",
		"create, change or delete jobs"}[a]
}

// level is a permission table cell: "-", R or W. W includes R ("Write ... includes read" in the key of the
// enterprise permissions tables).
type level int

const (
	none level = iota
	read
	write
)

// permissionRow is what one permission set may do through the Admin API the emulator serves.
type permissionRow struct {
	name string // as dbt Cloud's UI and docs name it
	// accountLevel sets are granted on the whole account: a service token cannot scope them to projects.
	accountLevel bool
	// account: the set reaches the Admin API at all, so the token may read its account. The tables have no row
	// for reading the account object (their "Account settings" row is about changing settings), so every set that
	// grants any Admin API access is taken to read it; the two sets documented as authorizing other APIs only do
	// not.
	account                    bool
	projects, envs, jobs, runs level
	webhooks                   bool
}

// Sources of the rows, as of 2026 (read from github.com/dbt-labs/docs.getdbt.com):
//
//	[EP]  docs.getdbt.com/docs/cloud/manage-access/enterprise-permissions (website/snippets/_enterprise-permissions-table.md):
//	      tables "Project permissions for account roles", "Project permissions for project roles" (rows Projects,
//	      Environments, Jobs, Runs) and "Account permissions for ..." (row Webhooks). Cells marked * there are R by
//	      default and may be made W per environment with environment permissions, which the emulator does not model.
//	[ST]  docs.getdbt.com/docs/dbt-cloud-apis/service-tokens: which sets a service token may carry, and the Team-plan
//	      descriptions ("Metadata-only service tokens authorize requests to the Discovery API", "Semantic Layer-only
//	      ... the Semantic Layer APIs", "Job Admin ... viewing, editing, and creating environments, triggering runs,
//	      and viewing historical runs", "Read-only ... viewing a read-only dashboard, viewing generated
//	      documentation, and viewing source freshness reports", Account Admin is the Team plan's "Owner").
//	[SSP] docs.getdbt.com/docs/cloud/manage-access/self-service-permissions: Member and Owner both "View and edit
//	      resources" and "Trigger runs".
//
// Artifacts belong to runs: reading them takes Runs R.
var permissionTable = map[PermissionSet]permissionRow{
	// [EP] account roles: Account Admin W on Projects, Environments, Jobs, Runs and Webhooks.
	PermissionAccountAdmin: {name: "Account Admin", accountLevel: true, account: true, projects: write, envs: write, jobs: write, runs: write, webhooks: true},
	// [EP] account roles, column "Viewer": R on Projects, Environments, Jobs, Runs; no Webhooks.
	PermissionAccountViewer: {name: "Account Viewer", accountLevel: true, account: true, projects: read, envs: read, jobs: read, runs: read},
	// [EP] project roles, "Admin": W on all four and Webhooks W.
	PermissionAdmin: {name: "Admin", account: true, projects: write, envs: write, jobs: write, runs: write, webhooks: true},
	// [EP] project roles, "Analyst": Projects W, Environments R, Jobs R*, Runs R*; no Webhooks.
	PermissionAnalyst: {name: "Analyst", account: true, projects: write, envs: read, jobs: read, runs: read},
	// [EP] account roles, "Billing admin": no project-level permission.
	PermissionBillingAdmin: {name: "Billing Admin", accountLevel: true, account: true},
	// [EP] project roles, "Database admin": Projects W, Environments R, Jobs R*, Runs R*.
	PermissionDatabaseAdmin: {name: "Database Admin", account: true, projects: write, envs: read, jobs: read, runs: read},
	// [EP] project roles, "Developer": Projects W, Environments R, Jobs R*, Runs R*, Webhooks W.
	PermissionDeveloper: {name: "Developer", account: true, projects: write, envs: read, jobs: read, runs: read, webhooks: true},
	// [EP] project roles, "Git Admin": Projects W, Environments R, Jobs R*, Runs R*.
	PermissionGitAdmin: {name: "Git Admin", account: true, projects: write, envs: read, jobs: read, runs: read},
	// [EP] project roles, "Job admin": Projects R, Environments W, Jobs W, Runs W; no Webhooks. [ST] agrees.
	PermissionJobAdmin: {name: "Job Admin", account: true, projects: read, envs: write, jobs: write, runs: write},
	// [EP] project roles, "Job runner": Jobs R, Runs W, nothing on Projects or Environments.
	PermissionJobRunner: {name: "Job Runner", account: true, jobs: read, runs: write},
	// [EP] project roles, "Job viewer": R on Projects, Environments, Jobs, Runs.
	PermissionJobViewer: {name: "Job Viewer", account: true, projects: read, envs: read, jobs: read, runs: read},
	// [EP] account roles, "Manage marketplace apps": only the Marketplace app row.
	PermissionManageMarketplaceApps: {name: "Manage marketplace apps", accountLevel: true, account: true},
	// [SSP] Team plan Member: view and edit resources, trigger runs; webhooks are resources it may edit.
	PermissionMember: {name: "Member", accountLevel: true, account: true, projects: write, envs: write, jobs: write, runs: write, webhooks: true},
	// [ST] Discovery API only; [EP] column "Metadata (Discovery API only)" has only Metadata GraphQL API access.
	PermissionMetadataOnly: {name: "Metadata Only"},
	// [ST], [SSP]: the Team plan's name for Account Admin.
	PermissionOwner: {name: "Owner", accountLevel: true, account: true, projects: write, envs: write, jobs: write, runs: write, webhooks: true},
	// [EP] account roles, "Project creator": W on all four; no Webhooks.
	PermissionProjectCreator: {name: "Project Creator", accountLevel: true, account: true, projects: write, envs: write, jobs: write, runs: write},
	// [ST] Read-only: dashboards, generated docs and source freshness, all of which are read from runs and their
	// artifacts; taken as R on everything the emulator serves and W on nothing.
	PermissionReadOnly: {name: "Read-Only", accountLevel: true, account: true, projects: read, envs: read, jobs: read, runs: read},
	// [EP] account roles, "Security admin": Projects R only.
	PermissionSecurityAdmin: {name: "Security Admin", accountLevel: true, account: true, projects: read},
	// [ST] Semantic Layer APIs only.
	PermissionSemanticLayerOnly: {name: "Semantic Layer Only"},
	// [EP] project roles, "Stakeholder": R on Projects, Environments, Jobs, Runs.
	PermissionStakeholder: {name: "Stakeholder", account: true, projects: read, envs: read, jobs: read, runs: read},
	// [EP] project roles, "Team admin": Projects W, Environments R, Jobs R*, Runs R*.
	PermissionTeamAdmin: {name: "Team Admin", account: true, projects: write, envs: read, jobs: read, runs: read},
	// [EP] project roles, "Webhook": Webhooks W and nothing else.
	PermissionWebhooksOnly: {name: "Webhooks Only", account: true, webhooks: true},
}

// String returns the set's name as dbt Cloud shows it ("Job Admin"), or the raw value for an unknown set.
func (p PermissionSet) String() string {
	if row, ok := permissionTable[p]; ok {
		return row.name
	}
	return string(p)
}

// ParsePermissionSet accepts a set in the API's spelling ("job_admin") or as the docs name it ("Job Admin",
// "Read-Only", "Metadata Only"), ignoring case.
func ParsePermissionSet(s string) (PermissionSet, error) {
	norm := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(s)))
	if norm == "read_only" {
		norm = string(PermissionReadOnly)
	}
	if _, ok := permissionTable[PermissionSet(norm)]; ok {
		return PermissionSet(norm), nil
	}
	return "", fmt.Errorf("%q is not a permission set the emulator knows; use one of %s", s, strings.Join(PermissionSetNames(), ", "))
}

// PermissionSetNames lists the modelled sets in the API's spelling, sorted.
func PermissionSetNames() []string {
	out := make([]string, 0, len(permissionTable))
	for p := range permissionTable {
		out = append(out, string(p))
	}
	sort.Strings(out)
	return out
}

func (row permissionRow) allows(a action) bool {
	switch a {
	case actReadAccount:
		return row.account
	case actReadProjects:
		return row.projects >= read
	case actReadEnvironments:
		return row.envs >= read
	case actReadJobs:
		return row.jobs >= read
	case actReadRuns:
		return row.runs >= read
	case actWriteRuns:
		return row.runs >= write
	case actWebhooks:
		return row.webhooks
	case actReadUsers:
		// The tables' "Users" rows are not modelled cell by cell: every account-level set that reaches the Admin
		// API reads the account's users, and no project-level set does (users belong to the account, not to a
		// project).
		return row.account && row.accountLevel
	case actCreateProjects, actWriteProjects:
		return row.projects >= write
	case actWriteEnvironments:
		return row.envs >= write
	case actWriteJobs:
		return row.jobs >= write
	}
	return false
}

// projectScoped reports whether an action concerns objects of one project (and so follows a grant's project
// scope); the account and webhook subscriptions belong to the account.
func (a action) projectScoped() bool {
	return a != actReadAccount && a != actWebhooks && a != actReadUsers && a != actCreateProjects
}

// grant is one permission set given to a token, on all projects (projects nil) or on some.
type grant struct {
	set      PermissionSet
	projects map[int64]bool
}

// may reports whether the token may do a on an object of project projectID; projectID 0 asks whether it may do
// it on at least one project.
func (ti tokenInfo) may(a action, projectID int64) bool {
	for _, g := range ti.grants {
		if !permissionTable[g.set].allows(a) {
			continue
		}
		if a == actCreateProjects && g.projects != nil {
			continue // a new project is outside any project scope: creating one takes Projects W on the account
		}
		if !a.projectScoped() || g.projects == nil || projectID == 0 && len(g.projects) > 0 || g.projects[projectID] {
			return true
		}
	}
	return false
}

func (ti tokenInfo) setNames() string {
	names := make([]string, len(ti.grants))
	for i, g := range ti.grants {
		names[i] = g.set.String()
	}
	return strings.Join(names, ", ")
}

type actionKey struct{}

// need wraps a handler with the permission check for a: a token that may not do a on any project gets dbt
// Cloud's 403 before the body is read or the object looked up (as Django REST framework checks a view's
// permissions before its handler runs); a token that may do a only on other projects than the object's gets a
// 404 from the handler (inScope), as dbt Cloud answers for objects a token cannot see.
func (e *Emulator) need(a action, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ti := tokenFrom(r)
		if !ti.may(a, 0) {
			forbidden(w, ti, a)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), actionKey{}, a)))
	}
}

// inScope reports whether the request's token may do the route's action on an object of projectID.
func inScope(r *http.Request, projectID int64) bool {
	a, _ := r.Context().Value(actionKey{}).(action)
	if a == actNone {
		return true // a route without a permission check (none today)
	}
	return tokenFrom(r).may(a, projectID)
}

// forbidden answers dbt Cloud's permission 403: the usual envelope with data null. The user message is Django
// REST framework's default for a failed permission check; the developer message says what was missing, naming the
// token's permission sets (never the token).
func forbidden(w http.ResponseWriter, ti tokenInfo, a action) {
	dev := fmt.Sprintf("this token may not %s", a)
	if ti.name != "" {
		dev = fmt.Sprintf("service token %q (%s) may not %s", ti.name, ti.setNames(), a)
	}
	writeError(w, http.StatusForbidden, "You do not have permission to perform this action.", dev)
}

// ServiceToken describes a seeded service token, for printing and tests.
type ServiceToken struct {
	Name           string
	Token          string
	AccountID      int64
	PermissionSets []PermissionSet
	// ProjectIDs is the project scope; empty means all projects.
	ProjectIDs []int64
}

// ServiceTokens returns the seed's service tokens (SeedAccount.ServiceTokens) in seed order.
func (e *Emulator) ServiceTokens() []ServiceToken {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]ServiceToken(nil), e.serviceTokens...)
}
