// Package server is the HTTP API of `dbtlink serve`: a team's durable
// service that triggers dbt Cloud runs and follows them to their end. It
// only translates HTTP to the calls of a [Backend] (the tracker) and back;
// it keeps no state but a per-token "last used" throttle.
//
// # Routes
//
// Every route but the health probes needs Authorization: Bearer <token>,
// with at least the scope shown (admin includes write, write includes
// read). The webhook receiver is authenticated by dbt Cloud's HMAC
// signature instead.
//
//	GET    /healthz                                   open    liveness: always {"status":"ok"}
//	GET    /readyz                                    open    readiness: 200, or 503 with the reason
//	GET    /metrics                                   read    Prometheus metrics (the whole registry)
//	GET    /api/v1/openapi.json                       read    the OpenAPI 3.0 document of this API
//	GET    /api/v1/connections                        read    list connections (never their tokens)
//	POST   /api/v1/connections                        admin   add a connection (its token is write-only)
//	DELETE /api/v1/connections/{name}                 admin   remove a connection
//	POST   /api/v1/connections/{name}/test            write   diagnose host, token and account
//	GET    /api/v1/connections/{name}/jobs            read    list jobs (?project_id= &environment_id= &name=)
//	GET    /api/v1/connections/{name}/jobs/{id}       read    get a job
//	GET    /api/v1/runs                               read    list runs (?connection= &job_id= &state=a,b &before= &limit=)
//	POST   /api/v1/runs                               write   trigger a job and follow the run
//	GET    /api/v1/runs/{id}                          read    get a run; ?wait=30s long-polls until it is done
//	POST   /api/v1/runs/{id}/cancel                   write   cancel a run (202)
//	GET    /api/v1/runs/{id}/artifacts                read    list a run's stored artifacts
//	GET    /api/v1/runs/{id}/artifacts/{path...}      read    download one
//	POST   /webhooks/dbt-cloud/{connection}           HMAC    dbt Cloud webhook deliveries
//
// The routes, bodies and answers are described by openapi.json, embedded
// and served at /api/v1/openapi.json; a test runs every route through the
// real handlers and validates requests and answers against it, so the
// document cannot drift from the code.
//
// # Tokens
//
// [GenerateToken] makes tokens ("dbtl_" and 256 random bits) for
// `dbtlink token create`; the store keeps only their SHA-256
// ([HashToken]), and a request's token is found by that hash.
//
// # Errors
//
// Every error answer is {"error": {"code": ..., "message": ...}}, the code
// being one of not_found, unauthorized, forbidden, bad_request, conflict,
// too_large, method_not_allowed, upstream (dbt Cloud failed: 502), timeout
// (504) or internal (500). Internal errors are logged with a request id,
// which the message and the X-Request-Id header carry; their details never
// reach the client.
//
// # Serving
//
// [Server] is an http.Handler. The http.Server around it should set
// ReadHeaderTimeout, and a WriteTimeout longer than Config.MaxWait so that
// long polls can finish.
package server
