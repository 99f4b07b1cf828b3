package dbtcloud_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
)

// The Discovery client against the emulator: typed queries and paging over
// the runs it executed, permission errors, and retries of a 503.
func TestDiscoveryClientAgainstEmulator(t *testing.T) {
	clock := emulator.NewFakeClock(time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC))
	srv, err := emulator.New(emulator.Options{Clock: clock, RateLimitPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	client := func(token string) *dbtcloud.DiscoveryClient {
		c, err := dbtcloud.NewClient(srv.URL, token, dbtcloud.WithHTTPClient(srv.Client()),
			dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Discovery()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	admin, err := dbtcloud.NewClient(srv.URL, srv.Token, dbtcloud.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	run, _, err := admin.Runs.Trigger(t.Context(), srv.AccountID, emulator.DemoDocsJobID, &dbtcloud.TriggerRunRequest{Cause: "discovery"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(2 * time.Hour)

	ctx := t.Context()
	d := client(emulator.DemoMetadataOnlyToken)
	env, err := d.Environment(ctx, emulator.DemoProductionEnvID)
	if err != nil || env.DbtProjectName != "jaffle_shop" || env.AdapterType != "duckdb" || env.Applied.LastUpdatedAt == nil {
		t.Fatalf("environment: %+v %v", env, err)
	}
	models, err := d.ListAll(ctx, emulator.DemoProductionEnvID, dbtcloud.AppliedModels, nil, dbtcloud.PageOptions{First: 4})
	if err != nil || len(models) != 13 {
		t.Fatalf("%d models, %v", len(models), err)
	}
	var orders *dbtcloud.AppliedNode
	for i := range models {
		if models[i].UniqueID == "model.jaffle_shop.orders" {
			orders = &models[i]
		}
	}
	if orders == nil || orders.ExecutionInfo == nil || orders.ExecutionInfo.LastRunID != run.ID || orders.Catalog == nil ||
		len(orders.Catalog.Columns) == 0 || len(orders.ParentIDs) != 2 {
		t.Fatalf("orders: %+v", orders)
	}
	sources, err := d.ListAll(ctx, emulator.DemoProductionEnvID, dbtcloud.AppliedSources, &dbtcloud.AppliedFilter{UniqueIDs: []string{"source.jaffle_shop.ecom.raw_orders"}}, dbtcloud.PageOptions{})
	if err != nil || len(sources) != 1 || sources[0].Freshness == nil || sources[0].Freshness.FreshnessStatus != "pass" {
		t.Fatalf("sources: %+v %v", sources, err)
	}
	jr, err := d.JobRun(ctx, emulator.DemoDocsJobID, 0)
	if err != nil || jr.RunID != run.ID || len(jr.Models) != 13 || len(jr.Tests) == 0 || jr.Models[0].Status == "" {
		t.Fatalf("job run: %+v %v", jr, err)
	}
	lin, err := d.Lineage(ctx, emulator.DemoProductionEnvID, dbtcloud.LineageFilter{Types: []string{"Model", "Source"}})
	if err != nil || len(lin) != 19 {
		t.Fatalf("lineage: %d nodes, %v", len(lin), err)
	}
	hist, err := d.ModelHistoricalRuns(ctx, emulator.DemoProductionEnvID, "model.jaffle_shop.orders", 3)
	if err != nil || len(hist) != 1 || hist[0].RunID != run.ID || hist[0].Status != "success" {
		t.Fatalf("history: %+v %v", hist, err)
	}

	// A token whose permission sets do not reach the Discovery API.
	_, err = client(emulator.DemoJobRunnerToken).Environment(ctx, emulator.DemoProductionEnvID)
	var ge *dbtcloud.GraphQLError
	if !errors.Is(err, dbtcloud.ErrForbidden) || !errors.As(err, &ge) || ge.Code() != "FORBIDDEN" {
		t.Fatalf("Job Runner: %v", err)
	}
	// An environment of another account is not found.
	if _, err := client(emulator.OtherToken).Environment(ctx, emulator.DemoProductionEnvID); !errors.As(err, &ge) || ge.Code() != "NOT_FOUND" {
		t.Fatalf("another account: %v", err)
	}
	// Two 503s, then the answer.
	if _, err := srv.InjectFault(emulator.Fault{Method: http.MethodPost, Path: "/graphql", Kind: emulator.FaultStatus, Status: 503, Times: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Environment(ctx, emulator.DemoProductionEnvID); err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
}
