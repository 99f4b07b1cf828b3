package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// envGitHubOutput names the file GitHub Actions reads step outputs from.
const envGitHubOutput = "GITHUB_OUTPUT"

// writeGitHubOutputs appends name=value pairs to $GITHUB_OUTPUT when running
// in GitHub Actions (the variable is set) and does nothing otherwise, so a
// workflow can use steps.<id>.outputs.run_id. Pairs are given as name,
// value, name, value, ...
func writeGitHubOutputs(getenv func(string) string, pairs ...string) error {
	path := getenv(envGitHubOutput)
	if path == "" {
		return nil
	}
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		name, value := pairs[i], pairs[i+1]
		if !strings.ContainsAny(value, "\r\n") {
			fmt.Fprintf(&b, "%s=%s\n", name, value)
			continue
		}
		// Multi-line values use GitHub's heredoc form with a delimiter
		// that cannot occur in the value.
		var r [8]byte
		_, _ = rand.Read(r[:])
		delim := "ghadelimiter_" + hex.EncodeToString(r[:])
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write GitHub Actions outputs to $%s (%s): %w", envGitHubOutput, path, err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		_ = f.Close()
		return fmt.Errorf("write GitHub Actions outputs to $%s (%s): %w", envGitHubOutput, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write GitHub Actions outputs to $%s (%s): %w", envGitHubOutput, path, err)
	}
	return nil
}
