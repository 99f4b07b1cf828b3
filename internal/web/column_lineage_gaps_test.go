//go:build cgo

package web

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/internal/catalog"
)

// TestColumnLineagePageGaps breaks one model's compiled SQL (stg_customers
// reads * from a relation nobody knows the columns of) and checks that the
// page of a column downstream of it shows the catalog's reasons.
func TestColumnLineagePageGaps(t *testing.T) {
	const model = "model.jaffle_shop.stg_customers"
	ts, svc, token := columnLineageUI(t, func(t *testing.T, manifest []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(manifest, &m); err != nil {
			t.Fatal(err)
		}
		n, ok := m["nodes"].(map[string]any)[model].(map[string]any)
		if !ok {
			t.Fatalf("the manifest has no %s", model)
		}
		n["compiled_code"] = "select * from nowhere.unknown_relation"
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	})
	tbl, err := svc.ResolveTable(t.Context(), "main.customers")
	if err != nil {
		t.Fatal(err)
	}
	want, err := svc.ColumnLineage(t.Context(), fmt.Sprint(tbl.ID), "customer_name", catalog.Both, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Gaps) == 0 {
		t.Fatalf("the catalog reports no gap for %s: %+v", model, want)
	}
	t.Logf("gaps: %+v", want.Gaps)
	b := &bench{ts: ts}
	c := b.client(t)
	b.logIn(t, c, token)
	resp, body := httpGet(t, c, fmt.Sprintf("%s/tables/%d/columns/customer_name/lineage", ts.URL, tbl.ID))
	if resp.StatusCode != 200 || !strings.Contains(body, "Incomplete lineage") {
		t.Fatalf("status %d, no gaps section:\n%s", resp.StatusCode, body)
	}
	text := html.UnescapeString(body)
	for _, g := range want.Gaps {
		if !strings.Contains(text, "<code>"+g.UniqueID+"</code>") || !strings.Contains(text, g.Reason) {
			t.Errorf("page lacks the gap %+v", g)
		}
	}
}
