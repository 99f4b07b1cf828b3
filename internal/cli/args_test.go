package cli

import (
	"strings"
	"testing"
)

// TestArgErrorsNameTheArgument: a missing or extra positional argument is
// named from the command's usage, not cobra's "accepts 1 arg(s), received 0".
func TestArgErrorsNameTheArgument(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "watch"}, "missing RUN_ID (usage: dbtlink run watch RUN_ID"},
		{[]string{"run", "watch", "1", "2"}, "too many arguments: `dbtlink run watch` takes RUN_ID only, got 2 (\"1\" \"2\")"},
		{[]string{"artifact", "get"}, "missing RUN_ID and PATH..."},
		{[]string{"connection", "test", "a", "b"}, "takes at most NAME, got 2"},
		{[]string{"emulator", "x"}, "takes no arguments, got 1"},
		{[]string{"webhook", "subscribe"}, "missing CONNECTION"},
	}
	for _, tt := range tests {
		ios, _, _, errOut := TestStreams()
		f := NewFactory(ios)
		f.Getenv = func(string) string { return "" }
		if code := Run(t.Context(), f, tt.args); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", tt.args, code, ExitUsage)
		}
		if got := errOut.String(); !strings.Contains(got, tt.want) || strings.Contains(got, "arg(s)") {
			t.Errorf("%v: stderr %q, want %q", tt.args, got, tt.want)
		}
	}
}
