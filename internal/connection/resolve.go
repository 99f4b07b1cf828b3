package connection

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoConnection is matched by the Resolve error when no connection is
// configured anywhere.
var ErrNoConnection = errors.New("no dbt Cloud connection configured")

// ErrAmbiguous is matched by the Resolve error when several connections are
// stored, none is the default and no name was given.
var ErrAmbiguous = errors.New("several connections and none chosen")

// Resolve picks the connection a command should use:
//
//  1. name, when given: the stored connection of that name; "env" also
//     means the DBT_CLOUD_* variables when no stored connection has that
//     name;
//  2. else DBTLINK_CONNECTION, read the same way as name;
//  3. else the DBT_CLOUD_* variables, when any of them is set (an
//     incomplete set is an error, not a silent fallback);
//  4. else the stored default connection, or the only stored connection.
//
// Otherwise the error matches [ErrNoConnection] or [ErrAmbiguous] and says
// what to do.
func (s *Store) Resolve(name string) (*Connection, error) {
	if name != "" {
		return s.byName(name)
	}
	if v := strings.TrimSpace(s.getenv(EnvConnection)); v != "" {
		c, err := s.byName(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvConnection, v, err)
		}
		return c, nil
	}
	if c, ok, err := FromEnv(s.getenv); ok {
		return c, err
	}
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	switch len(list) {
	case 0:
		return nil, fmt.Errorf("%w: add one with `dbtlink connection add NAME --host HOST --account-id ID` (token on standard input), import one from Airflow with `dbtlink connection import-airflow`, or set %s, %s and %s",
			ErrNoConnection, EnvHost, EnvAccountID, EnvToken)
	case 1:
		return s.Get(list[0].Name)
	}
	names := make([]string, len(list))
	for i, c := range list {
		if c.Default {
			return s.Get(c.Name)
		}
		names[i] = c.Name
	}
	return nil, fmt.Errorf("%w: %d connections are stored (%s) and none is the default; pass --connection NAME, set %s, or choose a default with `dbtlink connection default NAME`",
		ErrAmbiguous, len(list), strings.Join(names, ", "), EnvConnection)
}

func (s *Store) byName(name string) (*Connection, error) {
	c, err := s.Get(name)
	if err == nil || name != EnvConnectionName || !errors.Is(err, ErrNotFound) {
		return c, err
	}
	c, ok, err := FromEnv(s.getenv)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("connection %q means the %s, %s and %s variables, and none is set", EnvConnectionName, EnvHost, EnvAccountID, EnvToken)
	}
	return c, nil
}
