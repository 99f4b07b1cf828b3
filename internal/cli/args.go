package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// nameArgErrors wraps the positional-argument check of every command under
// root so that its error names what is missing or extra, from the
// command's Use line: "missing RUN_ID (usage: dbtlink run watch RUN_ID)"
// instead of cobra's "accepts 1 arg(s), received 0". The check itself
// (how many arguments) stays cobra's, so no command has to repeat it.
func nameArgErrors(root *cobra.Command) {
	for _, c := range root.Commands() {
		nameArgErrors(c)
	}
	check := root.Args
	if check == nil {
		return
	}
	root.Args = func(cmd *cobra.Command, args []string) error {
		err := check(cmd, args)
		if err == nil {
			return nil
		}
		// Only cobra's own checks word their errors by count; a command's
		// own check already says what it wants.
		if msg := err.Error(); strings.Contains(msg, "arg(s)") || strings.HasPrefix(msg, "unknown command") {
			return usageError("%s", argsMessage(cmd, args))
		}
		return err
	}
}

// useArgs reads the positional arguments of a Use line such as
// "get RUN_ID PATH..." or "test [NAME]": required names first, up to the
// first flag or alternative.
func useArgs(use string) (required, optional []string) {
	fields := strings.Fields(use)
	for _, f := range fields[min(1, len(fields)):] {
		if strings.HasPrefix(f, "-") || strings.HasPrefix(f, "(") || f == "|" {
			break
		}
		if strings.HasPrefix(f, "[") {
			optional = append(optional, strings.Trim(f, "[]"))
			continue
		}
		required = append(required, f)
	}
	return required, optional
}

func argsMessage(cmd *cobra.Command, args []string) string {
	required, optional := useArgs(cmd.Use)
	usage := fmt.Sprintf("usage: %s", cmd.UseLine())
	if len(args) < len(required) {
		missing := required[len(args):]
		return fmt.Sprintf("missing %s (%s)", strings.Join(missing, " and "), usage)
	}
	variadic := len(required) > 0 && strings.HasSuffix(required[len(required)-1], "...")
	if !variadic {
		n := len(required) + len(optional)
		takes := "no arguments"
		if n > 0 {
			takes = strings.Join(append(append([]string{}, required...), optional...), " ")
			if len(optional) > 0 && len(required) == 0 {
				takes = "at most " + takes
			} else if n > 0 {
				takes += " only"
			}
		}
		if len(args) > n {
			return fmt.Sprintf("too many arguments: `%s` takes %s, got %d (%s) (%s)", cmd.CommandPath(), takes, len(args), quoteArgs(args), usage)
		}
	}
	return fmt.Sprintf("wrong arguments %s (%s)", quoteArgs(args), usage)
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = fmt.Sprintf("%q", a)
	}
	return strings.Join(q, " ")
}
