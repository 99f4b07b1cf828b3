package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// Wire shapes of the account's connections, repositories and users, and of a project with its related objects.
// Field sets follow the recorded responses (recorded/connection_list_response.json, project_get_response.json)
// plus the fields openapi-v3.yaml requires (BaseConnectionV3Response, RepositoryV3Response, UserResponse).
// Connections and repositories use the recorded space-separated timestamps.

type wireConnection struct {
	ID                      int64          `json:"id"`
	AccountID               int64          `json:"account_id"`
	ProjectID               int64          `json:"project_id"`
	Name                    string         `json:"name"`
	Type                    string         `json:"type"`
	AdapterVersion          *string        `json:"adapter_version"`
	CreatedByID             *int64         `json:"created_by_id"`
	CreatedByServiceTokenID *int64         `json:"created_by_service_token_id"`
	Details                 map[string]any `json:"details"`
	State                   int            `json:"state"`
	PrivateLinkEndpointID   *string        `json:"private_link_endpoint_id"`
	OAuthRedirectURI        *string        `json:"oauth_redirect_uri"`
	OAuthConfigurationID    *int64         `json:"oauth_configuration_id"`
	CreatedAt               *string        `json:"created_at"`
	UpdatedAt               *string        `json:"updated_at"`
}

// wireConnection describes the emulated warehouse: DuckDB, which is none of the spec's built-in connection types,
// so it is an "adapter" connection, as dbt Cloud lists adapters it has no dedicated type for. adapter_version is
// null because the spec's AdapterVersionEnum has no DuckDB entry. The details are dbt-duckdb's profile settings:
// path is the database file, named after the manifest's database as Warehouse's doc says (jaffle_shop.duckdb), so
// that clients which name datasets by connection (OpenLineage's duckdb://{path}) find a real location.
func (e *Emulator) wireConnection(c *connection) wireConnection {
	return wireConnection{
		ID: c.id, AccountID: c.accountID, ProjectID: c.projectID, Name: c.name, Type: "adapter",
		Details: map[string]any{"adapter_type": "duckdb", "path": "jaffle_shop.duckdb", "database": "jaffle_shop",
			"schema": "main", "threads": 4},
		State: stateActive, CreatedAt: runTime(c.createdAt), UpdatedAt: runTime(c.createdAt),
	}
}

type wireDeployKey struct {
	ID        int64  `json:"id"`
	AccountID int64  `json:"account_id"`
	State     int    `json:"state"`
	PublicKey string `json:"public_key"`
}

type wireRepository struct {
	ID                      int64         `json:"id"`
	AccountID               int64         `json:"account_id"`
	ProjectID               int64         `json:"project_id"`
	FullName                string        `json:"full_name"`
	RemoteURL               string        `json:"remote_url"`
	RemoteBackend           string        `json:"remote_backend"`
	GitCloneStrategy        string        `json:"git_clone_strategy"`
	DeployKeyID             int64         `json:"deploy_key_id"`
	RepositoryCredentialsID *int64        `json:"repository_credentials_id"`
	GithubInstallationID    *int64        `json:"github_installation_id"`
	GithubWebhookID         *int64        `json:"github_webhook_id"`
	PullRequestURLTemplate  *string       `json:"pull_request_url_template"`
	PrivateLinkEndpointID   *string       `json:"private_link_endpoint_id"`
	GitProviderID           *int64        `json:"git_provider_id"`
	State                   int           `json:"state"`
	CreatedAt               *string       `json:"created_at"`
	UpdatedAt               *string       `json:"updated_at"`
	DeployKey               wireDeployKey `json:"deploy_key"`
	GithubRepo              *string       `json:"github_repo"`
	Name                    string        `json:"name"`
	WebURL                  *string       `json:"web_url"`
	Gitlab                  any           `json:"gitlab"`
	GitProvider             any           `json:"git_provider"`
	IsPrivateLinkEnabled    bool          `json:"is_private_link_enabled"`
}

