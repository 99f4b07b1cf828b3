package artifacts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// maxDepth is the JSON nesting limit. jsontext enforces 10000 levels itself
// (its maxNestingDepth, not configurable in this release); no dbt artifact
// comes close, and the limit bounds the recursion of the generic-value reader
// on hostile input. The tests check that deeper input fails cleanly.
const maxDepth = 10000

// Error is the error every reader returns for input it cannot read: not JSON,
// truncated, nested too deep, or JSON that is not the expected dbt artifact.
// It names the file (when known) and the byte offset where reading stopped.
type Error struct {
	// Name is the file name, or the name given with WithName; may be empty.
	Name string
	// Kind is the artifact kind the reader expected ("manifest", ...).
	Kind Kind
	// Offset is the byte offset in the (decompressed) input; -1 if unknown.
	Offset int64
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("artifacts: read ")
	if e.Kind == KindUnknown {
		b.WriteString("artifact")
	} else {
		b.WriteString(string(e.Kind))
	}
	if e.Name != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.Name))
	}
	if e.Offset >= 0 {
		b.WriteString(" at byte offset ")
		b.WriteString(strconv.FormatInt(e.Offset, 10))
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrNotArtifact is wrapped by errors for well-formed JSON that is not the
// artifact kind asked for.
var ErrNotArtifact = errors.New("not a dbt artifact of the expected kind")

// Option configures a reader.
type Option func(*options)

type options struct {
	skipCode bool
	name     string
}

// SkipCode makes readers drop raw and compiled SQL/Python. Code is most of a
// manifest's bytes, and callers that only need lineage or catalog data should
// not keep it in memory; the values are skipped without being materialised.
func SkipCode() Option { return func(o *options) { o.skipCode = true } }

// WithName sets the name used in error messages (the file readers set it to
// the path themselves).
func WithName(name string) Option { return func(o *options) { o.name = name } }

func buildOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// dec wraps a jsontext.Decoder with the tolerant primitives the readers share.
// Every primitive accepts any JSON type at its position: a value of an
// unexpected type is skipped and read as the zero value, because dbt changes
// field types between minor releases without bumping the schema version.
type dec struct {
	d      *jsontext.Decoder
	name   string
	kind   Kind
	strs   map[string]string // interned short strings (ids, types, packages)
	buf    []byte            // scratch for unquoting escaped names
	list   []string          // scratch for strList (not re-entrant)
	cols   []Column          // scratch for readColumns (not re-entrant)
	key    []byte            // scratch copy of a column key
	skipCd bool
}

func newDec(r io.Reader, kind Kind, o options) *dec {
	return &dec{
		d: jsontext.NewDecoder(r,
			// dbt never writes duplicate names, and checking costs a set per
			// object; tolerate rather than fail (the last value wins).
			jsontext.AllowDuplicateNames(true),
			// A stray invalid byte in a description must not make a whole
			// manifest unreadable.
			jsontext.AllowInvalidUTF8(true),
		),
		name:   o.name,
		kind:   kind,
		strs:   make(map[string]string, 1024),
		skipCd: o.skipCode,
	}
}

// wrap turns an error into an *Error with the file name and byte offset.
func (d *dec) wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return err
	}
	off := d.d.InputOffset()
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		off = se.ByteOffset
	}
	if err == io.EOF {
		// A top-level read that found nothing: empty input.
		err = fmt.Errorf("empty input: %w", io.ErrUnexpectedEOF)
	}
	if se != nil {
		err = &syntaxError{se: se}
	}
	return &Error{Name: d.name, Kind: d.kind, Offset: off, Err: err}
}

// wrapFirst is wrap for an error in the input's first token.
func (d *dec) wrapFirst(err error) error {
	err = d.wrap(err)
	var se *syntaxError
	if errors.As(err, &se) {
		se.first = true
	}
	return err
}

// syntaxError words a JSON syntax error for people: jsontext's own message
// starts with "jsontext:" and repeats the offset that *Error already gives.
// It unwraps to the *jsontext.SyntacticError.
// first says the error is in the input's first JSON token: the input is
// not JSON at all (a text file, say), rather than broken JSON.
type syntaxError struct {
	se    *jsontext.SyntacticError
	first bool
}

func (e *syntaxError) Error() string {
	msg := "syntax error"
	if e.se.Err != nil {
		msg = e.se.Err.Error()
	}
	if e.first {
		return "not JSON: " + msg
	}
	msg = "invalid JSON: " + msg
	if p := string(e.se.JSONPointer); p != "" {
		if len(p) > 100 {
			p = p[:100] + "..."
		}
		msg += " within " + strconv.Quote(p)
	}
	return msg
}

func (e *syntaxError) Unwrap() error { return e.se }

