package connection

import (
	"fmt"
	"strconv"
	"strings"
)

// The environment variables dbt-cloud-cli reads, honoured here so existing
// CI setups work unchanged.
const (
	EnvHost      = "DBT_CLOUD_HOST"
	EnvToken     = "DBT_CLOUD_API_TOKEN"
	EnvAccountID = "DBT_CLOUD_ACCOUNT_ID"
	// EnvConnection names the connection to use when none is given.
	EnvConnection = "DBTLINK_CONNECTION"
)

// EnvConnectionName is the name of the connection built from DBT_CLOUD_*.
const EnvConnectionName = "env"

// FromEnv builds the "env" connection from DBT_CLOUD_HOST,
// DBT_CLOUD_API_TOKEN and DBT_CLOUD_ACCOUNT_ID. ok is false when none of them
// is set. When only some are set the error names the missing ones, except
// DBT_CLOUD_HOST, which defaults to cloud.getdbt.com as in dbt-cloud-cli.
func FromEnv(getenv func(string) string) (c *Connection, ok bool, err error) {
	host := strings.TrimSpace(getenv(EnvHost))
	token := strings.TrimSpace(getenv(EnvToken))
	account := strings.TrimSpace(getenv(EnvAccountID))
	if host == "" && token == "" && account == "" {
		return nil, false, nil
	}
	var missing []string
	if token == "" {
		missing = append(missing, EnvToken)
	}
	if account == "" {
		missing = append(missing, EnvAccountID)
	}
	if len(missing) > 0 {
		return nil, true, fmt.Errorf("dbt Cloud environment variables are incomplete: %s not set (set all of %s and %s, and %s unless it is cloud.getdbt.com; or unset them to use a stored connection)",
			strings.Join(missing, " and "), EnvToken, EnvAccountID, EnvHost)
	}
	if host == "" {
		host = DefaultHost
	}
	id, err := parseAccountID(account)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", EnvAccountID, err)
	}
	norm, err := NormalizeHost(host)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", EnvHost, err)
	}
	return &Connection{
		Name: EnvConnectionName, Host: norm, AccountID: id, Token: NewToken(token),
		Source: SourceEnv, Origin: "DBT_CLOUD_* environment variables",
	}, true, nil
}

// parseAccountID reads a positive account id. The error quotes the value:
// account ids are not secret and seeing what was passed is the quickest fix.
func parseAccountID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("account id %q is not a positive number (find it in the dbt Cloud URL: /settings/accounts/<id>)", s)
	}
	return id, nil
}
