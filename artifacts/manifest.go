package artifacts

import (
	"io"
	"slices"
	"strings"
)

// ReadManifest reads a manifest.json of any schema version (v1 to v12, files
// from before dbt wrote a schema version, dbt Fusion's v12-shaped output) from
// r, streaming: memory grows with what the model keeps, not with the file.
//
// Field handling does not depend on the schema version (raw_sql and raw_code
// both fill RawCode, and so on), so metadata may come before or after the
// node sections.
func ReadManifest(r io.Reader, opts ...Option) (*Manifest, error) {
	d, done, err := start(r, KindManifest, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	m := &Manifest{}
	// evidence records whether anything only a manifest has was seen, so that
	// a catalog or run_results without metadata is not read as an empty
	// manifest.
	evidence := false
	err = d.top(func(name []byte) error {
		var def ResourceType
		switch string(name) {
		case "metadata":
			return d.readMetadata(&m.Metadata)
		case "nodes":
			def = ""
		case "sources":
			def = Source
		case "exposures":
			def = Exposure
		case "metrics":
			def = Metric
		case "semantic_models":
			def = SemanticModel
		case "saved_queries":
			def = SavedQuery
		case "unit_tests":
			def = UnitTest
		case "functions":
			def = Function
		case "macros":
			evidence = true
			return d.readMacros(m)
		case "groups":
			evidence = true
			return d.readGroups(m)
		case "parent_map":
			evidence = true
			var err error
			m.ParentMap, err = d.readAdjacency()
			return err
		case "child_map":
			evidence = true
			var err error
			m.ChildMap, err = d.readAdjacency()
			return err
		case "docs", "disabled", "selectors", "files", "group_map":
			evidence = true
			return d.skip()
		case "generated_at":
			// Files from before metadata existed carried it at top level.
			t, err := d.timeVal()
			if m.Metadata.GeneratedAt.IsZero() {
				m.Metadata.GeneratedAt = t
			}
			return err
		default:
			return d.skip()
		}
		return d.object(func(key []byte) error {
			if d.peek() != '{' {
				return d.skip()
			}
			id := d.intern(key)
			n, sawType, err := d.readNode(def)
			if err != nil {
				return err
			}
			if n.UniqueID == "" {
				n.UniqueID = id
			}
			if sawType || def != "" {
				evidence = true
			}
			m.Nodes = append(m.Nodes, n)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if err := d.checkKind(&m.Metadata); err != nil {
		return nil, err
	}
	if !evidence && m.Metadata.SchemaURL == "" {
		return nil, d.errorf("%w: no dbt_schema_version and no manifest sections (nodes with resource_type, macros, docs, ...)", ErrNotArtifact)
	}
	m.resolveOwners()
	return m, nil
}

// ReadManifestFile reads a manifest from a .json or gzip-compressed file.
func ReadManifestFile(path string, opts ...Option) (*Manifest, error) {
	return readFileAs(path, KindManifest, opts, ReadManifest)
}

// resolveOwners gives nodes without meta.owner the owner of their group;
// groups may be written after the nodes, so this runs at the end.
func (m *Manifest) resolveOwners() {
	if len(m.Groups) == 0 {
		return
	}
	owners := make(map[string]string, len(m.Groups))
	for _, g := range m.Groups {
		o := g.OwnerName
		if o == "" {
			o = g.OwnerEmail
		}
		owners[g.Name] = o
	}
	for _, n := range m.Nodes {
		if n.Owner == "" && n.Group != "" {
			n.Owner = owners[n.Group]
		}
	}
}

// nodeScratch holds what is read from a node before its resource type is
// known (keys come in any order) and what is merged at the end.
type nodeScratch struct {
	cfgTags     []string
	cfgMeta     map[string]any
	cfgFresh    *Freshness
	typ         string
	url         string
	maturity    string
	ownerName   string
	ownerEmail  string
	testName    string
	testNS      string
	kwargs      map[string]any
	columnName  string
	attached    string
	model       string // a unit test's model name
	severity    string
	sourceName  string
	sourceDesc  string
	loader      string
	identifier  string
	loadedAt    string
	fresh       *Freshness
	hasFresh    bool
	hasTestMeta bool
}

// readNode reads one node object of any section. sawType reports whether a
// resource_type member was present.
func (d *dec) readNode(def ResourceType) (n *Node, sawType bool, err error) {
	n = &Node{ResourceType: def, Enabled: true}
	var s nodeScratch
	err = d.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "unique_id":
			n.UniqueID, err = d.istr()
		case "resource_type":
			var t string
			t, err = d.istr()
			if t != "" {
				n.ResourceType = ResourceType(t)
				sawType = true
			}
		case "package_name":
			n.PackageName, err = d.istr()
		case "name":
			n.Name, err = d.str()
		case "alias":
			n.Alias, err = d.str()
		case "identifier":
			s.identifier, err = d.str()
		case "database":
			n.Database, err = d.istr()
		case "schema":
			n.Schema, err = d.istr()
		case "relation_name":
			n.RelationName, err = d.str()
		case "description":
			n.Description, err = d.str()
		case "columns":
			n.Columns, err = d.readColumns()
		case "tags":
			n.Tags, err = d.strList()
		case "meta":
			n.Meta, err = d.anyMap()
		case "group":
			n.Group, err = d.istr()
		case "access":
			n.Access, err = d.istr()
		case "version":
			n.Version, err = d.str()
		case "language":
			n.Language, err = d.istr()
		case "raw_code", "raw_sql":
			if d.skipCd {
				return d.skip()
			}
			n.RawCode, err = d.str()
		case "compiled_code", "compiled_sql":
			if d.skipCd {
				return d.skip()
			}
			n.CompiledCode, err = d.str()
		case "path":
			n.Path, err = d.str()
		case "original_file_path":
			n.OriginalFilePath, err = d.str()
		case "patch_path":
			var pp string
			pp, err = d.istr()
			if _, rest, ok := strings.Cut(pp, "://"); ok {
				pp = rest
			}
			n.PatchPath = pp
		case "fqn":
			n.FQN, err = d.strList()
		case "depends_on":
			n.DependsOnNodes, n.DependsOnMacros, err = d.readDependsOn()
		case "test_metadata":
			s.hasTestMeta = true
			err = d.object(func(name []byte) error {
				var err error
				switch string(name) {
				case "name":
					s.testName, err = d.istr()
				case "namespace":
					s.testNS, err = d.istr()
				case "kwargs":
					s.kwargs, err = d.anyMap()
				default:
					err = d.skip()
				}
				return err
			})
		case "column_name":
			s.columnName, err = d.str()
		case "attached_node":
			s.attached, err = d.istr()
		case "model":
			// Unit tests name their model; semantic models write ref('x').
			s.model, err = d.str()
		case "config":
			err = d.readNodeConfig(n, &s)
		case "contract":
			err = d.readContract(n)
		case "source_name":
			s.sourceName, err = d.istr()
		case "source_description":
			s.sourceDesc, err = d.str()
		case "loader":
			s.loader, err = d.istr()
		case "loaded_at_field":
			s.loadedAt, err = d.str()
		case "freshness":
			s.hasFresh = true
			s.fresh, err = d.readFreshness()
		case "type":
			s.typ, err = d.istr()
		case "url":
			s.url, err = d.str()
		case "maturity":
			s.maturity, err = d.istr()
		case "owner":
			s.ownerName, s.ownerEmail, err = d.readOwner()
		case "label":
			n.Label, err = d.str()
		default:
			err = d.skip()
		}
		return err
	})
	if err != nil {
		return nil, sawType, err
	}
	d.finishNode(n, &s)
	return n, sawType, nil
}

// finishNode applies what depends on the resource type or on several keys.
func (d *dec) finishNode(n *Node, s *nodeScratch) {
	// Before dbt 1.0 (and in some later files) config.tags were not copied to
	// the top-level tags; the union is right for every version.
	n.Tags = unionTags(n.Tags, s.cfgTags)
	n.Meta = mergeMeta(n.Meta, s.cfgMeta)
	n.Owner = ownerOf(n.Meta)
	if n.RelationName != "" {
		n.RelationParts = splitRelation(n.RelationName)
	}
	switch n.ResourceType {
	case Source:
		if s.identifier != "" {
			n.Alias = s.identifier
		}
		fresh := s.fresh
		if !s.hasFresh {
			fresh = s.cfgFresh
		}
		n.Source = &SourceInfo{
			SourceName:        s.sourceName,
			SourceDescription: s.sourceDesc,
			Loader:            s.loader,
			Identifier:        s.identifier,
			LoadedAtField:     s.loadedAt,
			Freshness:         fresh,
		}
	case Exposure:
		n.Exposure = &ExposureInfo{
			Type:       s.typ,
			URL:        s.url,
			Maturity:   s.maturity,
			OwnerName:  s.ownerName,
			OwnerEmail: s.ownerEmail,
		}
		if n.Owner == "" {
			n.Owner = s.ownerName
			if n.Owner == "" {
				n.Owner = s.ownerEmail
			}
		}
	case Test, UnitTest:
		t := &TestMetadata{
			Name:         s.testName,
			Namespace:    s.testNS,
			Kwargs:       s.kwargs,
			ColumnName:   s.columnName,
			AttachedNode: s.attached,
			Severity:     s.severity,
		}
		if t.AttachedNode == "" {
			model := s.model
			if m, ok := s.kwargs["model"].(string); ok && s.hasTestMeta {
				model = m
			} else if model != "" {
				model = "ref('" + model + "')"
			}
			t.AttachedNode = attachedFrom(n.DependsOnNodes, model)
		}
		n.Test = t
	default:
		if s.hasTestMeta {
			// A test under an unknown resource type name: keep what was read.
			n.Test = &TestMetadata{Name: s.testName, Namespace: s.testNS, Kwargs: s.kwargs,
				ColumnName: s.columnName, AttachedNode: s.attached, Severity: s.severity}
		}
	}
}

// attachedFrom tells the node a test is attached to when dbt did not record
// attached_node (before 1.3, and for tests on sources): the relation named by
// the ref() or source() call in the test's model kwarg ("{{
// get_where_subquery(ref('orders')) }}"), matched against depends_on. The
// match matters for tests with several parents: a relationships test on
// orders depends on both orders and the `to` model, and dbt sorts depends_on,
// so the first parent is often the `to` model. Without a model kwarg
// (singular tests), a single parent is the attached node; with several the
// answer is unknown and empty, like dbt's own attached_node.
func attachedFrom(deps []string, model string) string {
	var parents []string
	for _, p := range deps {
		if !strings.HasPrefix(p, "macro.") {
			parents = append(parents, p)
		}
	}
	if len(parents) == 0 {
		return ""
	}
	if fn, args, version, ok := parseRelationCall(model); ok {
		for _, p := range parents {
			if relationCallMatches(p, fn, args, version) {
				return p
			}
		}
	}
	if len(parents) == 1 || model != "" {
		// A model kwarg that names nothing in depends_on (a macro call dbt
		// cannot resolve statically, a disabled model): the first parent is
		// the best guess, as before dbt recorded attached_node.
		return parents[0]
	}
	return ""
}

// parseRelationCall finds the first ref(...) or source(...) call in s and
// returns its function name, its positional string arguments and its version
// keyword (v= or version=), if any.
func parseRelationCall(s string) (fn string, args []string, version string, ok bool) {
	i, j := strings.Index(s, "ref("), strings.Index(s, "source(")
	switch {
	case i >= 0 && (j < 0 || i < j):
		fn, s = "ref", s[i+len("ref("):]
	case j >= 0:
		fn, s = "source", s[j+len("source("):]
	default:
		return "", nil, "", false
	}
	end := strings.IndexByte(s, ')')
	if end < 0 {
		return "", nil, "", false
	}
	for _, a := range strings.Split(s[:end], ",") {
		a = strings.TrimSpace(a)
		key := ""
		if k, v, found := strings.Cut(a, "="); found {
			key, a = strings.TrimSpace(k), strings.TrimSpace(v)
		}
		a = strings.Trim(a, `'"`)
		switch key {
		case "":
			args = append(args, a)
		case "v", "version":
			version = a
		}
	}
	return fn, args, version, len(args) > 0
}

// relationCallMatches reports whether unique id id is what ref(args) or
// source(args) names: ref('name'), ref('package', 'name'), source('source',
// 'table'); a versioned ref matches the id ending in .v<version>.
func relationCallMatches(id, fn string, args []string, version string) bool {
	parts := strings.Split(id, ".")
	if len(parts) < 3 {
		return false
	}
	if fn == "source" {
		return parts[0] == "source" && len(parts) >= 4 && len(args) >= 2 &&
			parts[len(parts)-2] == args[0] && parts[len(parts)-1] == args[1]
	}
	switch parts[0] {
	case "model", "seed", "snapshot":
	default:
		return false
	}
	name := args[len(args)-1]
	if len(args) >= 2 && parts[1] != args[0] {
		return false
	}
	if parts[2] != name {
		return false
	}
	if version != "" {
		return len(parts) == 4 && parts[3] == "v"+version
	}
	return true
}

// ownerOf returns meta.owner, which projects write either as a string or as an
// object with a name and/or email.
func ownerOf(meta map[string]any) string {
	switch o := meta["owner"].(type) {
	case string:
		return o
	case map[string]any:
		for _, k := range []string{"name", "email"} {
			if s, ok := o[k].(string); ok && s != "" {
				return s
			}
		}
	case []any:
		for _, e := range o {
			if s, ok := e.(string); ok && s != "" {
				return s
			}
		}
	}
	return ""
}

// readOwner reads an owner block ({name, email}); a bare string is a name.
func (d *dec) readOwner() (name, email string, err error) {
	if d.peek() == '"' {
		name, err = d.str()
		return name, "", err
	}
	err = d.object(func(k []byte) error {
		var err error
		switch string(k) {
		case "name":
			name, err = d.str()
		case "email":
			// Fusion and newer core allow a list of emails; keep the first.
			if d.peek() == '[' {
				var l []string
				l, err = d.strList()
				if len(l) > 0 {
					email = l[0]
				}
			} else {
				email, err = d.str()
			}
		default:
			err = d.skip()
		}
		return err
	})
	return name, email, err
}

func (d *dec) readNodeConfig(n *Node, s *nodeScratch) error {
	return d.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "materialized":
			n.Materialized, err = d.istr()
		case "tags":
			s.cfgTags, err = d.strList()
		case "meta":
			s.cfgMeta, err = d.anyMap()
		case "severity":
			s.severity, err = d.istr()
		case "schema":
			n.ConfigSchema, err = d.istr()
		case "alias":
			n.ConfigAlias, err = d.str()
		case "database":
			n.ConfigDatabase, err = d.istr()
		case "enabled":
			var v, ok bool
			v, ok, err = d.boolean()
			if ok {
				n.Enabled = v
			}
		case "access":
			var a string
			a, err = d.istr()
			if n.Access == "" {
				n.Access = a
			}
		case "group":
			var g string
			g, err = d.istr()
			if n.Group == "" {
				n.Group = g
			}
		case "contract":
			err = d.readContract(n)
		case "freshness":
			s.cfgFresh, err = d.readFreshness()
		default:
			err = d.skip()
		}
		return err
	})
}

