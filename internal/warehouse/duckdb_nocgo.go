//go:build !cgo

package warehouse

import (
	"context"
	"fmt"
)

func init() { register(duckAdapter{}) }

// duckAdapter without cgo: DuckDB's driver wraps its C++ library, so a
// binary built with CGO_ENABLED=0 cannot open DuckDB files. The adapter is
// still registered so that configuring a DuckDB connection gives this
// explanation rather than "unknown type".
type duckAdapter struct{}

func (duckAdapter) Type() Type { return DuckDB }

func (duckAdapter) Open(ctx context.Context, cfg Config, secret string) (Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, &ConnectError{
		Warehouse: cfg.Name,
		Reason:    ErrNoCgo,
		Message:   "this dbtlink was built without cgo (CGO_ENABLED=0); DuckDB needs cgo: rebuild with a C compiler",
		Detail:    fmt.Sprintf("file %s", cfg.DSN),
	}
}
