// Package memory is an in-process engine.Store: the rows and the change log live in
// memory, so they outlive an engine (Close, Reopen and engine.Open again in the same
// process) but not the process.
package memory