// readContract reads a contract block, at top level or under config; the
// contract is enforced when either says so.
func (d *dec) readContract(n *Node) error {
	return d.object(func(name []byte) error {
		if string(name) != "enforced" {
			return d.skip()
		}
		v, _, err := d.boolean()
		n.ContractEnforced = n.ContractEnforced || v
		return err
	})
}

// readDependsOn reads {nodes: [...], macros: [...]}; a bare list is nodes.
func (d *dec) readDependsOn() (nodes, macros []string, err error) {
	if d.peek() == '[' {
		nodes, err = d.strList()
		return nodes, nil, err
	}
	err = d.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "nodes":
			nodes, err = d.strList()
		case "macros":
			macros, err = d.strList()
		default:
			err = d.skip()
		}
		return err
	})
	return nodes, macros, err
}

// readColumns reads columns, written as an object keyed by name (dbt core) or,
// tolerated, as a list.
func (d *dec) readColumns() ([]Column, error) {
	cols := d.cols[:0]
	one := func(key []byte) error {
		if d.peek() != '{' {
			return d.skip()
		}
		c, err := d.readColumn()
		if c.Name == "" && len(key) > 0 {
			c.Name = d.intern(key)
		}
		cols = append(cols, c)
		return err
	}
	var err error
	if d.peek() == '[' {
		err = d.array(func() error { return one(nil) })
	} else {
		// The key is only valid until the value is read: copy it first.
		err = d.object(func(name []byte) error {
			d.key = append(d.key[:0], name...)
			return one(d.key)
		})
	}
	// Clear the scratch so it does not pin the previous node's strings.
	out := slices.Clone(cols)
	clear(cols)
	d.cols = cols[:0]
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

func (d *dec) readColumn() (Column, error) {
	var c Column
	var cfgTags []string
	var cfgMeta map[string]any
	err := d.object(func(name []byte) error {
		var err error
		switch string(name) {
		// Column names and descriptions repeat across models (doc blocks,
		// staging/final pairs), so they are interned.
		case "name":
			c.Name, err = d.istr()
		case "description":
			c.Description, err = d.istr()
		case "data_type":
			c.DataType, err = d.istr()
		case "tags":
			c.Tags, err = d.strList()
		case "meta":
			c.Meta, err = d.anyMap()
		case "constraints":
			err = d.array(func() error {
				var k Constraint
				err := d.object(func(name []byte) error {
					var err error
					switch string(name) {
					case "type":
						k.Type, err = d.istr()
					case "name":
						k.Name, err = d.str()
					case "expression":
						k.Expression, err = d.str()
					default:
						err = d.skip()
					}
					return err
				})
				if k.Type != "" {
					c.Constraints = append(c.Constraints, k)
				}
				return err
			})
		case "config":
			// dbt 1.10 moved column meta and tags under config.
			err = d.object(func(name []byte) error {
				var err error
				switch string(name) {
				case "tags":
					cfgTags, err = d.strList()
				case "meta":
					cfgMeta, err = d.anyMap()
				default:
					err = d.skip()
				}
				return err
			})
		default:
			err = d.skip()
		}
		return err
	})
	c.Tags = unionTags(c.Tags, cfgTags)
	c.Meta = mergeMeta(c.Meta, cfgMeta)
	return c, err
}

// unionTags appends the config.tags missing from tags.
func unionTags(tags, cfgTags []string) []string {
	for _, t := range cfgTags {
		if !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	return tags
}

// mergeMeta adds the config.meta keys missing from meta (meta wins); an empty
// result is nil.
func mergeMeta(meta, cfgMeta map[string]any) map[string]any {
	if len(cfgMeta) == 0 {
		if len(meta) == 0 {
			return nil
		}
		return meta
	}
	if len(meta) == 0 {
		return cfgMeta
	}
	for k, v := range cfgMeta {
		if _, ok := meta[k]; !ok {
			meta[k] = v
		}
	}
	return meta
}

// readFreshness reads freshness criteria; null, or both thresholds and the
// filter empty, gives nil.
func (d *dec) readFreshness() (*Freshness, error) {
	if d.peek() != '{' {
		return nil, d.skip()
	}
	var f Freshness
	err := d.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "warn_after":
			f.WarnAfter, err = d.readThreshold()
		case "error_after":
			f.ErrorAfter, err = d.readThreshold()
		case "filter":
			f.Filter, err = d.str()
		default:
			err = d.skip()
		}
		return err
	})
	if f.WarnAfter == nil && f.ErrorAfter == nil && f.Filter == "" {
		return nil, err
	}
	return &f, err
}

