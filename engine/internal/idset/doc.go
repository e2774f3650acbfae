// Package idset holds persistent sorted sets of int64 ids and maps from an int64
// key to such a set: the inverted lists the engine's bulk queries read (which data
// sources a policy applies to, which users hold a group, ...). A Set is immutable
// once published; an edit copies only the chunks it changes, so a snapshot keeps
// its sets while the next one is built.
package idset
