package cli

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes, documented in `dbtlink --help` and the README. Scripts and CI
// branch on them, so they never change meaning.
const (
	ExitOK           = 0 // success
	ExitRunError     = 1 // the dbt Cloud run ended in error
	ExitUsage        = 2 // bad flags, arguments or configuration
	ExitRunCancelled = 3 // the run was cancelled (by a user, a timeout in dbt Cloud, or us)
	ExitWaitTimeout  = 4 // --timeout passed, or waiting was abandoned with the run left running
	ExitAuth         = 5 // authentication or permission failure
	ExitNotFound     = 6 // an object was not found, or a name matched several
	ExitUpstream     = 7 // dbt Cloud or the network failed after retries
	// ExitInterrupted is the shell's convention for a command stopped by a
	// signal. Waiting commands never use it: they say what became of the run
	// (3 cancelled, 4 left running).
	ExitInterrupted   = 130 // interrupted (Ctrl-C or SIGTERM) before finishing
	exitCodesHelpText = `Exit codes:
    0  success
    1  the dbt Cloud run ended in error
    2  usage or configuration error (bad flags, unreadable file, broken connection store)
    3  the run was cancelled
    4  waiting timed out (--timeout), or waiting was abandoned and the run left running
    5  authentication or permission failure
    6  not found, or a name matched more than one object
    7  dbt Cloud or the network failed after retries
  130  interrupted (Ctrl-C or SIGTERM) before finishing; no run was waited on`
)

// ExitError carries an exit code with the error that caused it. Commands
// return it (wrapped or not) and Main maps it to the process status.
type ExitError struct {
	Code int
	Err  error
	// Silent errors have already been reported to the user (for example a run
	// that failed, whose failure was printed in full), so Main prints nothing.
	Silent bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// withCode wraps err so that the process exits with code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// usageError is for bad flags or arguments: exit 2.
func usageError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// classifiers map errors from the packages the CLI uses to exit codes, most
// specific first: orchestrate's errors wrap client errors, so they are
// asked before the client's.
var classifiers = []func(error) (int, bool){
	classifyOrchestrateError,
	classifyServerStoreError,
	classifyServerClientError,
	classifyConnectionError,
	classifyAPIError,
}

// exitCode decides the process status for an error returned by a command.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	// Before the classifiers: an interrupted HTTP call is a *url.Error, which
	// would otherwise read as a network failure (7).
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	for _, c := range classifiers {
		if code, ok := c(err); ok {
			return code
		}
	}
	return ExitUsage
}
