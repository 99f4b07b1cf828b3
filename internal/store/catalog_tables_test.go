package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/dbtlink/dbtlink/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
)

func key(schema, name string) store.TableKey {
	return store.TableKey{Warehouse: "wh", Database: "analytics", Schema: schema, Name: name}
}

func col(name string, pos int, typ string) store.CatalogColumn {
	return store.CatalogColumn{Name: name, Position: pos, DataType: typ, Nullable: true}
}

func table(schema, name string, cols ...store.CatalogColumn) store.CatalogTable {
	return store.CatalogTable{TableKey: key(schema, name), Kind: "table", Columns: cols}
}

func crawl(t *testing.T, s *store.Store, at time.Time, tables ...store.CatalogTable) store.Crawl {
	t.Helper()
	c, err := s.ApplyCrawl(t.Context(), store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: at, Tables: tables})
	must(t, err)
	return c
}

// tableByName finds a stored table of warehouse wh by schema and name.
func tableByName(t *testing.T, s *store.Store, schema, name string) store.CatalogTable {
	t.Helper()
	found, err := s.FindCatalogTables(t.Context(), "wh:analytics."+schema+"."+name)
	must(t, err)
	if len(found) != 1 {
		t.Fatalf("FindCatalogTables(%s.%s) = %d tables", schema, name, len(found))
	}
	tbl, err := s.GetCatalogTable(t.Context(), found[0].ID)
	must(t, err)
	return tbl
}

func counts(c store.Crawl) [4]int { return [4]int{c.TablesSeen, c.Added, c.Changed, c.Removed} }

