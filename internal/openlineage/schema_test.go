package openlineage

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// validator checks events against the OpenLineage schemas in
// testdata/schema: the event against OpenLineage.json, and every facet
// against its own facet schema (OpenLineage.json checks only that facets
// have _producer and _schemaURL).
type validator struct {
	event  *jsonschema.Schema
	facets map[string]*jsonschema.Schema // by _schemaURL
}

var (
	validatorOnce sync.Once
	theValidator  *validator
	validatorErr  error
)

func loadValidator() (*validator, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join("testdata", "schema", "*.json"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		m := doc.(map[string]any)
		// The dbt integration's facet names the pre-2019 meta-schema by a
		// URL the library does not know; its keywords are those of 2020-12.
		if m["$schema"] == "http://json-schema.org/schema#" {
			delete(m, "$schema")
		}
		if err := c.AddResource(m["$id"].(string), doc); err != nil {
			return nil, err
		}
	}
	v := &validator{facets: map[string]*jsonschema.Schema{}}
	if v.event, err = c.Compile(SpecURL); err != nil {
		return nil, err
	}
	for _, u := range []string{columnLineageSchema, dataQualitySchema, dataSourceSchema, documentationSchema, errorMessageSchema,
		externalQuerySchema, jobTypeSchema, outputStatsSchema, parentSchema, processingEngSchema, schemaFacetSchema, sqlSchema,
		dbtRunFacetSchemaURL} {
		if v.facets[u], err = c.Compile(u); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func getValidator(t testing.TB) *validator {
	t.Helper()
	validatorOnce.Do(func() { theValidator, validatorErr = loadValidator() })
	if validatorErr != nil {
		t.Fatalf("load the OpenLineage schemas: %v", validatorErr)
	}
	return theValidator
}

// validateJSON checks one encoded event and returns how many facets it
// checked against their own schemas.
func (v *validator) validateJSON(t testing.TB, b []byte) int {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("event is not JSON: %v\n%s", err, b)
	}
	if err := v.event.Validate(doc); err != nil {
		t.Fatalf("event does not follow OpenLineage.json: %v\n%s", err, b)
	}
	n := 0
	var facetMaps []any
	ev := doc.(map[string]any)
	for _, k := range []string{"run", "job"} {
		facetMaps = append(facetMaps, ev[k].(map[string]any)["facets"])
	}
	for _, k := range []string{"inputs", "outputs"} {
		list, _ := ev[k].([]any)
		for _, d := range list {
			dm := d.(map[string]any)
			facetMaps = append(facetMaps, dm["facets"], dm["inputFacets"], dm["outputFacets"])
		}
	}
	for _, fm := range facetMaps {
		m, _ := fm.(map[string]any)
		for name, f := range m {
			url, _ := f.(map[string]any)["_schemaURL"].(string)
			s := v.facets[url]
			if s == nil {
				t.Fatalf("facet %q has _schemaURL %q, which the test has no schema for", name, url)
			}
			// A facet schema describes the facet object; its file's
			// top-level properties say under which key it goes.
			if !strings.Contains(url, "#/$defs/") {
				t.Fatalf("facet %q: _schemaURL %q does not point at a definition", name, url)
			}
			if err := s.Validate(f); err != nil {
				t.Fatalf("facet %q does not follow %s: %v\n%s", name, url, err, b)
			}
			n++
		}
	}
	return n
}

func (v *validator) validate(t testing.TB, ev RunEvent) int {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return v.validateJSON(t, b)
}

// TestValidatorRejects keeps the validator honest: events that break the
// spec must fail it.
func TestValidatorRejects(t *testing.T) {
	v := getValidator(t)
	good := `{"eventType":"START","eventTime":"2026-01-02T03:04:05Z","run":{"runId":"3f5e8a61-6d0c-4b4e-9b9e-1f2a3b4c5d6e"},` +
		`"job":{"namespace":"dbt","name":"j"},"producer":"https://github.com/dbtlink/dbtlink","schemaURL":"` + RunEventSchemaURL + `"}`
	v.validateJSON(t, []byte(good))
	bad := map[string]string{
		"run id not a uuid":       strings.Replace(good, "3f5e8a61-6d0c-4b4e-9b9e-1f2a3b4c5d6e", "run-1", 1),
		"unknown event type":      strings.Replace(good, `"START"`, `"BEGIN"`, 1),
		"no job name":             strings.Replace(good, `,"name":"j"`, "", 1),
		"producer not a URI":      strings.Replace(good, `"https://github.com/dbtlink/dbtlink"`, `"dbtlink"`, 1),
		"facet without fields":    strings.Replace(good, `"runId":"3f5e8a61-6d0c-4b4e-9b9e-1f2a3b4c5d6e"`, `"runId":"3f5e8a61-6d0c-4b4e-9b9e-1f2a3b4c5d6e","facets":{"x":{}}`, 1),
		"sql facet without query": strings.Replace(good, `"name":"j"`, `"name":"j","facets":{"sql":{"_producer":"https://x.io","_schemaURL":"`+sqlSchema+`"}}`, 1),
	}
	for name, doc := range bad {
		t.Run(name, func(t *testing.T) {
			ft := &failRecorder{TB: t}
			func() {
				defer func() { _ = recover() }()
				v.validateJSON(ft, []byte(doc))
			}()
			if !ft.failed {
				t.Errorf("validator accepted %s", doc)
			}
		})
	}
}

// failRecorder turns Fatalf into a recorded failure, so that a test can
// check that the validator rejects.
type failRecorder struct {
	testing.TB
	failed bool
}

func (f *failRecorder) Helper() {}
func (f *failRecorder) Fatalf(string, ...any) {
	f.failed = true
	panic("validation failed")
}
