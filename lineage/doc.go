// Package lineage builds the dependency graph of a dbt project from a normalised
// manifest (package artifacts) and answers lineage questions on it: upstream and
// downstream closures, shortest paths, roots and leaves, and dbt's node selection
// syntax ("+orders", "tag:nightly,resource_type:model", "@stg_orders", ...),
// with dbt's indirect test selection and the resource types `dbt ls` lists
// (SelectWith).
//
// It is hand-written rather than built on a library because no Go library
// implements dbt's selector grammar; the semantics follow dbt-core's graph
// selector and the node selection documentation, with the differences listed on
// Select.
//
// The graph is compact on purpose: unique ids are interned to int32 indices and
// both adjacency directions are stored as CSR (offset + edge slices), so a
// closure over a 20,000-node project is a few microseconds and allocates only its
// result. Visited sets are generation-stamped arrays reused through a pool, so
// concurrent queries on one Graph are safe and cheap.
package lineage
