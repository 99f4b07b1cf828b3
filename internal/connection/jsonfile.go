package connection

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
)

// The connections file and the warehouses file are read, checked, locked
// and written alike; these are the steps they share.

// readJSONFile decodes the JSON document at path into v and checks it with
// check. found is false (and v untouched) when there is no file. A file
// that cannot be used is a *CorruptError, so that it is never overwritten.
func readJSONFile(path string, v any, check func() error) (found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return false, &CorruptError{Path: path, Problem: "permission denied (check its owner; its mode should be 0600)", Err: err}
		}
		return false, &CorruptError{Path: path, Problem: "it cannot be read: " + err.Error(), Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return false, &CorruptError{Path: path, Problem: "it is not valid JSON (" + describeJSONError(err, data) + ")", Err: err}
	}
	if dec.More() {
		return false, &CorruptError{Path: path, Problem: "it has data after the JSON document"}
	}
	if err := check(); err != nil {
		return false, &CorruptError{Path: path, Problem: err.Error()}
	}
	return true, nil
}

// writeJSONFile writes v, indented, to path atomically; what names the
// content in errors.
func writeJSONFile(path, what string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("save %s: %w", what, err)
	}
	return nil
}

// checkVersion checks the version field of a file this dbtlink writes at
// version latest.
func checkVersion(version, latest int) error {
	switch {
	case version == 0:
		return errors.New(`it has no "version" field`)
	case version > latest:
		return fmt.Errorf("it is version %d, written by a newer dbtlink; upgrade dbtlink", version)
	case version < 0:
		return fmt.Errorf("it has an invalid version %d", version)
	}
	return nil
}

// mutateFile loads a file under the store's lock, lets fn change it and
// saves it. If the file cannot be loaded nothing is written.
func mutateFile[F any](s *Store, load func() (*F, error), save func(*F) error, fn func(*F) error) error {
	return s.withLock(func() error {
		f, err := load()
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		return save(f)
	})
}

// sortedNames returns the names of records, sorted.
func sortedNames[R any](records []R, name func(R) string) []string {
	out := make([]string, len(records))
	for i, r := range records {
		out[i] = name(r)
	}
	slices.Sort(out)
	return out
}