func TestApplyCrawl(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		t1 := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
		rows := int64(1000)
		orders := table("sales", "orders", col("id", 1, "bigint"), col("amount", 2, "numeric"), col("note", 3, "text"))
		orders.Comment, orders.Owner, orders.RowEstimate = "All orders", "etl", &rows
		c := crawl(t, s, t1, orders, table("sales", "customers", col("id", 1, "bigint")), table("sales", "same"))
		if counts(c) != [4]int{3, 3, 0, 0} || c.Status != store.CrawlOK || c.ID == 0 || !c.StartedAt.Equal(t1) || !c.FinishedAt.Equal(stored(clk.Now())) {
			t.Errorf("first crawl = %+v", c)
		}
		got := tableByName(t, s, "sales", "orders")
		want := orders
		want.ID = got.ID
		want.FirstSeenAt, want.LastSeenAt, want.UpdatedAt = t1, t1, stored(clk.Now())
		want.Columns = nil
		for _, c := range orders.Columns {
			c.LastSeenAt = t1
			want.Columns = append(want.Columns, c)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("orders after the first crawl (-want +got):\n%s", diff)
		}
		ordersID := got.ID
		must(t, s.SetTableDescription(ctx, ordersID, "Orders as the shop records them"))
		must(t, s.SetColumnDescription(ctx, ordersID, "amount", "In cents"))

		// Second crawl: orders' comment changes, a column changes type, one
		// goes, one comes; customers is gone; same is the same.
		clk.Advance(time.Hour)
		t2 := t1.Add(24 * time.Hour)
		orders2 := table("sales", "orders", col("id", 1, "bigint"), col("amount", 2, "bigint"), col("paid_at", 3, "timestamp"))
		orders2.Comment, orders2.Owner, orders2.RowEstimate = "Every order", "etl", &rows
		c = crawl(t, s, t2, orders2, table("sales", "same"))
		if counts(c) != [4]int{2, 0, 1, 1} {
			t.Errorf("second crawl seen, added, changed, removed = %v, want [2 0 1 1]", counts(c))
		}
		got = tableByName(t, s, "sales", "orders")
		if got.ID != ordersID || got.Comment != "Every order" || got.UserDescription != "Orders as the shop records them" ||
			!got.FirstSeenAt.Equal(t1) || !got.LastSeenAt.Equal(t2) || !got.RemovedAt.IsZero() {
			t.Errorf("orders after the second crawl: %+v", got)
		}
		type colState struct {
			Name, Type, UserDescription string
			LastSeen, Removed           time.Time
		}
		var cols []colState
		for _, c := range got.Columns {
			cols = append(cols, colState{c.Name, c.DataType, c.UserDescription, c.LastSeenAt, c.RemovedAt})
		}
		wantCols := []colState{
			{"id", "bigint", "", t2, time.Time{}},
			{"amount", "bigint", "In cents", t2, time.Time{}},
			{"paid_at", "timestamp", "", t2, time.Time{}},
			{"note", "text", "", t1, t2}, // removed ones last
		}
		if diff := cmp.Diff(wantCols, cols); diff != "" {
			t.Errorf("orders' columns after the second crawl (-want +got):\n%s", diff)
		}
		customers := tableByName(t, s, "sales", "customers")
		if !customers.RemovedAt.Equal(t2) || !customers.LastSeenAt.Equal(t1) || len(customers.Columns) != 1 {
			t.Errorf("customers after a crawl without it: %+v", customers)
		}
		same := tableByName(t, s, "sales", "same")
		if !same.LastSeenAt.Equal(t2) || !same.UpdatedAt.Equal(stored(clk.Now().Add(-time.Hour))) {
			t.Errorf("an unchanged table: LastSeenAt %v UpdatedAt %v, want %v and the first crawl's", same.LastSeenAt, same.UpdatedAt, t2)
		}

		// Third crawl: customers is back, note is back, an unchanged crawl of
		// the rest counts nothing as changed.
		t3 := t2.Add(24 * time.Hour)
		orders3 := orders2
		orders3.Columns = append(orders3.Columns, col("note", 4, "text"))
		c = crawl(t, s, t3, orders3, table("sales", "same"), table("sales", "customers", col("id", 1, "bigint")))
		if counts(c) != [4]int{3, 1, 1, 0} {
			t.Errorf("third crawl = %v, want [3 1 1 0]", counts(c))
		}
		customers = tableByName(t, s, "sales", "customers")
		if !customers.RemovedAt.IsZero() || !customers.LastSeenAt.Equal(t3) || !customers.FirstSeenAt.Equal(t1) {
			t.Errorf("customers back: %+v", customers)
		}
		got = tableByName(t, s, "sales", "orders")
		if n := got.Columns[3]; n.Name != "note" || !n.RemovedAt.IsZero() || !n.LastSeenAt.Equal(t3) || n.Position != 4 {
			t.Errorf("note back: %+v", n)
		}
		c = crawl(t, s, t3.Add(time.Hour), orders3, table("sales", "same"), table("sales", "customers", col("id", 1, "bigint")))
		if counts(c) != [4]int{3, 0, 0, 0} {
			t.Errorf("unchanged crawl = %v, want [3 0 0 0]", counts(c))
		}

		crawls, err := s.ListCrawls(ctx, "wh", 2)
		must(t, err)
		if len(crawls) != 2 || crawls[0].ID != c.ID || crawls[1].ID >= c.ID {
			t.Errorf("ListCrawls(wh, 2) = %+v", crawls)
		}
		latest, err := s.LatestCrawl(ctx, "wh")
		must(t, err)
		if diff := cmp.Diff(c, latest); diff != "" {
			t.Errorf("LatestCrawl (-ApplyCrawl's +got):\n%s", diff)
		}
		_, err = s.LatestCrawl(ctx, "other")
		wantErr(t, err, store.ErrNotFound)
	})
}