// readThreshold reads {count, period}; null counts (dbt writes them when no
// threshold is set) give nil.
func (d *dec) readThreshold() (*FreshnessThreshold, error) {
	var t FreshnessThreshold
	var has bool
	err := d.object(func(name []byte) error {
		var err error
		switch string(name) {
		case "count":
			var ok bool
			t.Count, ok, err = d.integer()
			has = has || ok
		case "period":
			t.Period, err = d.istr()
		default:
			err = d.skip()
		}
		return err
	})
	if !has {
		return nil, err
	}
	return &t, err
}

func (d *dec) readMacros(m *Manifest) error {
	return d.object(func(key []byte) error {
		if d.peek() != '{' {
			return d.skip()
		}
		id := d.intern(key)
		mc := &Macro{}
		err := d.object(func(name []byte) error {
			var err error
			switch string(name) {
			case "unique_id":
				mc.UniqueID, err = d.istr()
			case "name":
				mc.Name, err = d.str()
			case "package_name":
				mc.PackageName, err = d.istr()
			case "depends_on":
				_, mc.DependsOnMacros, err = d.readDependsOn()
			default:
				err = d.skip()
			}
			return err
		})
		if mc.UniqueID == "" {
			mc.UniqueID = id
		}
		m.Macros = append(m.Macros, mc)
		return err
	})
}

