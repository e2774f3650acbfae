// Package merge merges the outcomes of the policies that apply to one data source
// at one access level: Merger without allocating (the decision path), MergeLevel
// with the approval slots a request needs, CombineReadWrite for "WRITE implies
// READ". See docs/semantics.md, Merging.
package merge