func TestApplyCrawlScope(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		t1 := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
		crawl(t, s, t1, table("a", "x"), table("b", "y"))
		_, err := s.ApplyCrawl(ctx, store.ApplyCrawlParams{Warehouse: "other", CrawledAt: t1, Tables: []store.CatalogTable{
			{TableKey: store.TableKey{Database: "d", Schema: "a", Name: "z"}, Kind: "view"},
		}})
		must(t, err)
		// A crawl of schema a only: y of schema b is out of scope, and the
		// other warehouse's tables are never in scope.
		c, err := s.ApplyCrawl(ctx, store.ApplyCrawlParams{
			Warehouse: "wh", CrawledAt: t1.Add(time.Hour),
			InScope: func(k store.TableKey) bool { return k.Schema == "a" },
		})
		must(t, err)
		if counts(c) != [4]int{0, 0, 0, 1} {
			t.Errorf("crawl of schema a = %v, want [0 0 0 1]", counts(c))
		}
		refs, err := s.CatalogTableKeys(ctx, "wh", "other")
		must(t, err)
		removed := map[string]bool{}
		for _, r := range refs {
			removed[r.Warehouse+":"+r.Name] = r.Removed
		}
		if diff := cmp.Diff(map[string]bool{"wh:x": true, "wh:y": false, "other:z": false}, removed); diff != "" {
			t.Errorf("removed flags (-want +got):\n%s", diff)
		}
		all, err := s.CatalogTableKeys(ctx)
		must(t, err)
		only, err := s.CatalogTableKeys(ctx, "other")
		must(t, err)
		if len(all) != 3 || len(only) != 1 || only[0].Name != "z" || only[0].ID == 0 {
			t.Errorf("CatalogTableKeys() = %v, (other) = %v", all, only)
		}
	})
}

func TestApplyCrawlStartedAndFailed(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		started, err := s.StartCrawl(ctx, "wh")
		must(t, err)
		if started.Status != store.CrawlRunning || !started.StartedAt.Equal(stored(clk.Now())) || !started.FinishedAt.IsZero() {
			t.Errorf("StartCrawl = %+v", started)
		}
		clk.Advance(time.Minute)
		done, err := s.ApplyCrawl(ctx, store.ApplyCrawlParams{Warehouse: "wh", CrawlID: started.ID, CrawledAt: clk.Now(),
			Tables: []store.CatalogTable{table("a", "x")}})
		must(t, err)
		if done.ID != started.ID || done.Status != store.CrawlOK || !done.StartedAt.Equal(started.StartedAt) || done.Added != 1 {
			t.Errorf("ApplyCrawl of a started crawl = %+v", done)
		}
		// A crawl already finished, or of another warehouse, is not
		// finished again, and nothing is written.
		_, err = s.ApplyCrawl(ctx, store.ApplyCrawlParams{Warehouse: "wh", CrawlID: started.ID, CrawledAt: clk.Now(),
			Tables: []store.CatalogTable{table("a", "new")}})
		wantErr(t, err, store.ErrNotFound)
		if _, err := s.FindCatalogTables(ctx, "new"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a refused crawl wrote its tables: %v", err)
		}

		second, err := s.StartCrawl(ctx, "wh")
		must(t, err)
		failed, err := s.FailCrawl(ctx, second.ID, "connection refused")
		must(t, err)
		if failed.Status != store.CrawlError || failed.Error != "connection refused" || failed.FinishedAt.IsZero() {
			t.Errorf("FailCrawl = %+v", failed)
		}
		_, err = s.FailCrawl(ctx, second.ID, "again")
		wantErr(t, err, store.ErrNotFound)
		latest, err := s.LatestCrawl(ctx, "wh")
		must(t, err)
		if latest.ID != second.ID || latest.Status != store.CrawlError {
			t.Errorf("LatestCrawl = %+v, want the failed one", latest)
		}
	})
}

func TestApplyCrawlRefusesBadInput(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
		other := table("a", "x")
		other.Warehouse = "other"
		noKind := table("a", "x")
		noKind.Kind = ""
		for _, tc := range []struct {
			name string
			p    store.ApplyCrawlParams
			want string
		}{
			{"no warehouse", store.ApplyCrawlParams{CrawledAt: at}, "no warehouse"},
			{"no time", store.ApplyCrawlParams{Warehouse: "wh"}, "CrawledAt"},
			{"twice", store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: at, Tables: []store.CatalogTable{table("a", "x"), table("a", "x")}}, "twice"},
			{"column twice", store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: at, Tables: []store.CatalogTable{table("a", "x", col("c", 1, ""), col("c", 2, ""))}}, `column "c"`},
			{"other warehouse", store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: at, Tables: []store.CatalogTable{other}}, `"other"`},
			{"no kind", store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: at, Tables: []store.CatalogTable{noKind}}, "no kind"},
			{"no name", store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: at, Tables: []store.CatalogTable{table("a", "")}}, "no schema or name"},
		} {
			_, err := s.ApplyCrawl(t.Context(), tc.p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err = %v, want one mentioning %s", tc.name, err, tc.want)
			}
		}
		if refs, _ := s.CatalogTableKeys(t.Context()); len(refs) != 0 {
			t.Errorf("refused crawls wrote %v", refs)
		}
	})
}

