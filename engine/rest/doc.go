// Package rest serves the Tollgate HTTP API over an engine.Engine with net/http:
// Immuta's global policy, access and approval endpoints, Tollgate's own endpoints
// under /tollgate/v1, and the operations endpoints. docs/api.md describes every
// endpoint with an example; OpenAPI returns the OpenAPI 3 document the handler
// serves at GET /openapi.json.
//
// NewHandler returns an http.Handler routing every endpoint with method and path
// patterns:
//
//	POST   /bim/apikey/authenticate                 a token for an API key (no credentials)
//	POST   /api/v2/policy?dryRun=&reCertify=        create; answers the v2 shape
//	POST   /policy/global                           create; answers the v1 shape
//	GET    /policy/global?offset=&size=&...         list (filters, sort, paging, nameOnly)
//	GET    /policy/global/{policyId}                read (v1 shape)
//	GET    /policy/global/appliedTo/{policyId}      where the policy applies now
//	PUT    /policy/global/{policyId}?reCertify=     replace (v1 shape)
//	DELETE /policy/global/{policyId}                delete (v1 shape, deleted: true)
//	POST   /policy/global/applyPolicy               apply an owner-selected policy
//	POST   /dataSource/{id}/access                  request or manual grant
//	GET    /dataSource/{id}/access?states=&...      the records the caller may see
//	PUT    /dataSource/{id}/access/{recordId}       change or revoke a record
//	DELETE /dataSource/{id}/unsubscribe             end the caller's own access there
//	GET    /subscription/getPendingRequestsForUser  what the caller may approve now
//	POST   /subscription/approve                    approve requests (per entry)
//	POST   /subscription/deny                       deny requests (per entry)
//	PUT    /tollgate/v1/dataSources/{id}            create or replace a data source (DELETE removes it)
//	PUT    /tollgate/v1/users/{id}                  create or replace a user (DELETE removes it)
//	PUT    /tollgate/v1/groups/{id}                 create or replace a group (DELETE removes it)
//	GET    /tollgate/v1/decision?user=&dataSource=  a decision with every reason
//	GET    /tollgate/v1/users/{id}/dataSources      where a user holds a level
//	GET    /tollgate/v1/dataSources/{id}/users      who holds a level there
//	GET    /tollgate/v1/changes?since=&limit=&wait= the change feed
//	GET    /tollgate/v1/export                      the whole state as a bundle
//	GET    /healthz, /readyz, /metrics, /openapi.json
//
// The Authorization header carries an API key, or "Bearer " and an API key or a
// token from POST /bim/apikey/authenticate {"apikey": K} (random, 256 bits, valid
// for WithTokenTTL, default one hour, kept in memory only). An Authenticator maps
// keys to users: EngineKeys compares the key's SHA-256 with the users' APIKeyHash
// in constant time. Keys and tokens are never logged or answered (see
// docs/security.md, Credentials).
//
// Bodies are JSON (application/json, also assumed without Content-Type) or YAML
// (application/yaml, text/yaml); any other media type is 415. Known query
// parameters are validated (a bad value or a repeat is 400 naming query.NAME;
// booleans take any letter case); unknown ones are ignored, except a case variant
// of a known one and a dryRun on a write that has none, which are 400 (see
// docs/api.md, Query parameters). Checks run in the order 401, 403 (what the
// caller's role alone refuses), 404, 415, 400, 422 (a taken policyKey, with the
// vendor's validation list). Every answer carries X-Tollgate-Revision.
//
// Every error is answered as {"statusCode": N, "error": "<status text>",
// "message": "..."}, where message names every problem with its field path. Bad input
// never yields a 5xx; a panic in a handler is recovered, logged and answered 500.
// Metrics (requests by route and status, latency, decisions, writes, the revision)
// are served from a Prometheus registry of the handler's own.
package rest
