// Package model holds Tollgate's domain types — policies, data sources, users,
// groups and access records — and everything that turns API payloads into them and
// back: decoding of both policy dialects (/policy/global v1 and /api/v2/policy v2)
// from JSON or YAML into one canonical Policy, strict validation that reports every
// problem with its field path as an ErrorList, and encoding of responses in the
// shapes of the API documentation. It depends only on the standard library and
// sigs.k8s.io/yaml. Values are plain data; once handed to an engine they must not be
// modified.
package model
