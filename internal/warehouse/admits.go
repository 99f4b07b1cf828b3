package warehouse

// Admitter returns a function that reports whether a crawl with filter f
// reads table t of schema s in database db, compiling f once. Callers use
// it to tell a table the crawl skipped from one that was dropped.
func (f Filter) Admitter() (func(db, s, t string) bool, error) {
	m, err := compileFilter(f)
	if err != nil {
		return nil, err
	}
	return m.table, nil
}