// errorf reports a shape error at the current offset (the end of the input
// for errors found once the whole artifact was read).
func (d *dec) errorf(format string, args ...any) error {
	return &Error{Name: d.name, Kind: d.kind, Offset: d.d.InputOffset(), Err: fmt.Errorf(format, args...)}
}

func (d *dec) peek() jsontext.Kind { return d.d.PeekKind() }

func (d *dec) skip() error { return d.d.SkipValue() }

// object reads an object member by member, calling fn with each name; fn must
// consume the member's value. The name bytes are only valid until fn reads.
// A null or a value of another type is skipped and treated as an empty object.
func (d *dec) object(fn func(name []byte) error) error {
	if k := d.peek(); k != '{' {
		return d.skip()
	}
	if _, err := d.d.ReadToken(); err != nil {
		return err
	}
	return d.members(fn)
}

// members reads the members of an object whose '{' was consumed, and its '}'.
func (d *dec) members(fn func(name []byte) error) error {
	for {
		k := d.peek()
		if k == '}' {
			_, err := d.d.ReadToken()
			return err
		}
		v, err := d.d.ReadValue()
		if err != nil {
			return err
		}
		if err := fn(d.name_(v)); err != nil {
			return err
		}
	}
}

// array reads an array element by element; fn must consume each element.
// A value of another type is skipped and treated as an empty array.
func (d *dec) array(fn func() error) error {
	if k := d.peek(); k != '[' {
		return d.skip()
	}
	if _, err := d.d.ReadToken(); err != nil {
		return err
	}
	for {
		k := d.peek()
		if k == ']' {
			_, err := d.d.ReadToken()
			return err
		}
		if k == 0 {
			// Let the read report the cached error.
			_, err := d.d.ReadToken()
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if err := fn(); err != nil {
			return err
		}
	}
}

// name_ returns the unquoted content of a raw JSON string without copying
// when it has no escapes (the common case for names).
func (d *dec) name_(v jsontext.Value) []byte {
	if len(v) < 2 {
		return nil
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return v[1 : len(v)-1]
	}
	b, err := jsontext.AppendUnquote(d.buf[:0], v)
	if err != nil {
		return v[1 : len(v)-1]
	}
	d.buf = b
	return b
}

// rawString reads a scalar as bytes: a string's unquoted content, a number's
// or boolean's literal text; null and composite values give nil. The bytes are
// only valid until the next read.
func (d *dec) rawString() ([]byte, error) {
	// ReadValue without a PeekKind first: one scan of the value, and a
	// composite value is consumed whole, which is what skipping it means.
	v, err := d.d.ReadValue()
	if err != nil || len(v) == 0 {
		return nil, err
	}
	switch v[0] {
	case '"':
		if bytes.IndexByte(v, '\\') < 0 {
			return v[1 : len(v)-1], nil
		}
		b, err := jsontext.AppendUnquote(d.buf[:0], v)
		if err != nil {
			return v[1 : len(v)-1], nil
		}
		d.buf = b
		return b, nil
	case '{', '[', 'n':
		return nil, nil
	default:
		return v, nil
	}
}

// str reads a string (or the text of a number or boolean; "" for null).
func (d *dec) str() (string, error) {
	b, err := d.rawString()
	if err != nil || len(b) == 0 {
		return "", err
	}
	return string(b), nil
}

// istr is str for short strings that repeat across nodes (ids, packages,
// schemas, types, tags): one copy is kept per distinct value.
func (d *dec) istr() (string, error) {
	b, err := d.rawString()
	if err != nil || len(b) == 0 {
		return "", err
	}
	return d.intern(b), nil
}

func (d *dec) intern(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	d.strs[s] = s
	return s
}

// strList reads a list of strings, also accepting a single string (older
// dbt versions and hand-edited files write tags: "a"). Elements are collected
// in a scratch slice and copied once, so a list costs one allocation.
func (d *dec) strList() ([]string, error) {
	switch d.peek() {
	case '"':
		s, err := d.istr()
		if err != nil || s == "" {
			return nil, err
		}
		return []string{s}, nil
	case '[':
		tmp := d.list[:0]
		err := d.array(func() error {
			s, err := d.istr()
			if s != "" {
				tmp = append(tmp, s)
			}
			return err
		})
		d.list = tmp[:0]
		if len(tmp) == 0 {
			return nil, err
		}
		return slices.Clone(tmp), err
	default:
		return nil, d.skip()
	}
}

// num reads a number, also from a numeric string; ok is false for null or
// anything unparsable.
func (d *dec) num() (f float64, ok bool, err error) {
	b, err := d.rawString()
	if err != nil || len(b) == 0 {
		return 0, false, err
	}
	f, perr := strconv.ParseFloat(string(b), 64)
	if perr != nil {
		return 0, false, nil
	}
	return f, true, nil
}

// integer reads an integral number; floats are truncated.
func (d *dec) integer() (int, bool, error) {
	f, ok, err := d.num()
	if !ok || err != nil {
		return 0, false, err
	}
	if f > 1<<53 || f < -(1<<53) {
		return 0, false, nil
	}
	return int(f), true, nil
}

// boolean reads true/false, also "true"/"false" strings and numbers (zero is
// false): dbt-bigquery catalogs write stats' include as 1.0; ok is false
// otherwise.
func (d *dec) boolean() (v, ok bool, err error) {
	b, err := d.rawString()
	if err != nil {
		return false, false, err
	}
	switch string(b) {
	case "true", "True":
		return true, true, nil
	case "false", "False":
		return false, true, nil
	}
	if f, perr := strconv.ParseFloat(string(b), 64); perr == nil {
		return f != 0, true, nil
	}
	return false, false, nil
}

// any reads any value into the types encoding/json would produce
// (map[string]any, []any, string, float64, bool, nil). Used for the small
// free-form blocks (meta, kwargs, adapter_response) the model keeps whole.
// Recursion is bounded by the decoder's depth limit.
func (d *dec) any() (any, error) {
	switch d.peek() {
	case '{':
		m := map[string]any{}
		err := d.object(func(name []byte) error {
			k := string(name)
			v, err := d.any()
			m[k] = v
			return err
		})
		return m, err
	case '[':
		a := []any{}
		err := d.array(func() error {
			v, err := d.any()
			a = append(a, v)
			return err
		})
		return a, err
	case '"':
		return d.str()
	case '0':
		v, err := d.d.ReadValue()
		if err != nil {
			return nil, err
		}
		f, perr := strconv.ParseFloat(string(v), 64)
		if perr != nil {
			// Out of float64 range: keep the literal rather than fail.
			return string(v), nil
		}
		return f, nil
	case 't', 'f':
		v, _, err := d.boolean()
		return v, err
	case 'n':
		return nil, d.skip()
	default:
		// Invalid input: the read reports the error.
		_, err := d.d.ReadValue()
		if err == nil {
			err = errors.New("unexpected token")
		}
		return nil, err
	}
}

// anyMap reads an object into a map; other types and empty objects give nil.
// Most meta and config.meta blocks are empty, and not allocating a map for
// them matters on large manifests.
func (d *dec) anyMap() (map[string]any, error) {
	if d.peek() != '{' {
		return nil, d.skip()
	}
	if _, err := d.d.ReadToken(); err != nil {
		return nil, err
	}
	if d.peek() == '}' {
		_, err := d.d.ReadToken()
		return nil, err
	}
	m := map[string]any{}
	err := d.members(func(name []byte) error {
		k := string(name)
		v, err := d.any()
		m[k] = v
		return err
	})
	return m, err
}

// timeLayouts are the timestamp forms seen in artifacts: Python's isoformat
// with and without zone, with "Z", and with a space separator.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
}

