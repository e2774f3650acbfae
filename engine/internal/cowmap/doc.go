// Package cowmap holds the engine's persistent (copy-on-write) maps: Map, keyed by
// int64, and Str, keyed by string. A published map is immutable and safe for
// concurrent reads; changes go through an Edit (StrEdit), which copies only the
// shards it touches and returns a new map from Done. The base map never changes.
package cowmap
