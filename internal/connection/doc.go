// Package connection manages named connections to dbt Cloud: a name, an
// access host, an account id and an API token.
//
// Connections come from three places:
//
//   - the local store ([Store]), a JSON file under the dbtlink home directory
//     ([DefaultHome]) whose tokens are encrypted with AES-256-GCM;
//   - the environment, the way dbt-cloud-cli reads it ([FromEnv]):
//     DBT_CLOUD_HOST, DBT_CLOUD_API_TOKEN and DBT_CLOUD_ACCOUNT_ID;
//   - Airflow connection variables, AIRFLOW_CONN_<ID> ([ParseAirflow],
//     [ImportAirflow]), so that teams moving from Airflow's dbt Cloud provider
//     can import what they already have.
//
// [Store.Resolve] picks one connection for a command, in a documented order.
//
// # Tokens
//
// A token is a [Token], whose String, GoString, Format, LogValue and
// MarshalJSON methods all redact it, so a token cannot leak through fmt, slog
// or encoding/json by accident. [Token.Reveal] is the one way to get the
// plain value back, for the Authorization header.
//
// Command-line flags must never carry tokens: they end up in shell history,
// in `ps` output visible to every user of the machine and in CI logs. The CLI
// reads tokens from standard input ([ReadToken]), from a terminal prompt with
// echo turned off, or from the environment. [Mask] gives the only form of a
// token fit for display.
//
// # Encryption at rest
//
// Each stored token is sealed with AES-256-GCM under a 32-byte key taken from
// DBTLINK_SECRET_KEY (base64 or hex) or else from the key file "secret.key"
// in the home directory, created with mode 0600 on first use. The associated
// data is the record's random id, so a ciphertext copied into another record
// does not decrypt. Every ciphertext names the id of its key (the first 8 hex
// digits of the key's SHA-256), which lets [Store.RotateKey] move to a new key
// while the previous one is kept as "secret-<keyid>.key" until the user
// deletes it.
//
// # Concurrency and safety
//
// Every change takes an exclusive lock on "connections.lock", reads the file,
// changes it and replaces it atomically (temporary file in the same
// directory, fsync, rename), so two dbtlink processes adding connections at
// once do not lose each other's writes, and a crash leaves either the old or
// the new file. A file that cannot be read or parsed is reported with its
// path and is never overwritten: every write is refused until the user fixes
// or moves it.
package connection