// catalogState is everything a crawl may write, for before/after checks.
func catalogState(t *testing.T, s *store.Store) string {
	t.Helper()
	var b strings.Builder
	refs, err := s.CatalogTableKeys(t.Context())
	must(t, err)
	for _, r := range refs {
		tbl, err := s.GetCatalogTable(t.Context(), r.ID)
		must(t, err)
		fmt.Fprintf(&b, "%+v\n", tbl)
	}
	crawls, err := s.ListCrawls(t.Context(), "wh", 100)
	must(t, err)
	fmt.Fprintf(&b, "%+v\n", crawls)
	return b.String()
}

func TestApplyCrawlFailureLeavesCatalogAsItWas(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		t1 := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
		crawl(t, s, t1, table("a", "x", col("c", 1, "int")), table("a", "y"), table("a", "z"))
		before := catalogState(t, s)
		next := []store.CatalogTable{
			table("a", "x", col("c", 1, "bigint"), col("d", 2, "int")), // changed
			table("a", "new", col("boom", 1, "int")),                   // added
			// y is kept, z removed
			table("a", "y"),
		}

		// The context is cancelled after the tables were written, while
		// ApplyCrawl decides what was removed.
		cctx, cancel := context.WithCancel(ctx)
		_, err := s.ApplyCrawl(cctx, store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: t1.Add(time.Hour), Tables: next,
			InScope: func(store.TableKey) bool { cancel(); return true }})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ApplyCrawl with its context cancelled midway: err = %v", err)
		}
		if diff := cmp.Diff(before, catalogState(t, s)); diff != "" {
			t.Errorf("a cancelled crawl changed the catalog (-before +after):\n%s", diff)
		}

		// A statement fails midway: a trigger refuses the column boom, after
		// the tables and some columns were written.
		trigger := `CREATE TRIGGER boom BEFORE INSERT ON catalog_columns FOR EACH ROW WHEN (NEW.name = 'boom')
			BEGIN SELECT RAISE(ABORT, 'injected failure'); END`
		if s.Dialect() == store.Postgres {
			_, err := s.DB().ExecContext(ctx, `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS
				$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`)
			must(t, err)
			trigger = `CREATE TRIGGER boom BEFORE INSERT ON catalog_columns FOR EACH ROW WHEN (NEW.name = 'boom')
				EXECUTE FUNCTION boom()`
		}
		_, err = s.DB().ExecContext(ctx, trigger)
		must(t, err)
		_, err = s.ApplyCrawl(ctx, store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: t1.Add(time.Hour), Tables: next})
		if err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Errorf("ApplyCrawl with a failing insert: err = %v", err)
		}
		if diff := cmp.Diff(before, catalogState(t, s)); diff != "" {
			t.Errorf("a failed crawl changed the catalog (-before +after):\n%s", diff)
		}
		// The search index too.
		if hits, err := s.Search(ctx, store.SearchParams{Query: "new"}); err != nil || len(hits) != 0 {
			t.Errorf("after the failed crawl, search finds %v, %v", hits, err)
		}
	})
}

