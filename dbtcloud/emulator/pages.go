package emulator

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Stand-in pages: the emulator answers dbt Cloud's web paths (not only its
// API) with small HTML pages, so the dbtlink browser extension (extension/)
// is tested without a dbt Cloud account. They are not copies of dbt
// Cloud's pages: each carries only what extension/src/page.js reads, at
// the URL dbt Cloud uses, and each element below names the real one it
// stands for:
//
//   - Jobs page /deploy/{a}/projects/{p}/jobs/{j} and Runs page
//     /deploy/{a}/projects/{p}/runs/{r}: h1[data-testid="page-header-title"],
//     the page header dbt Cloud's deploy pages carry (read by public
//     extensions); the run list is a[href*="/runs/"] links, as there.
//   - Explore model page
//     /explore/{a}/projects/{p}/environments/{env}/details/{unique_id}: the
//     lineage graph is React Flow markup, div.react-flow__node[data-id]
//     (data-id is the dbt unique_id) getting class "selected" on a click,
//     without a URL change, as React Flow does.
//   - Develop (Studio) IDE /develop/{a}/projects/{p}: the open file is only
//     in the page; the editor tabs are [role="tablist"] [role="tab"] with
//     aria-selected="true" and title=<file path> on the active one, the ARIA
//     tab pattern the real editor's tabs follow (inferred, not verified
//     against dbt Cloud's markup; page.js keeps that selector in one place).
//
// Navigation between them is single-page: links marked data-spa are
// fetched (with X-Emulator-Fragment: 1, answered with the <main> content
// only), swapped into <main> and pushed with history.pushState, and
// popstate swaps back, so "navigation without a reload" is testable.

var (
	deployPage  = regexp.MustCompile(`^/deploy/(\d+)/projects/(\d+)/(jobs|runs)/(\d+)/?$`)
	explorePage = regexp.MustCompile(`^/explore/(\d+)/projects/(\d+)/environments/([^/]+)/details/([^/]+)/?$`)
	idePage     = regexp.MustCompile(`^/(develop|studio)/(\d+)/projects/(\d+)/?$`)
)

// pageNode is what the stand-in pages show of a manifest node.
type pageNode struct {
	UniqueID     string `json:"unique_id"`
	ResourceType string `json:"resource_type"`
	Name         string `json:"name"`
	File         string `json:"original_file_path"`
	Description  string `json:"description"`
	DependsOn    struct {
		Nodes []string `json:"nodes"`
	} `json:"depends_on"`
}

var (
	pageNodesOnce sync.Once
	pageNodes     map[string]*pageNode
	pageChildren  map[string][]string
	pageNodesErr  error
)

