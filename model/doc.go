// Package model holds Tollgate's domain types — policies, data sources, users,
// groups and access records — and everything that turns API payloads into them and
// back: decoding of both policy dialects (/policy/global v1 and /api/v2/policy v2)
// from JSON or YAML into one canonical Policy, strict validation that reports every
// problem with its field path as an ErrorList, and encoding of responses in the
// shapes of the API documentation. It depends only on the standard library and
// sigs.k8s.io/yaml. Values are plain data; once handed to an engine they must not be
// modified. Every function is safe for concurrent use.
//
// Decoding works in three steps. The bytes are parsed (JSON, or YAML converted to
// JSON) into generic values under Limits: payload size, list length, string length
// and nesting depth, each violation reported with its path; duplicate keys are
// errors. The values are then walked field by field with their paths: unknown
// fields, wrong JSON types and dialect-specific rules (v1 subscriptionType,
// exceptions, per-circumstance operators) are reported there. Finally the canonical
// value is checked by the same rules ValidatePolicy applies to policies built in
// Go, with paths named as in the payload's dialect. A field that could not be
// decoded is reported once: a later rule about the same field (or a field inside
// it) is left out. Problems of a JSON payload come in document order; YAML is
// converted to JSON with its keys sorted, so its problems come in key order.
//
// YAML is YAML 1.1 (as sigs.k8s.io/yaml reads it): an unquoted y, n, yes, no, on or
// off is a boolean, so a name or tag with such a value must be quoted.
//
// Regexes and advanced expressions are only checked to be strings here: the
// circumstance and entitlement packages compile them and report with the same
// ErrorList.
package model