func TestFindCatalogTables(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
		crawl(t, s, at, table("sales", "Orders"), table("staging", "orders"), table("sales", "customers"))
		_, err := s.ApplyCrawl(ctx, store.ApplyCrawlParams{Warehouse: "lake", CrawledAt: at,
			Tables: []store.CatalogTable{{TableKey: store.TableKey{Database: "raw", Schema: "sales", Name: "orders"}, Kind: "external"}}})
		must(t, err)
		names := func(ref string) []string {
			t.Helper()
			found, err := s.FindCatalogTables(ctx, ref)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			must(t, err)
			var out []string
			for _, f := range found {
				out = append(out, f.Warehouse+":"+f.Database+"."+f.Schema+"."+f.Name)
			}
			return out
		}
		for _, tc := range []struct {
			ref  string
			want []string
		}{
			{"ORDERS", []string{"lake:raw.sales.orders", "wh:analytics.sales.Orders", "wh:analytics.staging.orders"}},
			{"sales.orders", []string{"lake:raw.sales.orders", "wh:analytics.sales.Orders"}},
			{"Analytics.Sales.Orders", []string{"wh:analytics.sales.Orders"}},
			{"LAKE:raw.sales.orders", []string{"lake:raw.sales.orders"}},
			{"wh:raw.sales.orders", nil},
			{"customers", []string{"wh:analytics.sales.customers"}},
			{"nope", nil},
		} {
			if diff := cmp.Diff(tc.want, names(tc.ref)); diff != "" {
				t.Errorf("FindCatalogTables(%q) (-want +got):\n%s", tc.ref, diff)
			}
		}
		for _, bad := range []string{"", "a.b.c.d", "sales.", "wh:"} {
			if _, err := s.FindCatalogTables(ctx, bad); err == nil || errors.Is(err, store.ErrNotFound) {
				t.Errorf("FindCatalogTables(%q): err = %v, want a usage error", bad, err)
			}
		}
	})
}

// dbtNode inserts a dbt node matched to table id with tags and an attached
// test of the given status, as the dbt sync would, and returns its id.
func dbtNode(t *testing.T, s *store.Store, tableID int64, name, owner, testStatus string, tags ...string) int64 {
	t.Helper()
	ctx := t.Context()
	var scope int64
	must(t, s.DB().QueryRowContext(ctx, `INSERT INTO catalog_scopes (key, kind, warehouse) VALUES ('upload:p', 'upload', 'wh')
		ON CONFLICT (key) DO UPDATE SET warehouse = excluded.warehouse RETURNING id`).Scan(&scope))
	table := "NULL"
	if tableID != 0 {
		table = fmt.Sprint(tableID)
	}
	var id int64
	must(t, s.DB().QueryRowContext(ctx, fmt.Sprintf(`INSERT INTO catalog_nodes
		(scope_id, unique_id, resource_type, name, table_id, description, owner, schema_name)
		VALUES (%d, 'model.p.%s', 'model', '%s', %s, 'The %s model', '%s', 'sales') RETURNING id`,
		scope, name, name, table, name, owner)).Scan(&id))
	for _, tag := range tags {
		_, err := s.DB().ExecContext(ctx, fmt.Sprintf(`INSERT INTO catalog_node_tags (node_id, tag) VALUES (%d, '%s')`, id, tag))
		must(t, err)
	}
	if testStatus != "" {
		_, err := s.DB().ExecContext(ctx, fmt.Sprintf(`INSERT INTO catalog_tests (scope_id, unique_id, name, attached_unique_id, status)
			VALUES (%d, 'test.p.t_%s', 't_%s', 'model.p.%s', '%s')`, scope, name, name, name, testStatus))
		must(t, err)
	}
	return id
}

