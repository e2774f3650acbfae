package rule

import (
	"slices"

	"github.com/tollgate-dev/tollgate/model"
)

// Resource is a data source as the advanced DSL sees it: its tags, the tags of its
// columns, and the values of the variables @hostname (Server), @database, @schema and
// @table. Build it with NewResource; it is never modified afterwards and is safe for
// concurrent reads. An empty string means the data source lacks that value, and a
// variable it lacks never matches.
type Resource struct {
	// ID is the data source id.
	ID int64
	// Tags are the data source's tags.
	Tags []string
	// ColumnTags are the tags of all its columns, deduplicated and sorted.
	ColumnTags []string
	// Server is the host (@hostname).
	Server string
	// Database is the database name (@database).
	Database string
	// Schema is the schema name (@schema).
	Schema string
	// Table is the table name (@table).
	Table string
}

// NewResource builds the Resource of ds. A nil ds yields an empty resource (no tags,
// no variables).
func NewResource(ds *model.DataSource) *Resource {
	r := &Resource{}
	if ds == nil {
		return r
	}
	r.ID = ds.ID
	r.Tags = slices.Clone(ds.Tags)
	var cols []string
	for _, c := range ds.Columns {
		cols = append(cols, c.Tags...)
	}
	slices.Sort(cols)
	r.ColumnTags = slices.Compact(cols)
	r.Server, r.Database, r.Schema, r.Table = ds.Server, ds.Database, ds.Schema, ds.Table
	return r
}
