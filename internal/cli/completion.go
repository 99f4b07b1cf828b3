package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtlink/dbtlink/dbtcloud"
)

// Shell completion: cobra's `dbtlink completion bash|zsh|fish|powershell`
// writes the scripts; this file adds the dynamic part, wired once over the
// whole tree so that commands need not know about it. Values come from the
// connection store and, for job ids and names, from dbt Cloud with one
// quick call (a completion that cannot reach dbt Cloud offers nothing
// rather than hanging the shell).

// completionTimeout bounds a completion that asks dbt Cloud.
const completionTimeout = 3 * time.Second

// fixedFlagValues are the flags whose values are a fixed list.
var fixedFlagValues = map[string]map[string][]string{
	"lineage":         {"format": {"text", "json", "dot", "mermaid"}, "indirect-selection": {"eager", "cautious", "buildable", "empty"}},
	"run list":        {"status": {"queued", "starting", "running", "success", "error", "cancelled"}},
	"token create":    {"scope": {"read", "write", "admin"}},
	"warehouse add":   {"type": {"postgres", "redshift", "duckdb"}},
	"catalog lineage": {"format": {"text", "json", "dot", "mermaid"}},
}

// connectionArgCommands take a stored connection's name as first argument.
var connectionArgCommands = map[string]bool{
	"connection show": true, "connection test": true, "connection remove": true, "connection default": true,
	"connection push": true, "webhook subscribe": true,
}

// jobArgCommands take a job id as first argument.
var jobArgCommands = map[string]bool{"job run": true, "job get": true}

func addCompletions(root *cobra.Command, f *Factory) {
	_ = root.RegisterFlagCompletionFunc("connection", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return connectionNames(f), cobra.ShellCompDirectiveNoFileComp
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		path := strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
		for flag, values := range fixedFlagValues[path] {
			fl := c.Flags().Lookup(flag)
			if fl == nil {
				continue
			}
			if strings.HasSuffix(fl.Value.Type(), "Slice") {
				_ = c.RegisterFlagCompletionFunc(flag, listCompletions(values))
				continue
			}
			_ = c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
		switch {
		case connectionArgCommands[path]:
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 && path != "connection push" {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return connectionNames(f), cobra.ShellCompDirectiveNoFileComp
			}
		case jobArgCommands[path]:
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return jobCompletions(cmd.Context(), f, true), cobra.ShellCompDirectiveNoFileComp
			}
			if c.Flags().Lookup("job") != nil {
				_ = c.RegisterFlagCompletionFunc("job", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
					return jobCompletions(cmd.Context(), f, false), cobra.ShellCompDirectiveNoFileComp
				})
			}
		}
	}
	walk(root)
}

// listCompletions completes a comma-separated list flag (--status
// running,queued): the values not yet in the list, after what was typed up
// to its last comma.
func listCompletions(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		done, _ := cutLast(toComplete, ",")
		have := map[string]bool{}
		prefix := ""
		if done != "" {
			prefix = done + ","
			for _, v := range strings.Split(done, ",") {
				have[v] = true
			}
		}
		var out []string
		for _, v := range values {
			if !have[v] {
				out = append(out, prefix+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// cutLast splits s around the last sep: ("a,b,c", ",") is ("a,b", "c");
// without sep it is ("", s).
func cutLast(s, sep string) (before, after string) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+len(sep):]
}

// connectionNames lists the stored connections, the default one described
// as such; nothing when the store cannot be read.
func connectionNames(f *Factory) []string {
	s, err := f.OpenStore()
	if err != nil {
		return nil
	}
	list, err := s.List()
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, c := range list {
		desc := fmt.Sprintf("%s, account %d", strings.TrimPrefix(strings.TrimPrefix(c.Host, "https://"), "http://"), c.AccountID)
		if c.Default {
			desc += ", default"
		}
		out = append(out, c.Name+"\t"+desc)
	}
	return out
}

// jobCompletions lists the jobs of the connection in use: ids described by
// their names, or the names themselves. One page, one attempt, a short
// timeout; nothing on any error (completion must never print one).
func jobCompletions(ctx context.Context, f *Factory, ids bool) []string {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	client, conn, err := f.Client(dbtcloud.WithRetryPolicy(dbtcloud.RetryPolicy{MaxAttempts: 1}), dbtcloud.WithTimeout(completionTimeout))
	if err != nil {
		return nil
	}
	jobs, _, err := client.Jobs.List(ctx, conn.AccountID, &dbtcloud.JobListOptions{ListOptions: dbtcloud.ListOptions{Limit: 100}})
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(jobs))
	for _, j := range jobs {
		if ids {
			out = append(out, strconv.FormatInt(j.ID, 10)+"\t"+j.Name)
		} else {
			out = append(out, j.Name)
		}
	}
	return out
}