func TestListCatalogTables(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
		view := table("sales", "order_view")
		view.Kind = "view"
		crawl(t, s, at, table("sales", "orders"), table("sales", "order_items"), view, table("staging", "stg_orders"),
			table("sales", "gone"), table("sales", "orderXitems"))
		crawl(t, s, at.Add(time.Hour), table("sales", "orders"), table("sales", "order_items"), view, table("staging", "stg_orders"),
			table("sales", "orderXitems"))
		ids := map[string]int64{}
		refs, err := s.CatalogTableKeys(ctx)
		must(t, err)
		for _, r := range refs {
			ids[r.Name] = r.ID
		}
		dbtNode(t, s, ids["orders"], "orders", "Finance", "fail", "pii", "daily")
		dbtNode(t, s, ids["order_items"], "order_items", "finance", "pass", "daily")
		dbtNode(t, s, ids["stg_orders"], "stg_orders", "data", "error")

		list := func(p store.ListTablesParams) []string {
			t.Helper()
			got, err := s.ListCatalogTables(ctx, p)
			must(t, err)
			out := []string{}
			for _, g := range got {
				out = append(out, g.Name)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			p    store.ListTablesParams
			want []string
		}{
			{"all present", store.ListTablesParams{}, []string{"orders", "order_items", "order_view", "stg_orders", "orderXitems"}},
			{"removed too", store.ListTablesParams{IncludeRemoved: true}, []string{"orders", "order_items", "order_view", "stg_orders", "gone", "orderXitems"}},
			{"schema", store.ListTablesParams{Warehouse: "WH", Database: "analytics", Schema: "Staging"}, []string{"stg_orders"}},
			{"kind", store.ListTablesParams{Kind: "view"}, []string{"order_view"}},
			// _ is not a wildcard.
			{"prefix", store.ListTablesParams{NamePrefix: "ORDER_"}, []string{"order_items", "order_view"}},
			{"ids", store.ListTablesParams{IDs: []int64{ids["orders"], ids["gone"]}}, []string{"orders"}},
			{"no ids", store.ListTablesParams{IDs: []int64{}}, []string{}},
			{"tag", store.ListTablesParams{Tag: "daily"}, []string{"orders", "order_items"}},
			{"owner", store.ListTablesParams{Owner: "FINANCE"}, []string{"orders", "order_items"}},
			{"failing tests", store.ListTablesParams{FailingTests: true}, []string{"orders", "stg_orders"}},
			{"failing and tagged", store.ListTablesParams{FailingTests: true, Tag: "pii"}, []string{"orders"}},
			{"other warehouse", store.ListTablesParams{Warehouse: "lake"}, []string{}},
		} {
			if diff := cmp.Diff(tc.want, list(tc.p)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
		}

		// Keyset paging visits every table once, in id order.
		var paged []string
		var after int64
		for {
			page, err := s.ListCatalogTables(ctx, store.ListTablesParams{AfterID: after, Limit: 2, IncludeRemoved: true})
			must(t, err)
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				paged = append(paged, p.Name)
			}
			after = page[len(page)-1].ID
		}
		if diff := cmp.Diff([]string{"orders", "order_items", "order_view", "stg_orders", "gone", "orderXitems"}, paged); diff != "" {
			t.Errorf("paged (-want +got):\n%s", diff)
		}
	})
}

func TestDescriptionsSurviveCrawls(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
		orders := table("sales", "orders", col("id", 1, "int"))
		orders.Comment = "v1"
		orders.Columns[0].Comment = "v1"
		crawl(t, s, at, orders)
		id := tableByName(t, s, "sales", "orders").ID
		must(t, s.SetTableDescription(ctx, id, "Mine"))
		must(t, s.SetColumnDescription(ctx, id, "id", "Mine too"))
		wantErr(t, s.SetTableDescription(ctx, id+100, "x"), store.ErrNotFound)
		wantErr(t, s.SetColumnDescription(ctx, id, "nope", "x"), store.ErrNotFound)
		wantErr(t, s.SetColumnDescription(ctx, id+100, "id", "x"), store.ErrNotFound)

		orders.Comment = "v2"
		orders.Columns[0].Comment = "v2"
		crawl(t, s, at.Add(time.Hour), orders)
		// Removed and back: still kept.
		crawl(t, s, at.Add(2*time.Hour))
		crawl(t, s, at.Add(3*time.Hour), orders)
		got := tableByName(t, s, "sales", "orders")
		if got.Comment != "v2" || got.UserDescription != "Mine" || got.Columns[0].Comment != "v2" || got.Columns[0].UserDescription != "Mine too" {
			t.Errorf("after re-crawls: %+v", got)
		}
		_, err := s.GetCatalogTable(ctx, id+100)
		wantErr(t, err, store.ErrNotFound)
	})
}

// benchTables is a warehouse of n tables of cols columns each; round
// changes every row estimate, as a busy warehouse would between crawls.
func benchTables(n, cols int, round int64) []store.CatalogTable {
	tables := make([]store.CatalogTable, n)
	for i := range tables {
		rows := int64(i)*10 + round
		t := store.CatalogTable{
			TableKey:    store.TableKey{Database: "analytics", Schema: fmt.Sprintf("schema_%02d", i%20), Name: fmt.Sprintf("table_%05d", i)},
			Kind:        "table",
			Comment:     fmt.Sprintf("Table number %d of the benchmark", i),
			Owner:       "etl",
			RowEstimate: &rows,
			Columns:     make([]store.CatalogColumn, cols),
		}
		for j := range t.Columns {
			t.Columns[j] = store.CatalogColumn{Name: fmt.Sprintf("column_%02d", j), Position: j + 1, DataType: "bigint",
				Nullable: j%2 == 0, Comment: fmt.Sprintf("Column %d", j)}
		}
		tables[i] = t
	}
	return tables
}

