package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// chunkSize is the size of the pieces an artifact body is stored in:
// large enough that a 100 MB artifact is a hundred rows, small enough to
// hold one in memory at a time.
const chunkSize = 1 << 20

const artifactColumns = `run_id, path, size, sha256, stored_at`

func scanArtifact(sc interface{ Scan(...any) error }) (Artifact, error) {
	var a Artifact
	err := sc.Scan(&a.RunID, &a.Path, &a.Size, &a.SHA256, scanTime(&a.StoredAt))
	return a, err
}

// PutArtifact stores the body read from r as the artifact path of run
// runID, replacing any artifact of that path, and returns its description.
// A missing run is ErrNotFound. Nothing is stored unless all of r is.
//
// The body goes in 1 MiB chunks within one transaction. On SQLite that
// transaction holds the only connection, so every other use of the store
// waits until r is read to the end: pass a reader that does not wait on
// the network, such as an already downloaded temporary file.
func (q queries) PutArtifact(ctx context.Context, runID int64, path string, r io.Reader) (Artifact, error) {
	var a Artifact
	err := q.atomic(ctx, func(q queries) error {
		var one int
		if err := q.queryRow(ctx, `SELECT 1 FROM runs WHERE id = $1`, runID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no run %d: %w", runID, ErrNotFound)
		} else if err != nil {
			return err
		}
		// The chunks of the old body go with it (ON DELETE CASCADE).
		if _, err := q.exec(ctx, `DELETE FROM artifacts WHERE run_id = $1 AND path = $2`, runID, path); err != nil {
			return err
		}
		now, nowTime := q.nowArg()
		// The row comes first for the chunks' foreign key; size and hash
		// are filled in once the body has been read.
		if _, err := q.exec(ctx, `INSERT INTO artifacts (`+artifactColumns+`) VALUES ($1, $2, 0, '', $3)`, runID, path, now); err != nil {
			return err
		}
		h := sha256.New()
		buf := make([]byte, chunkSize)
		var size int64
		for seq := int64(0); ; seq++ {
			n, err := io.ReadFull(r, buf)
			if n > 0 {
				h.Write(buf[:n])
				size += int64(n)
				// Both drivers copy the argument before Exec returns, so buf
				// can be reused.
				if _, err := q.exec(ctx, `INSERT INTO artifact_chunks (run_id, path, seq, data) VALUES ($1, $2, $3, $4)`,
					runID, path, seq, buf[:n]); err != nil {
					return err
				}
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				return fmt.Errorf("read the body: %w", err)
			}
		}
		a = Artifact{RunID: runID, Path: path, Size: size, SHA256: hex.EncodeToString(h.Sum(nil)), StoredAt: nowTime}
		_, err := q.exec(ctx, `UPDATE artifacts SET size = $3, sha256 = $4 WHERE run_id = $1 AND path = $2`,
			runID, path, a.Size, a.SHA256)
		return err
	})
	if err != nil {
		return Artifact{}, wrap(err, "put artifact %q of run %d", path, runID)
	}
	return a, nil
}

// ListArtifacts returns the artifacts stored for run runID, ordered by
// path; none is an empty list, whether or not the run exists.
func (q queries) ListArtifacts(ctx context.Context, runID int64) ([]Artifact, error) {
	rows, err := q.query(ctx, `SELECT `+artifactColumns+` FROM artifacts WHERE run_id = $1 ORDER BY path`, runID)
	if err != nil {
		return nil, wrap(err, "list artifacts of run %d", runID)
	}
	list, err := collect(rows, scanArtifact)
	if err != nil {
		return nil, wrap(err, "list artifacts of run %d", runID)
	}
	return list, nil
}

// OpenArtifact returns the artifact path of run runID and a reader of its
// body, or ErrNotFound. The reader fetches one chunk at a time, each with
// its own short query under ctx, so an open reader holds no connection
// between reads. It checks the size and SHA-256 at the end, so a body
// replaced while being read fails rather than mixing two versions.
//
// A reader opened on a Tx reads through that transaction: finish with it
// before the transaction ends.
func (q queries) OpenArtifact(ctx context.Context, runID int64, path string) (Artifact, io.ReadCloser, error) {
	a, err := scanArtifact(q.queryRow(ctx, `SELECT `+artifactColumns+` FROM artifacts WHERE run_id = $1 AND path = $2`, runID, path))
	if err != nil {
		return Artifact{}, nil, wrap(err, "open artifact %q of run %d", path, runID)
	}
	return a, &artifactReader{ctx: ctx, q: q, a: a, h: sha256.New()}, nil
}

var errReaderClosed = errors.New("store: read from a closed artifact reader")

type artifactReader struct {
	ctx  context.Context
	q    queries
	a    Artifact
	seq  int64
	buf  []byte // rest of the current chunk
	read int64
	h    hash.Hash
	err  error // sticky: io.EOF at the end
}

func (r *artifactReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.err = r.next()
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.read += int64(n)
	r.h.Write(p[:n])
	return n, nil
}

// next loads the next chunk into r.buf, or checks the whole body and
// returns io.EOF after the last one.
func (r *artifactReader) next() error {
	if r.read >= r.a.Size {
		if r.read > r.a.Size || hex.EncodeToString(r.h.Sum(nil)) != r.a.SHA256 {
			return r.changed()
		}
		return io.EOF
	}
	var data []byte
	err := r.q.queryRow(r.ctx, `SELECT data FROM artifact_chunks WHERE run_id = $1 AND path = $2 AND seq = $3`,
		r.a.RunID, r.a.Path, r.seq).Scan(&data)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return r.changed()
		}
		return fmt.Errorf("store: read artifact %q of run %d: chunk %d: %w", r.a.Path, r.a.RunID, r.seq, err)
	}
	if len(data) == 0 {
		return r.changed()
	}
	r.seq++
	r.buf = data
	return nil
}

func (r *artifactReader) changed() error {
	return fmt.Errorf("store: read artifact %q of run %d: the stored body does not match its size (%d bytes) and SHA-256; it was replaced or deleted while being read, so read it again",
		r.a.Path, r.a.RunID, r.a.Size)
}

func (r *artifactReader) Close() error {
	r.buf, r.err = nil, errReaderClosed
	return nil
}
