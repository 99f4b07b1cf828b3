package orchestrate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dbtlink/dbtlink/dbtcloud"
	"github.com/dbtlink/dbtlink/dbtcloud/emulator"
	"github.com/dbtlink/dbtlink/internal/orchestrate"
)

func TestResolveJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name   string
		ref    orchestrate.JobRef
		wantID int64
		// For failures: the error type, the level, the candidate ids (in
		// order) and a phrase of the message.
		wantNotFound  bool
		wantAmbiguous bool
		wantLevel     string
		wantCands     []int64
		wantMsg       string
		wantErrIs     error
	}{
		{name: "by id", ref: orchestrate.JobRef{ID: emulator.DemoFailingJobID}, wantID: emulator.DemoFailingJobID},
		{name: "by names", ref: orchestrate.JobRef{Project: "analytics", Environment: "Production", Job: "daily build"}, wantID: emulator.DemoDailyJobID},
		{name: "exact project beats substring match", ref: orchestrate.JobRef{Project: "analytics_legacy", Environment: "Production", Job: "daily build"}, wantID: emulator.DemoLegacyJobID},
		{name: "case-insensitive fallback", ref: orchestrate.JobRef{Project: "ANALYTICS", Environment: "staging", Job: "Daily Build"}, wantID: emulator.DemoStagingJobID},
		{name: "exact case beats folded twin", ref: orchestrate.JobRef{Project: "analytics", Environment: "Staging", Job: "hourly"}, wantID: hourlyLow},
		{name: "unknown id", ref: orchestrate.JobRef{ID: 999999}, wantErrIs: dbtcloud.ErrNotFound},
		{
			name: "no such project lists all projects", ref: orchestrate.JobRef{Project: "marketing", Environment: "Production", Job: "daily build"},
			wantNotFound: true, wantLevel: "project", wantCands: []int64{emulator.DemoProjectID, emulator.DemoLegacyProjectID},
			wantMsg: `no project named "marketing"; projects there: "analytics" (id 101), "analytics_legacy" (id 102)`,
		},
		{
			name: "no such environment lists near misses", ref: orchestrate.JobRef{Project: "analytics", Environment: "Prod", Job: "daily build"},
			wantNotFound: true, wantLevel: "environment", wantCands: []int64{emulator.DemoProductionEnvID},
			wantMsg: `no environment named "Prod" in project "analytics"; environments whose names contain it: "Production" (id 201) (names must match exactly, but for case)`,
		},
		{
			name: "no such job", ref: orchestrate.JobRef{Project: "analytics", Environment: "Production", Job: "weekly"},
			wantNotFound: true, wantLevel: "job",
			wantCands: []int64{emulator.DemoDailyJobID, emulator.DemoDocsJobID, emulator.DemoFailingJobID, emulator.DemoSlowJobID},
			wantMsg:   `no job named "weekly" in project "analytics", environment "Production"`,
		},
		{
			name: "two jobs with one name", ref: orchestrate.JobRef{Project: "analytics", Environment: "Staging", Job: "nightly"},
			wantAmbiguous: true, wantLevel: "job", wantCands: []int64{nightlyA, nightlyB},
			wantMsg: `2 jobs are named "nightly" in project "analytics", environment "Staging": "nightly" (id 391), "nightly" (id 392)`,
		},
		{
			name: "two jobs equal but for case", ref: orchestrate.JobRef{Project: "analytics", Environment: "Staging", Job: "HOURLY"},
			wantAmbiguous: true, wantLevel: "job", wantCands: []int64{hourlyUp, hourlyLow},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			job, err := orchestrate.ResolveJob(t.Context(), b.client, b.acct, tt.ref)
			var nf *orchestrate.NotFoundError
			var amb *orchestrate.AmbiguousError
			switch {
			case tt.wantErrIs != nil:
				if !errors.Is(err, tt.wantErrIs) {
					t.Fatalf("err = %v, want %v", err, tt.wantErrIs)
				}
				return
			case tt.wantNotFound:
				if !errors.As(err, &nf) {
					t.Fatalf("err = %v, want *NotFoundError", err)
				}
				checkCandidates(t, nf.Level, tt.wantLevel, nf.Candidates, tt.wantCands)
			case tt.wantAmbiguous:
				if !errors.As(err, &amb) {
					t.Fatalf("err = %v, want *AmbiguousError", err)
				}
				checkCandidates(t, amb.Level, tt.wantLevel, amb.Candidates, tt.wantCands)
			default:
				if err != nil {
					t.Fatalf("ResolveJob: %v", err)
				}
				if job.ID != tt.wantID {
					t.Fatalf("resolved job %d (%s), want %d", job.ID, job.Name, tt.wantID)
				}
				return
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("message %q\ndoes not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func checkCandidates(t *testing.T, level, wantLevel string, got []orchestrate.Candidate, want []int64) {
	t.Helper()
	if level != wantLevel {
		t.Errorf("level = %q, want %q", level, wantLevel)
	}
	var ids []int64
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if len(ids) != len(want) {
		t.Fatalf("candidates %v, want ids %v", got, want)
	}
	for i := range ids {
		if ids[i] != want[i] {
			t.Fatalf("candidates %v, want ids %v", got, want)
		}
	}
}

func TestResolveJobNeedsAllNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := orchestrate.ResolveJob(t.Context(), b.client, b.acct, orchestrate.JobRef{Project: "analytics", Job: "daily build"})
	if err == nil || !strings.Contains(err.Error(), "all three") {
		t.Fatalf("err = %v, want a message asking for all three names", err)
	}
}