// BenchmarkApplyCrawl applies a crawl of 20,000 tables of 20 columns: the
// first one (everything inserted) and later ones (every table's row
// estimate changed, columns unchanged). Run it with -benchtime=3x.
func BenchmarkApplyCrawl(b *testing.B) {
	tables, cols := benchSize(20_000), 20
	for _, backend := range storetest.Backends(b) {
		b.Run(backend.Name+"/first", func(b *testing.B) {
			crawlAt := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
			data := benchTables(tables, cols, 0)
			i := slices.IndexFunc(storetest.Backends(b), func(x storetest.Backend) bool { return x.Name == backend.Name })
			for b.Loop() {
				b.StopTimer()
				s := storetest.Open(b, storetest.Backends(b)[i])
				b.StartTimer()
				c, err := s.ApplyCrawl(b.Context(), store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: crawlAt, Tables: data})
				if err != nil || c.Added != tables {
					b.Fatalf("ApplyCrawl = %+v, %v", c, err)
				}
			}
		})
		b.Run(backend.Name+"/again", func(b *testing.B) {
			s := storetest.Open(b, backend)
			crawlAt := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
			if _, err := s.ApplyCrawl(b.Context(), store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: crawlAt, Tables: benchTables(tables, cols, 0)}); err != nil {
				b.Fatal(err)
			}
			round := int64(0)
			for b.Loop() {
				b.StopTimer()
				round++
				data := benchTables(tables, cols, round)
				b.StartTimer()
				c, err := s.ApplyCrawl(b.Context(), store.ApplyCrawlParams{Warehouse: "wh", CrawledAt: crawlAt.Add(time.Duration(round) * time.Hour), Tables: data})
				if err != nil || c.Changed != tables {
					b.Fatalf("ApplyCrawl = %+v, %v", c, err)
				}
			}
		})
	}
}

// benchSize is n, or the count in DBTLINK_BENCH_TABLES, to try smaller
// catalogs.
func benchSize(n int) int {
	if v, err := strconv.Atoi(os.Getenv("DBTLINK_BENCH_TABLES")); err == nil && v > 0 {
		return v
	}
	return n
}

// TestCrawlNewTableDocs checks that the search documents a first crawl
// composes from what it read are those RefreshTableSearch reads back from
// the catalog.
func TestCrawlNewTableDocs(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		orders := table("sales", "orders",
			store.CatalogColumn{Name: "status", Position: 2, Comment: "Order status"},
			store.CatalogColumn{Name: "id", Position: 1},
			store.CatalogColumn{Name: "amount", Position: 2, Comment: "  In cents "})
		orders.Comment, orders.Owner = " Revenue by order ", "finance"
		crawl(t, s, time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), orders, table("misc", "empty"))
		queries := []string{"orders", "revenue", "status", "cents", "amount", "finance", "empty", "id"}
		search := func() []string {
			var out []string
			for _, q := range queries {
				hits, err := s.Search(t.Context(), store.SearchParams{Query: q})
				must(t, err)
				for _, h := range hits {
					out = append(out, fmt.Sprintf("%s: %s %s %q", q, h, h.Field, h.Snippet))
				}
			}
			return out
		}
		first := search()
		if len(first) != len(queries) {
			t.Fatalf("after the crawl, each query should find one table: %q", first)
		}
		keys, err := s.CatalogTableKeys(t.Context(), "wh")
		must(t, err)
		var ids []int64
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		must(t, s.RefreshTableSearch(t.Context(), ids))
		if diff := cmp.Diff(first, search()); diff != "" {
			t.Errorf("documents after a refresh (-crawl +refresh):\n%s", diff)
		}
	})
}
