package artifacts

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func TestReadAhead(t *testing.T) {
	data := make([]byte, 5*readAheadChunk+123)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		src     io.Reader
		want    []byte
		wantErr error
	}{
		{"whole", bytes.NewReader(data), data, nil},
		{"short reads", iotest.HalfReader(bytes.NewReader(data)), data, nil},
		{"empty", bytes.NewReader(nil), []byte{}, nil},
		{"error after data", io.MultiReader(bytes.NewReader(data[:1000]), iotest.ErrReader(errBoom)), data[:1000], errBoom},
		{"truncated gzip", io.MultiReader(bytes.NewReader(data[:10]), iotest.ErrReader(io.ErrUnexpectedEOF)), data[:10], io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ra := newReadAhead(tt.src)
			defer ra.stop()
			got, err := io.ReadAll(iotest.HalfReader(ra))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("read %d bytes, want %d (or different content)", len(got), len(tt.want))
			}
		})
	}
	// Stopping before the end ends the goroutine, which is blocked on a
	// full queue by then.
	ra := newReadAhead(bytes.NewReader(data))
	if _, err := ra.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	ra.stop()
	select {
	case <-ra.done:
	default:
		t.Fatal("the read-ahead goroutine is still running after stop")
	}
}