func loadPageNodes() error {
	pageNodesOnce.Do(func() {
		b, err := dataFS.ReadFile("data/manifest.json")
		if err != nil {
			pageNodesErr = fmt.Errorf("emulator pages: embedded manifest: %w", err)
			return
		}
		var m struct {
			Nodes   map[string]*pageNode `json:"nodes"`
			Sources map[string]*pageNode `json:"sources"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			pageNodesErr = fmt.Errorf("emulator pages: parse embedded manifest: %w", err)
			return
		}
		pageNodes = map[string]*pageNode{}
		pageChildren = map[string][]string{}
		for id, n := range m.Nodes {
			pageNodes[id] = n
		}
		for id, n := range m.Sources {
			pageNodes[id] = n
		}
		for id, n := range pageNodes {
			for _, p := range n.DependsOn.Nodes {
				pageChildren[p] = append(pageChildren[p], id)
			}
		}
		for _, c := range pageChildren {
			slices.Sort(c)
		}
	})
	return pageNodesErr
}

// servePage answers GET requests for the stand-in pages; it reports
// whether it did.
func (e *Emulator) servePage(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, "/deploy/") && !strings.HasPrefix(p, "/explore/") && !strings.HasPrefix(p, "/develop/") && !strings.HasPrefix(p, "/studio/") {
		return false
	}
	if err := loadPageNodes(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	var (
		view  pageView
		found bool
	)
	switch {
	case deployPage.MatchString(p):
		m := deployPage.FindStringSubmatch(p)
		view, found = e.deployView(m[1], m[2], m[3], m[4])
	case explorePage.MatchString(p):
		m := explorePage.FindStringSubmatch(p)
		view, found = e.exploreView(m[1], m[2], m[3], m[4])
	case idePage.MatchString(p):
		m := idePage.FindStringSubmatch(p)
		view, found = e.ideView(m[2], m[3])
	}
	status := http.StatusOK
	if !found {
		status = http.StatusNotFound
		view = pageView{Title: "Page not found", Kind: "missing"}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	name := "page"
	if r.Header.Get("X-Emulator-Fragment") == "1" {
		name = "main"
	}
	if err := pagesTemplate.ExecuteTemplate(w, name, view); err != nil {
		e.log.Warn("render stand-in page", "path", p, "error", err)
	}
	return true
}

// pageView is what one stand-in page shows.
type pageView struct {
	Kind    string // job, run, explore, ide, missing
	Title   string
	Account int64
	Project int64
	Env     string
	Job     *pageJob
	Runs    []pageRun
	Run     *pageRun
	Node    *pageNode
	Parents []*pageNode
	Kids    []*pageNode
	Files   []*pageNode
	Jobs    []pageJob
}

type pageJob struct {
	ID   int64
	Name string
}

type pageRun struct {
	ID     int64
	JobID  int64
	Status string
}

func (e *Emulator) pageProject(a, p string) (int64, int64, bool) {
	acct, err1 := strconv.ParseInt(a, 10, 64)
	proj, err2 := strconv.ParseInt(p, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	pr, ok := e.projects[proj]
	return acct, proj, ok && pr.accountID == acct
}

func (e *Emulator) deployView(a, p, kind, id string) (pageView, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	acct, proj, ok := e.pageProject(a, p)
	if !ok {
		return pageView{}, false
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	v := pageView{Account: acct, Project: proj, Jobs: e.projectJobs(proj)}
	if kind == "jobs" {
		j, ok := e.jobs[n]
		if !ok || j.projectID != proj {
			return pageView{}, false
		}
		v.Kind, v.Title, v.Job = "job", j.name, &pageJob{ID: j.id, Name: j.name}
		for _, r := range slices.Backward(e.runs) {
			if r.jobID == j.id {
				v.Runs = append(v.Runs, pageRun{ID: r.id, JobID: r.jobID, Status: statusHumanized(r.status)})
			}
		}
		return v, true
	}
	for _, r := range e.runs {
		if r.id == n && r.projectID == proj {
			v.Kind, v.Title = "run", fmt.Sprintf("Run #%d", r.id)
			v.Run = &pageRun{ID: r.id, JobID: r.jobID, Status: statusHumanized(r.status)}
			if j, ok := e.jobs[r.jobID]; ok {
				v.Job = &pageJob{ID: j.id, Name: j.name}
			}
			return v, true
		}
	}
	return pageView{}, false
}

// projectJobs lists a project's jobs by id; e.mu is held.
func (e *Emulator) projectJobs(proj int64) []pageJob {
	var out []pageJob
	for _, j := range e.jobs {
		if j.projectID == proj {
			out = append(out, pageJob{ID: j.id, Name: j.name})
		}
	}
	slices.SortFunc(out, func(x, y pageJob) int { return int(x.ID - y.ID) })
	return out
}

func (e *Emulator) exploreView(a, p, env, uid string) (pageView, bool) {
	e.mu.Lock()
	acct, proj, ok := e.pageProject(a, p)
	e.mu.Unlock()
	n := pageNodes[uid]
	if !ok || n == nil {
		return pageView{}, false
	}
	v := pageView{Kind: "explore", Title: n.Name, Account: acct, Project: proj, Env: env, Node: n}
	for _, id := range n.DependsOn.Nodes {
		if pn := pageNodes[id]; pn != nil {
			v.Parents = append(v.Parents, pn)
		}
	}
	for _, id := range pageChildren[uid] {
		if c := pageNodes[id]; c != nil && c.ResourceType != "test" {
			v.Kids = append(v.Kids, c)
		}
	}
	return v, true
}

func (e *Emulator) ideView(a, p string) (pageView, bool) {
	e.mu.Lock()
	acct, proj, ok := e.pageProject(a, p)
	e.mu.Unlock()
	if !ok {
		return pageView{}, false
	}
	v := pageView{Kind: "ide", Title: "Studio", Account: acct, Project: proj}
	for _, n := range pageNodes {
		if n.ResourceType == "model" && n.File != "" {
			v.Files = append(v.Files, n)
		}
	}
	slices.SortFunc(v.Files, func(x, y *pageNode) int { return strings.Compare(x.File, y.File) })
	return v, true
}

var pagesTemplate = template.Must(template.New("pages").Parse(`
{{define "page"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} | dbt Cloud (emulator)</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 0; }
nav { background: #1b2a3a; padding: 8px 16px; } nav a { color: #fff; margin-right: 12px; }
main { padding: 16px; }
.react-flow__node { display: inline-block; border: 1px solid #999; padding: 4px 8px; margin: 4px; cursor: pointer; }
.react-flow__node.selected { border-color: #ff694b; }
[role=tab][aria-selected=true] { font-weight: bold; }
</style></head>
<body data-emulator-page>
<nav>
  <a data-spa href="/deploy/1/projects/101/jobs/301">Deploy</a>
  <a data-spa href="/explore/1/projects/101/environments/production/details/model.jaffle_shop.orders">Explore</a>
  <a data-spa href="/develop/1/projects/101">Studio</a>
</nav>
<main id="app">{{template "main" .}}</main>
<script>
(function () {
  var app = document.getElementById("app");
  function swap(url, push) {
    return fetch(url, { headers: { "X-Emulator-Fragment": "1" } }).then(function (res) { return res.text(); }).then(function (html) {
      app.innerHTML = html;
      var h = app.querySelector("[data-page-title]");
      document.title = (h ? h.getAttribute("data-page-title") : "") + " | dbt Cloud (emulator)";
      if (push) history.pushState({}, "", url);
    });
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest("a[data-spa]");
    if (a) { e.preventDefault(); swap(a.href, true); return; }
    var node = e.target.closest(".react-flow__node");
    if (node) {
      document.querySelectorAll(".react-flow__node.selected").forEach(function (n) { n.classList.remove("selected"); });
      node.classList.add("selected");
      return;
    }
    var file = e.target.closest("[data-open-file]");
    if (file) {
      var path = file.getAttribute("data-open-file");
      var list = app.querySelector("[role=tablist]");
      var tab = list.querySelector('[role=tab][title="' + CSS.escape(path) + '"]');
      if (!tab) {
        tab = document.createElement("div");
        tab.setAttribute("role", "tab");
        tab.setAttribute("title", path);
        tab.textContent = path.split("/").pop();
        list.appendChild(tab);
      }
      list.querySelectorAll("[role=tab]").forEach(function (t) { t.setAttribute("aria-selected", t === tab ? "true" : "false"); });
      return;
    }
    var t = e.target.closest("[role=tab]");
    if (t) {
      t.parentNode.querySelectorAll("[role=tab]").forEach(function (x) { x.setAttribute("aria-selected", x === t ? "true" : "false"); });
    }
  });
  addEventListener("popstate", function () { swap(location.href, false); });
})();
</script>
</body></html>{{end}}

{{define "main"}}<div data-page-title="{{.Title}}" data-kind="{{.Kind}}">
{{- if eq .Kind "job"}}
<h1 data-testid="page-header-title">{{.Title}}</h1>
<p>Job {{.Job.ID}}</p>
<div data-testid="run-list">{{range .Runs}}
  <a data-spa href="/deploy/{{$.Account}}/projects/{{$.Project}}/runs/{{.ID}}">Run #{{.ID}}</a> {{.Status}}<br>{{else}}<p>No runs yet.</p>{{end}}
</div>
<h2>Jobs</h2>{{range .Jobs}}<a data-spa href="/deploy/{{$.Account}}/projects/{{$.Project}}/jobs/{{.ID}}">{{.Name}}</a><br>{{end}}
{{- else if eq .Kind "run"}}
<h1 data-testid="page-header-title">{{.Title}}</h1>
<p>Status: {{.Run.Status}}{{with .Job}} · job <a data-spa href="/deploy/{{$.Account}}/projects/{{$.Project}}/jobs/{{.ID}}">{{.Name}}</a>{{end}}</p>
{{- else if eq .Kind "explore"}}
<h1>{{.Node.Name}}</h1>
<p>{{.Node.ResourceType}} · {{.Node.File}}</p>
<p>{{.Node.Description}}</p>
<h2>Lineage</h2>
<div class="react-flow" data-testid="lineage-graph">
  {{range .Parents}}<div class="react-flow__node react-flow__node-default" data-id="{{.UniqueID}}">{{.Name}}</div>{{end}}
  <div class="react-flow__node react-flow__node-default" data-id="{{.Node.UniqueID}}">{{.Node.Name}}</div>
  {{range .Kids}}<div class="react-flow__node react-flow__node-default" data-id="{{.UniqueID}}">{{.Name}}</div>{{end}}
</div>
<h2>Open another</h2>
{{range .Parents}}<a data-spa href="/explore/{{$.Account}}/projects/{{$.Project}}/environments/{{$.Env}}/details/{{.UniqueID}}">{{.Name}}</a><br>{{end}}
{{range .Kids}}<a data-spa href="/explore/{{$.Account}}/projects/{{$.Project}}/environments/{{$.Env}}/details/{{.UniqueID}}">{{.Name}}</a><br>{{end}}
{{- else if eq .Kind "ide"}}
<h1>Studio</h1>
<div style="display:flex;gap:24px">
<ul data-testid="file-tree">{{range .Files}}<li><button type="button" data-open-file="{{.File}}">{{.File}}</button></li>{{end}}</ul>
<div><div role="tablist" aria-label="Open files"></div><pre data-testid="editor"></pre></div>
</div>
{{- else}}
<h1>Page not found</h1>
{{- end}}
</div>{{end}}
`))
