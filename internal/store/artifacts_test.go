package store_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dbtlink/dbtlink/internal/store"
	"github.com/google/go-cmp/cmp"
)

// randomBody returns n bytes no compression or chunk boundary flatters.
func randomBody(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	_, _ = r.Read(b)
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestArtifacts(t *testing.T) {
	t.Parallel()
	eachWithClock(t, func(t *testing.T, s *store.Store, clk *clock) {
		ctx := t.Context()
		run, err := s.CreateRun(ctx, newRun("m"))
		must(t, err)

		// 3.5 MiB: three full chunks and a half one. OneByteReader makes
		// PutArtifact assemble chunks from short reads.
		body := randomBody(3<<20+1<<19, 1)
		a, err := s.PutArtifact(ctx, run.ID, "manifest.json", iotest.OneByteReader(bytes.NewReader(body)))
		must(t, err)
		want := store.Artifact{RunID: run.ID, Path: "manifest.json", Size: int64(len(body)), SHA256: sum(body), StoredAt: stored(clk.Now())}
		if diff := cmp.Diff(want, a); diff != "" {
			t.Errorf("PutArtifact (-want +got):\n%s", diff)
		}
		got, rc, err := s.OpenArtifact(ctx, run.ID, "manifest.json")
		must(t, err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("OpenArtifact (-want +got):\n%s", diff)
		}
		// iotest.TestReader reads in odd sizes and checks EOF behaviour.
		if err := iotest.TestReader(rc, body); err != nil {
			t.Errorf("reading the artifact: %v", err)
		}
		must(t, rc.Close())

		// A re-put replaces the body, shorter this time, and the old
		// chunks go.
		small := []byte(`{"metadata":{}}`)
		_, err = s.PutArtifact(ctx, run.ID, "manifest.json", bytes.NewReader(small))
		must(t, err)
		got, rc, err = s.OpenArtifact(ctx, run.ID, "manifest.json")
		must(t, err)
		data, err := io.ReadAll(rc)
		must(t, err)
		if !bytes.Equal(data, small) || got.Size != int64(len(small)) || got.SHA256 != sum(small) {
			t.Errorf("after replacing: %+v, body %q", got, data)
		}
		var chunks int
		must(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM artifact_chunks`).Scan(&chunks))
		if chunks != 1 {
			t.Errorf("%d chunks stored after replacing, want 1", chunks)
		}

		// An empty body is an artifact too.
		_, err = s.PutArtifact(ctx, run.ID, "catalog.json", strings.NewReader(""))
		must(t, err)
		_, rc, err = s.OpenArtifact(ctx, run.ID, "catalog.json")
		must(t, err)
		if data, err := io.ReadAll(rc); err != nil || len(data) != 0 {
			t.Errorf("empty artifact read as %q, %v", data, err)
		}

		list, err := s.ListArtifacts(ctx, run.ID)
		must(t, err)
		if len(list) != 2 || list[0].Path != "catalog.json" || list[1].Path != "manifest.json" {
			t.Errorf("ListArtifacts = %+v", list)
		}

		_, _, err = s.OpenArtifact(ctx, run.ID, "sources.json")
		wantErr(t, err, store.ErrNotFound)
		_, err = s.PutArtifact(ctx, 999999, "manifest.json", strings.NewReader("{}"))
		wantErr(t, err, store.ErrNotFound)
	})
}

func TestPutArtifactReadErrorStoresNothing(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		run, err := s.CreateRun(ctx, newRun("m"))
		must(t, err)
		_, err = s.PutArtifact(ctx, run.ID, "run_results.json", strings.NewReader("old"))
		must(t, err)

		boom := errors.New("connection reset")
		r := io.MultiReader(bytes.NewReader(randomBody(2<<20, 2)), iotest.ErrReader(boom))
		_, err = s.PutArtifact(ctx, run.ID, "run_results.json", r)
		wantErr(t, err, boom)

		_, rc, err := s.OpenArtifact(ctx, run.ID, "run_results.json")
		must(t, err)
		data, err := io.ReadAll(rc)
		must(t, err)
		if string(data) != "old" {
			t.Errorf("after a failed re-put the artifact reads %d bytes, want the old body", len(data))
		}
	})
}

func TestArtifactReplacedWhileRead(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		run, err := s.CreateRun(ctx, newRun("m"))
		must(t, err)
		_, err = s.PutArtifact(ctx, run.ID, "manifest.json", bytes.NewReader(randomBody(3<<20, 3)))
		must(t, err)
		_, rc, err := s.OpenArtifact(ctx, run.ID, "manifest.json")
		must(t, err)
		defer rc.Close()
		if _, err := io.ReadFull(rc, make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
		// Same size, other bytes: only the hash can tell.
		_, err = s.PutArtifact(ctx, run.ID, "manifest.json", bytes.NewReader(randomBody(3<<20, 4)))
		must(t, err)
		if _, err := io.ReadAll(rc); err == nil || !strings.Contains(err.Error(), "replaced") {
			t.Fatalf("reading on after a replacement: err = %v, want one saying the body was replaced", err)
		}
	})
}
