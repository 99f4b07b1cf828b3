package cli

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams owns the terminal: every command writes through it and never to
// os.Stdout directly, so tests can capture output and pretend to be a TTY.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	// termWidth is the width of the terminal on stdout, errWidth on
	// stderr; 0 when unknown.
	termWidth, errWidth int
	// notice, when set, takes the warnings written with Warn: a live view
	// that redraws stderr in place sets it while it runs, so a warning does
	// not break its frame. It is set and cleared by the goroutine that
	// starts and ends the view, before and after any other writes.
	notice func(string)
}

// Warn writes a one-line warning to stderr, through the live view when one
// is drawn.
func (s *IOStreams) Warn(msg string) {
	if s.notice != nil {
		s.notice(msg)
		return
	}
	_, _ = io.WriteString(s.ErrOut, msg+"\n")
}

// System returns streams over the process's standard files.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.stdinTTY = isTerminal(os.Stdin)
	s.stdoutTTY = isTerminal(os.Stdout)
	s.stderrTTY = isTerminal(os.Stderr)
	if s.stdoutTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			s.termWidth = w
		}
	}
	if s.stderrTTY {
		if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil {
			s.errWidth = w
		}
	}
	return s
}

// TestStreams returns buffer-backed streams for tests, none of them a TTY.
func TestStreams() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// SetTTY makes the streams claim to be terminals, for tests of TTY output.
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// CanPrompt reports whether the user can be asked a question: both stdin and
// stdout must be terminals, or the question would block a script forever.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY }

// SetWidth sets the terminal width of stdout and stderr, for tests.
func (s *IOStreams) SetWidth(w int) { s.termWidth, s.errWidth = w, w }

// StderrWidth is the width of the terminal on stderr, where live views are
// drawn (stdout may be a pipe: `job run --wait --json | jq`), or 80 when
// it is not known.
func (s *IOStreams) StderrWidth() int {
	if s.errWidth > 0 {
		return s.errWidth
	}
	return 80
}

// TerminalWidth is the width of the terminal, or 80 when it is not known.
func (s *IOStreams) TerminalWidth() int {
	if s.termWidth > 0 {
		return s.termWidth
	}
	return 80
}
