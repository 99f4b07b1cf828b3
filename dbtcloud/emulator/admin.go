package emulator

import (
	"net/http"
)

// adminRoutes registers the account-administration operations that infrastructure-as-code clients and SDKs call
// besides the orchestration ones in routes: who the token is, the account's users, connections and repositories,
// the account-wide environment list, and creating, changing and deleting jobs, projects and environments.
func (e *Emulator) adminRoutes(m *http.ServeMux) {
	// Any token that authenticates may ask who it is, whatever its permission sets.
	m.HandleFunc("GET /api/v2/whoami/{$}", e.whoami)
	m.HandleFunc("GET /api/v3/accounts/{$}", e.need(actReadAccount, e.listAccounts))
	m.HandleFunc("GET /api/v3/accounts/{a}/users/{$}", e.need(actReadUsers, e.listUsers))
	m.HandleFunc("GET /api/v2/accounts/{a}/users/{$}", e.need(actReadUsers, e.listUsers)) // same shape on v2
	m.HandleFunc("GET /api/v3/accounts/{a}/environments/{$}", e.need(actReadEnvironments, e.listEnvironments))
	// A project's connection and repository are project settings: reading them takes Projects R.
	m.HandleFunc("GET /api/v3/accounts/{a}/projects/{p}/connections/{$}", e.need(actReadProjects, e.listConnections))
	m.HandleFunc("GET /api/v3/accounts/{a}/projects/{p}/connections/{c}/{$}", e.need(actReadProjects, e.getConnection))
	m.HandleFunc("GET /api/v3/accounts/{a}/projects/{p}/repositories/{$}", e.need(actReadProjects, e.listRepositories))
	m.HandleFunc("GET /api/v3/accounts/{a}/projects/{p}/repositories/{rp}/{$}", e.need(actReadProjects, e.getRepository))

	m.HandleFunc("POST /api/v2/accounts/{a}/jobs/{$}", e.need(actWriteJobs, e.createJob))
	m.HandleFunc("POST /api/v2/accounts/{a}/jobs/{j}/{$}", e.need(actWriteJobs, e.updateJob))
	m.HandleFunc("DELETE /api/v2/accounts/{a}/jobs/{j}/{$}", e.need(actWriteJobs, e.deleteJob))
	m.HandleFunc("POST /api/v3/accounts/{a}/projects/{$}", e.need(actCreateProjects, e.createProject))
	m.HandleFunc("POST /api/v3/accounts/{a}/projects/{p}/{$}", e.need(actWriteProjects, e.updateProject))
	m.HandleFunc("DELETE /api/v3/accounts/{a}/projects/{p}/{$}", e.need(actWriteProjects, e.deleteProject))
	m.HandleFunc("POST /api/v3/accounts/{a}/projects/{p}/environments/{$}", e.need(actWriteEnvironments, e.createEnvironment))
	m.HandleFunc("POST /api/v3/accounts/{a}/projects/{p}/environments/{e}/{$}", e.need(actWriteEnvironments, e.updateEnvironment))
	m.HandleFunc("DELETE /api/v3/accounts/{a}/projects/{p}/environments/{e}/{$}", e.need(actWriteEnvironments, e.deleteEnvironment))
}

// whoami answers GET /api/v2/whoami/, which clients call to learn whom a token belongs to. dbt Cloud's answer has
// the user under data.user (as the Go Terraform provider's client reads it); the seed's plain tokens belong to the
// account's one emulated user. A service token has no user: data.user is null and data.service_token names the
// token and its account. That shape for service tokens is the emulator's own; no public source records it.
func (e *Emulator) whoami(w http.ResponseWriter, r *http.Request) {
	ti := tokenFrom(r)
	e.begin()
	defer e.end()
	a := e.accounts[ti.accountID]
	if ti.name == "" {
		writeData(w, map[string]any{"user": e.wireUser(a)})
		return
	}
	writeData(w, map[string]any{"user": nil, "service_token": map[string]any{
		"name": ti.name, "account_id": a.id, "state": stateActive, "permission_sets": ti.setNames(),
	}})
}

func (e *Emulator) listUsers(w http.ResponseWriter, r *http.Request) {
	acct, _ := pathInt(r, "a")
	p, err := parsePage(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	e.begin()
	defer e.end()
	writeList(w, []wireUser{e.wireUser(e.accounts[acct])}, p, map[string]any{"account_id": acct}, "id")
}

func (e *Emulator) listConnections(w http.ResponseWriter, r *http.Request) {
	listOfProject(e, w, r, e.conns, func(c *connection) int64 { return c.projectID }, e.wireConnection)
}

func (e *Emulator) getConnection(w http.ResponseWriter, r *http.Request) {
	getOfProject(e, w, r, "c", e.conns, func(c *connection) int64 { return c.projectID }, e.wireConnection)
}

func (e *Emulator) listRepositories(w http.ResponseWriter, r *http.Request) {
	listOfProject(e, w, r, e.repos, func(rp *repository) int64 { return rp.projectID }, e.wireRepository)
}

func (e *Emulator) getRepository(w http.ResponseWriter, r *http.Request) {
	getOfProject(e, w, r, "rp", e.repos, func(rp *repository) int64 { return rp.projectID }, e.wireRepository)
}

// listOfProject answers a list of the project's objects among objs (its
// connections, its repositories): paged, filtered by state as dbt Cloud
// filters them (the emulator's are all active), in id order.
func listOfProject[T, W any](e *Emulator, w http.ResponseWriter, r *http.Request, objs map[int64]*T, project func(*T) int64, wire func(*T) W) {
	acct, _ := pathInt(r, "a")
	p, err := parsePage(r)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	admits, stateEcho, err := parseState(r, "active")
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	e.begin()
	defer e.end()
	pr := e.findProject(r)
	if pr == nil {
		notFound(w)
		return
	}
	out := []W{}
	for _, id := range sortedKeys(objs) {
		if o := objs[id]; project(o) == pr.id && admits(stateActive) {
			out = append(out, wire(o))
		}
	}
	writeList(w, out, p, map[string]any{"account_id": acct, "project_id": pr.id, "state": stateEcho}, "id")
}

// getOfProject answers the object of objs whose id is the path value key,
// if it is the project's; else 404.
func getOfProject[T, W any](e *Emulator, w http.ResponseWriter, r *http.Request, key string, objs map[int64]*T, project func(*T) int64, wire func(*T) W) {
	e.begin()
	defer e.end()
	pr := e.findProject(r)
	id, ok := pathInt(r, key)
	if pr == nil || !ok || objs[id] == nil || project(objs[id]) != pr.id {
		notFound(w)
		return
	}
	writeData(w, wire(objs[id]))
}
