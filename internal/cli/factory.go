package cli

import (
	"os"
	"time"
)

// Factory supplies the dependencies of commands. Everything a command might
// not need is a lazy func, so `dbtlink artifacts inspect` never reads the
// connection store, and tests replace any one piece.
type Factory struct {
	IO *IOStreams
	// Getenv reads the environment; tests pass a map-backed func.
	Getenv func(string) string
	// Now is the clock for elapsed times and default causes.
	Now func() time.Time
}

// NewFactory returns the production wiring over io.
func NewFactory(io *IOStreams) *Factory {
	return &Factory{
		IO:     io,
		Getenv: os.Getenv,
		Now:    time.Now,
	}
}
