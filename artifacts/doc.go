// Package artifacts reads dbt's artifacts (manifest.json, catalog.json,
// run_results.json and sources.json) of every schema version into one
// normalised model.
package artifacts
