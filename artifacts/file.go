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
		ra := newReadAhead(zr)
		return ra, func() error { ra.stop(); return zr.Close() }, nil
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

// readAhead inflates gzip input in its own goroutine, a few chunks ahead of
// the decoder, so that on a machine with two cores inflating (a third of
// the work of reading a compressed manifest) runs beside the tokenizer.
type readAhead struct {
	full chan []byte // chunks read, in order
	free chan []byte // chunks the consumer is done with
	quit chan struct{}
	done chan struct{}
	cur  []byte // the chunk being read, returned to free when done
	off  int    // how much of cur was read
	err  error  // the producer's final error, valid once full is closed
}

const (
	readAheadChunk = 256 << 10
	readAheadDepth = 4
)

func newReadAhead(r io.Reader) *readAhead {
	ra := &readAhead{
		full: make(chan []byte, readAheadDepth),
		free: make(chan []byte, readAheadDepth+1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range readAheadDepth + 1 {
		ra.free <- make([]byte, readAheadChunk)
	}
	go func() {
		defer close(ra.done)
		defer close(ra.full)
		for {
			var buf []byte
			select {
			case buf = <-ra.free:
			case <-ra.quit:
				return
			}
			// Fill the chunk; r's own error (io.EOF, or gzip's
			// io.ErrUnexpectedEOF for a truncated file) is passed on as is.
			n := 0
			var err error
			for n < len(buf) && err == nil {
				var m int
				m, err = r.Read(buf[n:])
				n += m
			}
			if n > 0 {
				select {
				case ra.full <- buf[:n]:
				case <-ra.quit:
					return
				}
			}
			if err != nil {
				ra.err = err
				return
			}
		}
	}()
	return ra
}

func (ra *readAhead) Read(p []byte) (int, error) {
	for ra.off == len(ra.cur) {
		if ra.cur != nil {
			ra.free <- ra.cur
			ra.cur = nil
		}
		buf, ok := <-ra.full
		if !ok {
			return 0, ra.err
		}
		ra.cur, ra.off = buf, 0
	}
	n := copy(p, ra.cur[ra.off:])
	ra.off += n
	return n, nil
}

// stop ends the goroutine; the reader must not be used after it.
func (ra *readAhead) stop() {
	close(ra.quit)
	<-ra.done
}