func (d *dec) readGroups(m *Manifest) error {
	return d.object(func(key []byte) error {
		if d.peek() != '{' {
			return d.skip()
		}
		id := d.intern(key)
		g := &GroupDef{}
		err := d.object(func(name []byte) error {
			var err error
			switch string(name) {
			case "unique_id":
				g.UniqueID, err = d.istr()
			case "name":
				g.Name, err = d.istr()
			case "owner":
				g.OwnerName, g.OwnerEmail, err = d.readOwner()
			default:
				err = d.skip()
			}
			return err
		})
		if g.UniqueID == "" {
			g.UniqueID = id
		}
		m.Groups = append(m.Groups, g)
		return err
	})
}

func (d *dec) readAdjacency() (map[string][]string, error) {
	if d.peek() != '{' {
		return nil, d.skip()
	}
	adj := map[string][]string{}
	err := d.object(func(key []byte) error {
		id := d.intern(key)
		l, err := d.strList()
		adj[id] = l
		return err
	})
	return adj, err
}

// splitRelation splits a relation name into its unquoted parts. Dots inside
// double quotes, backticks or brackets belong to the part; a doubled quote
// inside quotes is a literal quote. Whitespace outside quotes is dropped.
// Parts without escapes are substrings of s, so the split costs one
// allocation for the slice in the common case.
func splitRelation(s string) []string {
	parts := make([]string, 0, 3)
	var cur []byte // only used once a part needs rewriting
	start, end := -1, -1
	dirty := false
	var closing byte
	flush := func() {
		switch {
		case dirty:
			parts = append(parts, string(cur))
		case start >= 0:
			parts = append(parts, s[start:end])
		default:
			parts = append(parts, "")
		}
		cur, start, end, dirty = cur[:0], -1, -1, false
	}
	// add appends s[i] to the current part, keeping the substring form
	// while the part is contiguous.
	add := func(i int) {
		if !dirty {
			if start < 0 {
				start, end = i, i+1
				return
			}
			if end == i {
				end++
				return
			}
			dirty = true
			cur = append(cur[:0], s[start:end]...)
		}
		cur = append(cur, s[i])
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if closing != 0 {
			if c == closing {
				if i+1 < len(s) && s[i+1] == closing {
					add(i)
					i++
					// The next byte is not contiguous with this one.
					if !dirty {
						dirty = true
						cur = append(cur[:0], s[start:end]...)
					}
					continue
				}
				closing = 0
				continue
			}
			add(i)
			continue
		}
		switch c {
		case '"', '`':
			closing = c
		case '[':
			closing = ']'
		case '.':
			flush()
		case ' ', '\t', '\n', '\r':
		default:
			add(i)
		}
	}
	flush()
	return parts
}
