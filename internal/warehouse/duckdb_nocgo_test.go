//go:build !cgo

package warehouse

import (
	"errors"
	"strings"
	"testing"
)

func TestDuckDBWithoutCgo(t *testing.T) {
	a, err := Lookup(DuckDB)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Open(t.Context(), Config{Name: "duck", Type: DuckDB, DSN: "jaffle.duckdb"}, "")
	if !errors.Is(err, ErrNoCgo) || !strings.Contains(err.Error(), "rebuild with a C compiler") {
		t.Errorf("open without cgo: %v", err)
	}
}
