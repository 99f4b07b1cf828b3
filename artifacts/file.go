package artifacts

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

// openInput wraps r so that gzip-compressed input is decompressed. Detection
// is by the gzip magic bytes, not the file name: dbt Cloud and CI pipelines
// store artifacts as manifest.json with a gzip body as often as .json.gz.
func openInput(r io.Reader) (io.Reader, func() error, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		return nil, nil, err
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip header: %w", err)
		}
		return zr, zr.Close, nil
	}
	return br, func() error { return nil }, nil
}

// withFile opens path and calls read with options naming the file (unless the
// caller named it). The readers themselves detect gzip.
func withFile(path string, kind Kind, opts []Option, read func(io.Reader, []Option) error) error {
	f, err := os.Open(path)
	if err != nil {
		return &Error{Name: path, Kind: kind, Offset: -1, Err: err}
	}
	defer f.Close()
	// WithName(path) first so that a caller's WithName wins.
	all := append([]Option{WithName(path)}, opts...)
	return read(f, all)
}

// start prepares a reader: options, gzip detection, decoder. The returned
// function releases the gzip reader.
func start(r io.Reader, kind Kind, opts []Option) (*dec, func(), error) {
	o := buildOptions(opts)
	in, closeFn, err := openInput(r)
	if err != nil {
		return nil, nil, &Error{Name: o.name, Kind: kind, Offset: 0, Err: err}
	}
	return newDec(in, kind, o), func() { _ = closeFn() }, nil
}

// readFileAs is withFile for the readers that return one value, so each
// Read*File function is a single call.
func readFileAs[T any](path string, kind Kind, opts []Option, read func(io.Reader, ...Option) (T, error)) (T, error) {
	var v T
	err := withFile(path, kind, opts, func(r io.Reader, opts []Option) error {
		var err error
		v, err = read(r, opts...)
		return err
	})
	return v, err
}