// parseTime parses a timestamp in any of the known forms; zero if none fits.
// Timestamps without zone are UTC (dbt writes UTC).
func parseTime(s string) time.Time {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// timeVal reads a timestamp string (or a Unix epoch number); zero if absent.
func (d *dec) timeVal() (time.Time, error) {
	if d.peek() == '0' {
		f, ok, err := d.num()
		if !ok || err != nil {
			return time.Time{}, err
		}
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
	}
	b, err := d.rawString()
	if err != nil || len(b) == 0 {
		return time.Time{}, err
	}
	return parseTime(string(b)), nil
}

// top reads the top-level object; a top-level value of any other type is not
// an artifact. fn must consume each member's value. After the object, only
// whitespace may follow.
func (d *dec) top(fn func(name []byte) error) error {
	switch k := d.peek(); k {
	case '{':
	case 'n', 't', 'f':
		// PeekKind judges by the first byte alone, so a text file that
		// starts with "n" peeks as null: read the literal to tell.
		if _, err := d.d.ReadToken(); err != nil {
			return d.wrapFirst(err)
		}
		return d.errorf("%w: top-level JSON value is %s, not an object", ErrNotArtifact, kindName(k))
	case 0:
		_, err := d.d.ReadToken()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return d.wrapFirst(err)
	default:
		return d.errorf("%w: top-level JSON value is %s, not an object", ErrNotArtifact, kindName(k))
	}
	if err := d.object(fn); err != nil {
		return d.wrap(err)
	}
	// Trailing data after the object (e.g. two documents) is invalid.
	if _, err := d.d.ReadToken(); err != io.EOF {
		if err == nil {
			return d.errorf("unexpected data after the top-level object")
		}
		return d.wrap(err)
	}
	return nil
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "invalid"
}
