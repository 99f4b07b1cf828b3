package e2e

// The tests run a dbtlink binary built by TestMain with `go build`, in a
// subprocess that go test's result cache cannot see. Importing the CLI here
// makes its code (and all it uses) part of this test binary, so changing it
// invalidates cached e2e results instead of replaying a stale pass.
import _ "github.com/dbtlink/dbtlink/internal/cli"