// wireRepository describes a repository cloned with a deploy key from a plain git remote ("manual_config"), the
// setup that needs no git provider integration. The host is under .invalid (RFC 2606), so nothing can clone it by
// mistake; the deploy key's public half is derived from the repository id, so it is stable and unique.
func (e *Emulator) wireRepository(rp *repository) wireRepository {
	sum := sha256.Sum256(fmt.Appendf(nil, "dbtlink emulator deploy key %d", rp.id))
	return wireRepository{
		ID: rp.id, AccountID: rp.accountID, ProjectID: rp.projectID, FullName: "dbtlink-emulator/" + rp.name,
		RemoteURL:     fmt.Sprintf("git@git.emulator.invalid:dbtlink-emulator/%s.git", rp.name),
		RemoteBackend: "manual_config", GitCloneStrategy: "deploy_key", DeployKeyID: rp.id + 5_000,
		State: stateActive, CreatedAt: runTime(rp.createdAt), UpdatedAt: runTime(rp.createdAt),
		DeployKey: wireDeployKey{ID: rp.id + 5_000, AccountID: rp.accountID, State: stateActive,
			PublicKey: "ssh-ed25519 " + base64.RawStdEncoding.EncodeToString(sum[:]) + " dbt-cloud-emulator"},
		Name: rp.name,
	}
}

// wireProjectRelated is a project as the v3 project endpoints answer it: with its connection and repository
// objects (the recorded list and get responses carry them), and the docs and freshness jobs when include_related
// names them.
func (e *Emulator) wireProjectRelated(p *project, rel map[string]bool, base string) wireProject {
	wp := e.wireProject(p)
	if p.connID != nil && e.conns[*p.connID] != nil {
		wp.Connection = e.wireConnection(e.conns[*p.connID])
	}
	if p.repoID != nil && e.repos[*p.repoID] != nil {
		wp.Repository = e.wireRepository(e.repos[*p.repoID])
	}
	if rel["docs_job"] && wp.DocsJobID != nil {
		wp.DocsJob = e.wireJob(e.jobs[*wp.DocsJobID], nil, base)
	}
	if rel["freshness_job"] && wp.FreshnessJobID != nil {
		wp.FreshnessJob = e.wireJob(e.jobs[*wp.FreshnessJobID], nil, base)
	}
	return wp
}

type wireLicense struct {
	LicenseType string `json:"license_type"`
	State       int    `json:"state"`
}

type wireUser struct {
	ID                                        int64         `json:"id"`
	FirstName                                 string        `json:"first_name"`
	LastName                                  string        `json:"last_name"`
	Email                                     string        `json:"email"`
	APITokenLastUsed                          *string       `json:"apitoken_last_used"`
	AzureActiveDirectoryConnected             bool          `json:"azure_active_directory_connected"`
	AzureActiveDirectoryTokenRetrievalFailure bool          `json:"azure_active_directory_token_retrieval_failure"`
	AzureActiveDirectoryUsername              *string       `json:"azure_active_directory_username"`
	EmailConnected                            bool          `json:"email_connected"`
	EmailVerified                             bool          `json:"email_verified"`
	EnterpriseConnected                       bool          `json:"enterprise_connected"`
	EnterpriseAuthenticationMethod            *string       `json:"enterprise_authentication_method"`
	GithubConnected                           bool          `json:"github_connected"`
	GithubUsername                            *string       `json:"github_username"`
	GitlabConnected                           bool          `json:"gitlab_connected"`
	GitlabUsername                            *string       `json:"gitlab_username"`
	IsActive                                  bool          `json:"is_active"`
	IsStaff                                   bool          `json:"is_staff"`
	LastLogin                                 *string       `json:"last_login"`
	SSOOnlyUser                               bool          `json:"sso_only_user"`
	GithubTokenRetrievalFailure               bool          `json:"github_token_retrieval_failure"`
	GitlabTokenRetrievalFailure               bool          `json:"gitlab_token_retrieval_failure"`
	CreatedAt                                 string        `json:"created_at"`
	Permissions                               []wireLicense `json:"permissions"`
	AuthProviderInfos                         any           `json:"auth_provider_infos"`
	Licenses                                  []wireLicense `json:"licenses"`
}

// accountUserID is the id of an account's one emulated user, the owner of its personal tokens. User ids live in
// their own range so that they never look like any other object's.
func accountUserID(accountID int64) int64 { return 4_000_000 + accountID }

// wireUser is the account's one user: a developer, Account Admin, who owns the seed's plain (personal) tokens.
func (e *Emulator) wireUser(a *account) wireUser {
	return wireUser{
		ID: accountUserID(a.id), FirstName: "Emulated", LastName: "Owner",
		Email:         fmt.Sprintf("owner+%d@emulator.invalid", a.id),
		EmailVerified: true, EmailConnected: true, IsActive: true, CreatedAt: objTime(a.createdAt),
		LastLogin:   ptr(objTime(a.createdAt)),
		Permissions: []wireLicense{{LicenseType: "developer", State: stateActive}},
		Licenses:    []wireLicense{{LicenseType: "developer", State: stateActive}},
	}
}
