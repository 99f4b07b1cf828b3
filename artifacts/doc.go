// Package artifacts reads dbt's artifacts (manifest.json, catalog.json,
// run_results.json and sources.json) of every schema version into one
// normalised model, joins them, and summarises them for `artifacts inspect`.
//
// The readers are hand-written over jsontext's streaming Decoder rather than
// generated structs or a JSON library's Unmarshal, because no library streams
// dbt manifests tolerantly across versions: manifests of large projects run to
// hundreds of megabytes, mostly code that many callers do not need; dbt
// changes field types between minor releases without a new schema version
// (meta.owner string or object, version number or string, tags string or
// list, null where objects used to be); and dbt Fusion writes v12-shaped files
// with its own variations. A struct-based decoder would either fail on those
// or need the whole file in memory. Here every value is read token by token:
// memory grows with what the model keeps, unwanted values are skipped without
// being materialised (see SkipCode), unknown keys and enum values are ignored
// or kept as read, and a field of an unexpected type reads as its zero value.
//
// Field handling does not depend on the schema version, so metadata may come
// before or after the node sections. The version is reported in Metadata and
// only consulted to reject a file of another artifact kind; files without a
// dbt_schema_version are recognised by shape.
//
// Every reader detects gzip input by its magic bytes. Errors are *Error values
// naming the file (when known) and the byte offset where reading stopped; no
// input makes a reader panic (fuzzed).
package artifacts
