package cli

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/artifacts"
	"github.com/dbtlink/dbtlink/lineage"
)

// LineageOptions are the inputs of `dbtlink lineage`.
type LineageOptions struct {
	IO *IOStreams

	Selector             string
	Manifest             string
	Upstream             bool
	Downstream           bool
	Depth                int
	Exclude              string
	ResourceTypes        []string
	ExcludeResourceTypes []string
	IndirectSelection    string
	Format               string
	PassThroughEphemeral bool
}

// NewCmdLineage builds `dbtlink lineage`. runF, when not nil, replaces
// lineageRun so tests can check flag parsing alone.
func NewCmdLineage(f *Factory, runF func(*LineageOptions) error) *cobra.Command {
	opts := &LineageOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "lineage SELECTOR... --manifest FILE",
		Short: "Show the nodes a dbt selector picks and the edges among them",
		Long: `Select nodes of a dbt project with dbt's node selection syntax, read from a
manifest.json (no dbt Cloud or dbt installation needed), and print them with
the dependency edges among them.

SELECTOR is what you would pass to 'dbt ls --select': a node name
("orders"), graph operators ("+orders", "stg_orders+", "2+customers+1",
"@stg_orders"), methods ("tag:nightly", "source:ecom.raw_orders+",
"path:models/staging", "resource_type:model", "config.materialized:view"),
intersections with commas ("tag:nightly,resource_type:model") and unions
with spaces (quote them, or give several SELECTOR arguments).

The result is what 'dbt ls --select SELECTOR' lists. As in dbt, the tests and
unit tests that sit on a selected node are added (--indirect-selection eager,
dbt's default): "orders" gives the model and its tests, "+orders" also the
tests of everything upstream. --indirect-selection cautious adds a test only
when all its parents are selected, buildable also when they are upstream of
the selection, empty adds none. --exclude gets the same treatment, so
excluding a model excludes its tests. Like 'dbt ls', lineage leaves out
analyses unless --resource-type asks for them ("analysis" or "all"), and
never lists hooks.

With --upstream or --downstream, SELECTOR is one node (a name, a unique id,
package.name or source_name.table) and the output is that node and its
ancestors or descendants, --depth generations deep, with their tests as
--indirect-selection says. Both flags together give both directions.

A selector that matches nothing exits with status 6 and suggests selectors
for nodes with similar names (source:ecom.raw_orders for a source table
given as a bare name); a selector that cannot be parsed exits with status 2.`,
		Example: `  # Everything orders is built from, as a Graphviz picture
  dbtlink lineage +orders --manifest target/manifest.json --format dot | dot -Tsvg > orders.svg

  # Two generations downstream of a staging model, models only
  dbtlink lineage stg_orders --downstream --depth 2 --resource-type model -m target/manifest.json

  # What a source feeds, without tests, as a Mermaid diagram for a pull request
  dbtlink lineage source:ecom.raw_orders+ --indirect-selection empty --format mermaid -m manifest.json

  # The staging views and their tests, for a script
  dbtlink lineage 'path:models/staging,config.materialized:view' --format json -m manifest.json | jq -r '.nodes[].unique_id'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("give a selector, e.g. 'dbtlink lineage +orders --manifest target/manifest.json'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// Several arguments are a union, as with dbt's --select a b.
			opts.Selector = strings.Join(args, " ")
			if runF != nil {
				return runF(opts)
			}
			return lineageRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Manifest, "manifest", "m", "", "manifest.json to read, plain or gzip (required)")
	fl.BoolVar(&opts.Upstream, "upstream", false, "show SELECTOR (one node) and its ancestors, like +NAME")
	fl.BoolVar(&opts.Downstream, "downstream", false, "show SELECTOR (one node) and its descendants, like NAME+")
	fl.IntVar(&opts.Depth, "depth", 0, "with --upstream or --downstream: generations to follow; 0 means all")
	fl.StringVar(&opts.Exclude, "exclude", "", "leave out the nodes this selector matches, like dbt's --exclude")
	fl.StringSliceVar(&opts.ResourceTypes, "resource-type", nil,
		"keep only nodes of these types, comma-separated, as dbt's --resource-type: model, seed, snapshot, source, test,\n"+
			"unit_test, exposure, metric, semantic_model, saved_query, function, analysis, default or all\n"+
			"(default: what 'dbt ls' lists, every type but analysis)")
	fl.StringSliceVar(&opts.ExcludeResourceTypes, "exclude-resource-type", nil,
		"leave out nodes of these types, comma-separated, as dbt's --exclude-resource-type")
	fl.StringVar(&opts.IndirectSelection, "indirect-selection", "eager",
		"which tests on selected nodes to add, as dbt's flag: eager (any parent selected), cautious (all parents),\n"+
			"buildable (all parents selected or upstream of the selection) or empty (none)")
	fl.StringVar(&opts.Format, "format", "text", "output format: text (indented tree), json, dot (Graphviz) or mermaid")
	fl.BoolVar(&opts.PassThroughEphemeral, "pass-through-ephemeral", false,
		"leave ephemeral models out: dbt inlines them into their children, so they are not in the warehouse;\n"+
			"with --upstream/--downstream they are walked through and do not count towards --depth;\n"+
			"an edge that ran through them is drawn dashed (dot), dotted (mermaid) or with \"through\" (json, text)")
	return cmd
}

func lineageRun(opts *LineageOptions) error {
	format, err := lineage.ParseFormat(opts.Format)
	if err != nil {
		return usageError("--format: %w", err)
	}
	if opts.Manifest == "" {
		return usageError("--manifest is required: give the manifest.json to read, e.g. --manifest target/manifest.json")
	}
	directional := opts.Upstream || opts.Downstream
	if opts.Depth < 0 {
		return usageError("--depth must be 0 (no limit) or more, not %d", opts.Depth)
	}
	if opts.Depth > 0 && !directional {
		return usageError("--depth needs --upstream or --downstream; in a selector, put the depth in the operator instead, e.g. '2+orders' or 'orders+1'")
	}
	if directional && strings.ContainsAny(strings.TrimSpace(opts.Selector), "+@:, ") {
		return usageError("--upstream and --downstream take one node name (e.g. orders, a unique id or ecom.raw_orders), not the selector %q; "+
			"drop the flag and use graph operators such as '+orders' or '2+tag:nightly' instead", opts.Selector)
	}

	// Code is never shown here, and it is most of a large manifest.
	m, err := artifacts.ReadManifestFile(opts.Manifest, artifacts.SkipCode())
	if err != nil {
		return withCode(ExitUsage, err)
	}
	g := lineage.Build(m)

	types, err := lineage.ResourceTypesFromArgs(opts.ResourceTypes, opts.ExcludeResourceTypes)
	if err != nil {
		return usageError("%w", err)
	}
	indirect, err := lineage.ParseIndirectSelection(opts.IndirectSelection)
	if err != nil {
		return usageError("--indirect-selection: %w", err)
	}

	// Types are filtered here rather than in the selection, so that an empty
	// result can say which flag emptied it.
	sel := func(exclude string) ([]string, error) {
		so := lineage.SelectOptions{Exclude: exclude, Indirect: indirect}
		if !directional {
			return g.SelectWith(opts.Selector, so)
		}
		closure, err := lineageClosure(g, opts)
		if err != nil {
			return nil, err
		}
		return g.SelectFrom(closure, so)
	}
	ids, err := sel("")
	if err != nil {
		return lineageError(err)
	}
	if len(ids) == 0 {
		return lineageNoMatch(g, opts)
	}
	matched := len(ids)
	if strings.TrimSpace(opts.Exclude) != "" {
		if ids, err = sel(opts.Exclude); err != nil {
			return lineageError(err)
		}
	}
	ids = slices.DeleteFunc(ids, func(id string) bool {
		if !slices.Contains(types, g.Node(id).ResourceType) {
			return true
		}
		// The closure already dropped them but kept the start node; a
		// selector's result still has them.
		return opts.PassThroughEphemeral && g.IsEphemeral(id)
	})
	if len(ids) == 0 {
		hint := "loosen those flags"
		if len(opts.ResourceTypes) == 0 {
			hint += "; analyses are listed only with --resource-type analysis or all, as in 'dbt ls'"
		}
		return withCode(ExitNotFound, fmt.Errorf(
			"%q matched %d nodes, but --exclude, --resource-type or --pass-through-ephemeral left none; %s",
			opts.Selector, matched, hint))
	}
	sg := g.Subgraph(ids)
	if opts.PassThroughEphemeral {
		// Keep the links that ran through the ephemeral models left out above.
		sg = g.SubgraphThrough(ids, g.IsEphemeral)
	}
	if err := lineage.RenderSubgraph(opts.IO.Out, sg, format); err != nil {
		return fmt.Errorf("print lineage: %w", err)
	}
	return nil
}

// lineageClosure resolves the one node --upstream/--downstream start from and
// returns it with its closure, sorted like Select's result.
func lineageClosure(g *lineage.Graph, opts *LineageOptions) ([]string, error) {
	start, err := g.Resolve(opts.Selector)
	if err != nil {
		return nil, err
	}
	q := lineage.QueryOptions{Depth: opts.Depth, PassThroughEphemeral: opts.PassThroughEphemeral}
	ids := []string{start}
	if opts.Upstream {
		r, err := g.Upstream(start, q)
		if err != nil {
			return nil, err
		}
		for _, n := range r {
			ids = append(ids, n.ID)
		}
	}
	if opts.Downstream {
		r, err := g.Downstream(start, q)
		if err != nil {
			return nil, err
		}
		for _, n := range r {
			ids = append(ids, n.ID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// lineageError maps the lineage package's errors to exit codes: names that
// match nothing or several are "not found" (6), bad selectors are usage (2).
func lineageError(err error) error {
	var nf *lineage.NotFoundError
	var amb *lineage.AmbiguousError
	switch {
	case errors.As(err, &nf), errors.As(err, &amb):
		return withCode(ExitNotFound, err)
	case errors.Is(err, lineage.ErrInvalidSelector):
		return withCode(ExitUsage, err)
	}
	return err
}

// lineageNoMatch explains an empty selection, with names close to the values
// in the selector, because the usual cause is a typo or a wrong method.
func lineageNoMatch(g *lineage.Graph, opts *LineageOptions) error {
	msg := fmt.Sprintf("selector %q matched no node in %s", opts.Selector, opts.Manifest)
	if sug := lineageSimilarNames(g, lineageSelectorValues(opts.Selector), lineageSelectorTerms(opts.Selector), 5); len(sug) > 0 {
		msg += "; similar: " + strings.Join(sug, ", ")
	} else {
		msg += "; check the name, or list the project's nodes with 'dbtlink lineage resource_type:model -m " + opts.Manifest + "'"
	}
	return withCode(ExitNotFound, errors.New(msg))
}

// lineageSelectorTerms returns each term of a selector without its graph
// operators, lower-cased: the suggestions must not repeat one of them, since
// it has just matched nothing.
func lineageSelectorTerms(sel string) []string {
	var out []string
	for _, f := range strings.Fields(sel) {
		for _, term := range strings.Split(f, ",") {
			term = strings.TrimLeft(strings.TrimLeft(term, "@0123456789"), "+")
			term = strings.TrimRight(strings.TrimRight(term, "0123456789"), "+")
			out = append(out, strings.ToLower(term))
		}
	}
	return out
}

// lineageSuggestion is how to select n on its own: its name, which dbt's
// default fqn method finds, or, for the nodes that method does not search,
// the method that does (source:ecom.raw_orders, metric:revenue, ...).
func lineageSuggestion(n *artifacts.Node) string {
	switch n.ResourceType {
	case artifacts.Source:
		if n.Source != nil && n.Source.SourceName != "" {
			return "source:" + n.Source.SourceName + "." + n.Name
		}
		return "source:*." + n.Name
	case artifacts.Exposure, artifacts.Metric, artifacts.SemanticModel, artifacts.SavedQuery:
		return string(n.ResourceType) + ":" + n.Name
	}
	return n.Name
}

// lineageSelectorValues strips the graph operators and method from each term of a
// selector: "2+source:ecom.raw_orders+,tag:x" gives raw_orders and x. Only
// the last dotted part is kept, since that is the node's own name.
func lineageSelectorValues(sel string) []string {
	var out []string
	for _, f := range strings.Fields(sel) {
		for _, term := range strings.Split(f, ",") {
			term = strings.TrimLeft(term, "@0123456789")
			term = strings.TrimLeft(term, "+")
			term = strings.TrimRight(term, "0123456789")
			term = strings.TrimRight(term, "+")
			if i := strings.LastIndexByte(term, ':'); i >= 0 {
				term = term[i+1:]
			}
			term = strings.TrimRight(term, "/")
			if i := strings.LastIndexAny(term, "./"); i >= 0 {
				term = term[i+1:]
			}
			term = strings.Trim(term, "*?")
			if term != "" {
				out = append(out, strings.ToLower(term))
			}
		}
	}
	return out
}

// lineageSimilarNames returns up to limit distinct selectors for nodes whose
// name contains one of values (or is contained in it), or is within two edits
// of it, closest first; a selector equal to one of skip is left out. A linear
// scan is fine: it runs once, on the error path.
func lineageSimilarNames(g *lineage.Graph, values, skip []string, limit int) []string {
	type cand struct {
		sel  string
		dist int
		test bool
	}
	seen := map[string]bool{}
	var cands []cand
	for _, id := range g.IDs() {
		n := g.Node(id)
		if n == nil || n.Name == "" {
			continue
		}
		sug := lineageSuggestion(n)
		if seen[sug] || slices.Contains(skip, strings.ToLower(sug)) {
			continue
		}
		name := strings.ToLower(n.Name)
		best := -1
		for _, v := range values {
			d := lineageEditDistance(v, name, 2)
			if d > 2 {
				// Containment ranks after every near miss.
				if len(v) < 3 || !(strings.Contains(name, v) || len(name) >= 3 && strings.Contains(v, name)) {
					continue
				}
				d = 3
			}
			if best < 0 || d < best {
				best = d
			}
		}
		if best >= 0 {
			seen[sug] = true
			cands = append(cands, cand{sug, best, n.ResourceType == artifacts.Test || n.ResourceType == artifacts.UnitTest})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		// Tests embed the names of what they test, so they would crowd out
		// the models a user meant; shorter names are the closer matches.
		if c := cmp.Compare(a.dist, b.dist); c != 0 {
			return c
		}
		if a.test != b.test {
			return cmp.Compare(lineageBoolInt(a.test), lineageBoolInt(b.test))
		}
		if c := cmp.Compare(len(a.sel), len(b.sel)); c != 0 {
			return c
		}
		return strings.Compare(a.sel, b.sel)
	})
	out := make([]string, 0, min(limit, len(cands)))
	for _, c := range cands[:min(limit, len(cands))] {
		out = append(out, c.sel)
	}
	return out
}

// lineageEditDistance is the Levenshtein distance of a and b, or limit+1 as soon as
// it is known to exceed limit (names of very different lengths are skipped
// without the quadratic table).
func lineageEditDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func lineageBoolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
