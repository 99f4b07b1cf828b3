package catalog

import (
	"context"
	"errors"
	"fmt"
)

// withCause adds to err why ctx ended, when it ended with a cause of its
// own that err does not already say: the server's catalog jobs run under
// a deadline whose cause names the timeout and the flag that raises it,
// and a sync or crawl it stopped is recorded with that, not with a bare
// "context deadline exceeded".
func withCause(ctx context.Context, err error) error {
	cause := context.Cause(ctx)
	if err == nil || cause == nil || cause == ctx.Err() || errors.Is(err, cause) {
		return err
	}
	return fmt.Errorf("%w (%v)", err, cause)
}
