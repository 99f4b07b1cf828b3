package catalog_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/catalog"
	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
)

// recorder notes the paths a client asked for, to prove which API a sync used.
type recorder struct {
	mu    sync.Mutex
	paths []string
	base  http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

func (r *recorder) seen(sub string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.paths {
		if strings.Contains(p, sub) {
			n++
		}
	}
	return n
}

// dump is a stored snapshot, read back through the store's queries, without
// what differs between any two stores (row ids, sync times).
type dump struct {
	Scope   store.CatalogScope
	Nodes   []store.CatalogNode
	Tests   []store.CatalogTest
	History map[string][]store.TestResult
	Edges   []store.ScopedEdge
	Jobs    []store.CatalogJob
	Runs    []store.CatalogRun
	Built   map[string][]store.NodeRunDetail
}

func readBack(t *testing.T, st *store.Store, key string) dump {
	t.Helper()
	ctx := t.Context()
	sc, err := st.GetScope(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	d := dump{Scope: sc, History: map[string][]store.TestResult{}, Built: map[string][]store.NodeRunDetail{}}
	if d.Nodes, err = st.ListNodes(ctx, store.ListNodesParams{ScopeID: sc.ID, WithColumns: true, Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	if d.Tests, err = st.ListTests(ctx, store.ListTestsParams{ScopeID: sc.ID, Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	for _, x := range d.Tests {
		if d.History[x.UniqueID], err = st.TestHistory(ctx, sc.ID, x.UniqueID, 1000); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range d.Nodes {
		if d.Built[n.UniqueID], err = st.RunsForNode(ctx, sc.ID, n.UniqueID, 1000); err != nil {
			t.Fatal(err)
		}
	}
	if d.Edges, err = st.Edges(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	if d.Jobs, err = st.ListCatalogJobs(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	if d.Runs, err = st.ListCatalogRuns(ctx, store.ListCatalogRunsParams{ScopeID: sc.ID, Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	// Rows come back in id order, which is the order a sync wrote them.
	slices.SortFunc(d.Nodes, func(x, y store.CatalogNode) int { return strings.Compare(x.UniqueID, y.UniqueID) })
	slices.SortFunc(d.Tests, func(x, y store.CatalogTest) int { return strings.Compare(x.UniqueID, y.UniqueID) })
	// Row ids and sync times say nothing about the content.
	d.Scope.ID, d.Scope.SyncedAt = 0, time.Time{}
	for i := range d.Nodes {
		d.Nodes[i].ID, d.Nodes[i].ScopeID = 0, 0
	}
	for i := range d.Tests {
		d.Tests[i].ID, d.Tests[i].ScopeID = 0, 0
	}
	for i := range d.Edges {
		d.Edges[i].ScopeID = 0
	}
	return d
}

// TestDiscoveryGivesTheArtifactCatalog is issue 12's proof: the same
// emulator runs synced once from their artifacts and once through the
// Discovery API give the same stored catalog, but for what the Discovery
// API cannot carry (FetchDiscovery's doc lists it; none of it is in the
// emulator's project but the manifest's generated_at) and the fingerprint,
// which names the source.
func TestDiscoveryGivesTheArtifactCatalog(t *testing.T) {
	srv, admin, _ := newEmulator(t)
	// A build, a docs build (catalog.json and sources.json), then a build
	// whose test step fails: every kind of input, and one test with two
	// results of its own runs.
	runJob(t, srv, admin, emulator.DemoDailyJobID)
	runJob(t, srv, admin, emulator.DemoDocsJobID)
	if r := runJob(t, srv, admin, emulator.DemoFailingJobID); r.Status != dbtcloud.RunStatusError {
		t.Fatalf("failing build ended %v", r.Status)
	}

	rec := &recorder{base: srv.Client().Transport}
	if rec.base == nil {
		rec.base = http.DefaultTransport
	}
	reader, err := dbtcloud.NewClient(srv.URL, emulator.DemoAnalystToken, dbtcloud.WithHTTPClient(&http.Client{Transport: rec}),
		dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	disco, err := reader.Discovery()
	if err != nil {
		t.Fatal(err)
	}
	if want := srv.URL + "/graphql"; disco.Endpoint() != want {
		t.Fatalf("Discovery endpoint = %s, want %s", disco.Endpoint(), want)
	}

	open := func(name string) *store.Store {
		return storetest.Open(t, storetest.Backend{Name: "sqlite", DSN: filepath.Join(t.TempDir(), name)})
	}
	fromArtifacts, fromDiscovery := open("artifacts.db"), open("discovery.db")
	plan := catalog.SyncOptions{Plan: catalog.PlanOptions{Environments: catalog.Filter{Allow: []string{"Production"}}, Projects: catalog.Filter{Allow: []string{"analytics"}}}}

	if _, err := (&catalog.Service{Store: fromArtifacts}).SyncCloud(t.Context(), catalog.CloudSource{Name: "emu", AccountID: accountID, Client: admin}, plan, nil); err != nil {
		t.Fatalf("sync from artifacts: %v", err)
	}
	res, err := (&catalog.Service{Store: fromDiscovery}).SyncCloud(t.Context(), catalog.CloudSource{Name: "emu", AccountID: accountID, Client: reader, Discovery: disco}, plan, nil)
	if err != nil {
		t.Fatalf("sync from Discovery: %v", err)
	}
	if len(res) != 1 || res[0].Status != store.SyncOK {
		t.Fatalf("Discovery sync results = %+v", res)
	}
	if n := rec.seen("/artifacts/"); n != 0 {
		t.Errorf("the Discovery sync downloaded %d artifacts", n)
	}
	if rec.seen("/graphql") == 0 {
		t.Fatal("the Discovery sync sent no GraphQL query")
	}

	key := res[0].ScopeKey
	a, d := readBack(t, fromArtifacts, key), readBack(t, fromDiscovery, key)
	if len(a.Nodes) < 40 || len(a.Tests) < 25 || len(a.Edges) < 20 {
		t.Fatalf("the artifact catalog is too small to compare: %d nodes, %d tests, %d edges", len(a.Nodes), len(a.Tests), len(a.Edges))
	}
	// Every kind of input is in what is compared: catalog types, freshness,
	// a failed test, runs of several jobs.
	var typed, fresh, failed bool
	for _, n := range a.Nodes {
		typed = typed || len(n.Columns) > 0 && n.Columns[0].DataType != ""
		fresh = fresh || n.FreshnessStatus != ""
	}
	for _, x := range a.Tests {
		failed = failed || x.Status == "fail"
	}
	if !typed || !fresh || !failed || len(a.Runs) < 3 {
		t.Fatalf("the runs did not produce every kind of input: column types %v, freshness %v, a failed test %v, %d runs", typed, fresh, failed, len(a.Runs))
	}
	// The fingerprint names the source; the manifest's generated_at is not
	// in the Discovery API (the environment's lastUpdatedAt stands in).
	if !strings.HasPrefix(d.Scope.Fingerprint, catalog.SourceDiscovery+":") || strings.TrimPrefix(d.Scope.Fingerprint, catalog.SourceDiscovery+":") != a.Scope.Fingerprint {
		t.Errorf("fingerprints: artifacts %q, Discovery %q", a.Scope.Fingerprint, d.Scope.Fingerprint)
	}
	if d.Scope.ManifestGeneratedAt.IsZero() {
		t.Error("the Discovery sync left the manifest time empty")
	}
	a.Scope.Fingerprint, d.Scope.Fingerprint = "", ""
	a.Scope.ManifestGeneratedAt, d.Scope.ManifestGeneratedAt = time.Time{}, time.Time{}
	if diff := cmp.Diff(a, d); diff != "" {
		t.Errorf("stored catalogs differ (-artifacts +discovery):\n%s", diff)
	}
}

// clientsOf serves one connection's client, as the server's tracker does.
type clientsOf struct{ c *dbtcloud.Client }

func (c clientsOf) ListConnections(context.Context) ([]store.Connection, error) {
	return []store.Connection{{Name: "emu", AccountID: accountID}}, nil
}

func (c clientsOf) CloudClient(_ context.Context, name string) (*dbtcloud.Client, store.Connection, error) {
	return c.c, store.Connection{Name: name, AccountID: accountID}, nil
}

// The server's syncs (API.Source, from dbtlink serve --catalog-source) read
// through the Discovery API; a token the Discovery API refuses fails the
// scope with dbt's code and leaves its stored catalog as it was.
func TestServerSyncFromDiscovery(t *testing.T) {
	srv, admin, analyst := newEmulator(t)
	runJob(t, srv, admin, emulator.DemoDocsJobID)
	st := storetest.Open(t, storetest.Backend{Name: "sqlite", DSN: filepath.Join(t.TempDir(), "server.db")})
	opts := catalog.SyncOptions{Plan: catalog.PlanOptions{Projects: catalog.Filter{Allow: []string{"analytics"}}, Environments: catalog.Filter{Allow: []string{"Production"}}}}

	api := catalog.NewAPI(&catalog.Service{Store: st}, nil, clientsOf{analyst})
	api.Source = catalog.SourceDiscovery
	res, err := api.SyncConnections(t.Context(), "", opts)
	if err != nil || len(res) != 1 || res[0].Status != store.SyncOK {
		t.Fatalf("sync: %+v %v", res, err)
	}
	sc, err := st.GetScope(t.Context(), res[0].ScopeKey)
	if err != nil || !strings.HasPrefix(sc.Fingerprint, catalog.SourceDiscovery+":") {
		t.Fatalf("scope %+v %v", sc, err)
	}
	before := readBack(t, st, sc.Key)

	// Job Runner lists jobs and runs but may not read the Discovery API:
	// a second run makes the inputs new, and the read is refused.
	runner, err := dbtcloud.NewClient(srv.URL, emulator.DemoJobRunnerToken, dbtcloud.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	runJob(t, srv, admin, emulator.DemoDailyJobID)
	disco, err := runner.Discovery()
	if err != nil {
		t.Fatal(err)
	}
	// The plan needs a token that lists projects, so the Analyst plans and
	// the Job Runner's token reads.
	res, err = (&catalog.Service{Store: st}).SyncCloud(t.Context(), catalog.CloudSource{Name: "emu", AccountID: accountID, Client: analyst, Discovery: disco}, opts, nil)
	if err == nil || len(res) != 1 || res[0].Status != store.SyncError || !strings.Contains(res[0].Error, "FORBIDDEN") {
		t.Fatalf("refused sync: %+v %v", res, err)
	}
	if diff := cmp.Diff(before, readBack(t, st, sc.Key)); diff != "" {
		t.Errorf("a failed sync changed the catalog:\n%s", diff)
	}
	// A bad source is bad input.
	api.Source = "graphql"
	if _, err := api.SyncConnections(t.Context(), "emu", opts); err == nil {
		t.Fatal("an unknown source was accepted")
	}
}
