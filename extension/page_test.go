package extension

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPageSubject runs src/page.js under node (when installed) on URLs and
// minimal documents, to pin what each dbt Cloud page's subject is. The
// browser test covers the same code on the emulator's pages; this one
// covers the URL shapes those pages do not have.
func TestPageSubject(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("DBTLINK_REQUIRE_BROWSER") == "1" {
			t.Fatal("node is not installed and DBTLINK_REQUIRE_BROWSER=1: install it (apt-get install -y nodejs)")
		}
		t.Skip("node is not installed (apt-get install -y nodejs); the browser test still runs page.js")
	}
	src, err := Files.ReadFile("src/page.js")
	if err != nil {
		t.Fatal(err)
	}
	type doc struct {
		Title, GraphNode, Tab string
	}
	tests := []struct {
		name string
		path string
		hash string
		doc  doc
		want string // JSON of the subject's main fields, or "null"
	}{
		{"job", "/deploy/1/projects/101/jobs/302", "", doc{Title: "failing build"}, `{"kind":"job","account":"1","project":"101","job":"302","title":"failing build"}`},
		{"job with a trailing slash", "/deploy/1/projects/101/jobs/302/", "", doc{}, `{"kind":"job","account":"1","project":"101","job":"302","title":""}`},
		{"run step tab", "/deploy/1/projects/101/runs/7/steps", "", doc{}, `{"kind":"run","account":"1","project":"101","run":"7","title":""}`},
		{"legacy hash link", "/", "#/accounts/1/projects/101/jobs/302/", doc{}, `{"kind":"job","account":"1","project":"101","job":"302","title":""}`},
		{"jobs list", "/deploy/1/projects/101/jobs", "", doc{}, `null`},
		{"environment", "/deploy/1/projects/101/environments/201", "", doc{}, `null`},
		{"explore model", "/explore/1/projects/101/environments/production/details/model.jaffle_shop.orders", "", doc{},
			`{"kind":"model","account":"1","project":"101","uniqueId":"model.jaffle_shop.orders","name":"orders","file":""}`},
		{"explore versioned model", "/explore/1/projects/101/environments/production/details/model.shop.dim_customers.v2", "", doc{},
			`{"kind":"model","account":"1","project":"101","uniqueId":"model.shop.dim_customers.v2","name":"dim_customers","file":""}`},
		{"explore source", "/explore/1/projects/101/environments/production/details/source.jaffle_shop.ecom.raw_orders", "", doc{},
			`{"kind":"model","account":"1","project":"101","uniqueId":"source.jaffle_shop.ecom.raw_orders","name":"raw_orders","file":""}`},
		{"explore lineage click wins over the URL", "/explore/1/projects/101/environments/production/details/model.jaffle_shop.orders", "",
			doc{GraphNode: "model.jaffle_shop.customers"},
			`{"kind":"model","account":"1","project":"101","uniqueId":"model.jaffle_shop.customers","name":"customers","file":""}`},
		{"ide without a file", "/develop/1/projects/101", "", doc{}, `null`},
		{"ide with a model", "/develop/1/projects/101", "", doc{Tab: "models/staging/stg_orders.sql"},
			`{"kind":"model","account":"1","project":"101","uniqueId":"","name":"stg_orders","file":"models/staging/stg_orders.sql"}`},
		{"studio with a python model", "/studio/1/projects/101", "", doc{Tab: "models/marts/scores.py"},
			`{"kind":"model","account":"1","project":"101","uniqueId":"","name":"scores","file":"models/marts/scores.py"}`},
		{"ide with a yml file", "/develop/1/projects/101", "", doc{Tab: "models/staging/_schema.yml"}, `null`},
		{"ide with a macro", "/develop/1/projects/101", "", doc{Tab: "macros/cents.sql"}, `null`},
		{"settings", "/settings/accounts/1", "", doc{}, `null`},
	}
	var script strings.Builder
	script.WriteString(string(src))
	script.WriteString("\nconst out = [];\n")
	for _, tt := range tests {
		d, _ := json.Marshal(tt.doc)
		loc, _ := json.Marshal(map[string]string{"pathname": tt.path, "hash": tt.hash})
		script.WriteString(`{ const d = ` + string(d) + `;
  const doc = { querySelector(sel) {
    const S = dbtlinkPage.SELECTORS;
    if (sel === S.pageTitle && d.Title) return { textContent: " " + d.Title + " " };
    if (sel === S.selectedGraphNode && d.GraphNode) return { getAttribute: () => d.GraphNode };
    if (sel === S.activeEditorTab && d.Tab) return { getAttribute: (a) => (a === "title" ? d.Tab : null), textContent: "" };
    return null; } };
  out.push(dbtlinkPage.subject(` + string(loc) + `, doc)); }
`)
	}
	script.WriteString("process.stdout.write(JSON.stringify(out));\n")
	cmd := exec.Command(node, "-")
	cmd.Stdin = strings.NewReader(script.String())
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got []json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("node printed %q: %v", b, err)
	}
	for i, tt := range tests {
		if string(got[i]) != tt.want {
			t.Errorf("%s: subject(%s%s) = %s, want %s", tt.name, tt.path, tt.hash, got[i], tt.want)
		}
	}
}
