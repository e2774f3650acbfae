// Package rest serves the Tollgate API (DESIGN.md section 6) over an engine.Engine
// with net/http.
//
// NewHandler returns an http.Handler routing every endpoint with Go 1.22 method and
// path patterns:
//
//	POST   /api/v2/policy?dryRun=&reCertify=   create; answers the v2 shape
//	POST   /policy/global                      create; answers the v1 shape
//	GET    /policy/global/{policyId}           read (v1 shape)
//	PUT    /policy/global/{policyId}?reCertify= replace (v1 shape)
//	DELETE /policy/global/{policyId}           delete (v1 shape, deleted: true)
//	POST   /policy/global/applyPolicy          apply an owner-selected policy
//	POST   /dataSource/{id}/access             request or manual grant
//	PUT    /dataSource/{id}/access/{recordId}  change or revoke a record
//	POST   /subscription/approve               approve requests (per entry)
//	POST   /subscription/deny                  deny requests (per entry)
//	POST   /bim/apikey/authenticate            a token for an API key (no credentials)
//
// The Authorization header carries an API key, or "Bearer " and an API key or a
// token from POST /bim/apikey/authenticate {"apikey": K} (random, 256 bits, valid
// for WithTokenTTL, default one hour, kept in memory only). An Authenticator maps
// keys to users: EngineKeys compares the key's SHA-256 with the users'
// APIKeyHash in constant time; keys and tokens are never logged or answered. Bodies are JSON (application/json, also
// assumed when a body comes without Content-Type) or YAML (application/yaml,
// text/yaml); any other media type is 415. A JSON body must be valid JSON and valid
// UTF-8 (an invalid string is 400 naming its field, never stored as U+FFFD); a YAML
// body is read strictly (a duplicate key is 400, as in JSON). A missing or blank
// body counts as {} (the decoders then name every required field).
//
// Checks run in the order 401 (no or unknown key), 403 (what the caller's role alone
// refuses: policy writes need GOVERNANCE, record changes and applyPolicy an owner of
// the data source or GOVERNANCE, checked before the id and the body), 404 (unknown
// policy, record or data source; an unknown data source comes before any owner
// check), 415, 400 (query parameters, body), 409. applyPolicy names its ids in the
// body, so a malformed body is 400 before its ids are looked up. A body larger than the
// limit (WithMaxBodyBytes, default 1 MiB) is answered 413 Payload Too Large. Each
// endpoint accepts exactly the query flags DESIGN.md lists for it (dryRun and
// reCertify on POST /api/v2/policy, reCertify on PUT /policy/global/{policyId});
// any other parameter, a repeated flag or a value other than true or false is 400.
// A path id that is not a positive integer names nothing and is 404.
//
// Every error is answered as {"statusCode": N, "error": "<status text>",
// "message": "..."}, where message names every problem with its field path. Bad input
// never yields a 5xx; a panic in a handler is recovered, logged and answered 500.
package rest
