package model

import (
	"time"
)

// decodeGroup reads a group of a bundle or a PUT body.
func decodeGroup(o *object, g *Group) {
	g.ID, _ = o.integer("id")
	g.Name, _ = o.str("name")
	g.Attributes = decodeAttributes(o)
}

// decodeUser reads a user of a bundle or a PUT body; p is the user's path.
func decodeUser(o *object, u *User, p Path) ErrorList {
	u.ID, _ = o.integer("id")
	u.Name, _ = o.str("name")
	errs := decodeCredential(o, u, p)
	if perms, ok := o.strings("permissions"); ok && len(perms) > 0 {
		u.Permissions = make([]Permission, len(perms))
		for j, s := range perms {
			u.Permissions[j] = Permission(s)
		}
	}
	if groups, ok := o.strings("groups"); ok && len(groups) > 0 {
		u.Groups = groups
	}
	u.Attributes = decodeAttributes(o)
	return errs
}

// DecodeDataSource decodes and validates one data source in the bundle's shape
// (the body of PUT /tollgate/v1/dataSources/{id}). id is the path's id: a body
// without id takes it, a body naming another is an error. A missing createdAt is
// left zero (the engine then uses its clock).
func DecodeDataSource(data []byte, lim Limits, id int64) (*DataSource, error) {
	return decodeEntity(data, lim, id, func(o *object, ds *DataSource) (int64, ErrorList) {
		decodeDataSource(o, ds, time.Time{})
		if _, given := o.get("id"); !given {
			ds.ID = id
		}
		return ds.ID, nil
	}, func(ds *DataSource) ErrorList { return ValidateDataSource(ds, "") })
}

// DecodeUser decodes and validates one user in the bundle's shape (the body of
// PUT /tollgate/v1/users/{id}); apiKey is hashed at once. id as DecodeDataSource.
func DecodeUser(data []byte, lim Limits, id int64) (*User, error) {
	return decodeEntity(data, lim, id, func(o *object, u *User) (int64, ErrorList) {
		errs := decodeUser(o, u, "")
		if _, given := o.get("id"); !given {
			u.ID = id
		}
		return u.ID, errs
	}, func(u *User) ErrorList { return ValidateUser(u, "") })
}

// DecodeGroup decodes and validates one group in the bundle's shape (the body of
// PUT /tollgate/v1/groups/{id}). id as DecodeDataSource.
func DecodeGroup(data []byte, lim Limits, id int64) (*Group, error) {
	return decodeEntity(data, lim, id, func(o *object, g *Group) (int64, ErrorList) {
		decodeGroup(o, g)
		if _, given := o.get("id"); !given {
			g.ID = id
		}
		return g.ID, nil
	}, func(g *Group) ErrorList { return ValidateGroup(g, "") })
}

func decodeEntity[T any](data []byte, lim Limits, id int64, read func(*object, *T) (int64, ErrorList),
	validate func(*T) ErrorList) (*T, error) {
	var later ErrorList
	v, err := decodeBody(data, lim, func(o *object) *T {
		out := new(T)
		got, errs := read(o, out)
		later = append(later, errs...)
		if got != id {
			later = append(later, Invalid("id", got, "must be the id of the path or be left out"))
		}
		return out
	})
	if err != nil {
		return nil, mergeErrors(Errors(err), later)
	}
	if errs := mergeErrors(later, validate(v)); len(errs) > 0 {
		return nil, errs
	}
	return v, nil
}

// DataSourceResponse renders a data source in the bundle's shape.
func DataSourceResponse(ds *DataSource) any { return dataSourceOf(ds) }

func dataSourceOf(ds *DataSource) dataSourceJSON {
	dj := dataSourceJSON{ID: ds.ID, Name: ds.Name, Owners: ds.Owners, Tags: ds.Tags,
		Server: ds.Server, Database: ds.Database, Schema: ds.Schema, Table: ds.Table,
		CreatedAt: dateOrEmpty(ds.CreatedAt), SelectedPolicies: ds.SelectedPolicies}
	for _, c := range ds.Columns {
		dj.Columns = append(dj.Columns, columnJSON(c))
	}
	for _, d := range ds.Domains {
		dj.Domains = append(dj.Domains, domainJSON(d))
	}
	for _, d := range ds.DisabledPolicies {
		dj.DisabledPolicies = append(dj.DisabledPolicies, disabledJSON(d))
	}
	return dj
}

// UserResponse renders a user in the bundle's shape without any credential: an
// API key is write-only.
func UserResponse(u *User) any {
	return userJSON{ID: u.ID, Name: u.Name, Permissions: u.Permissions, Groups: u.Groups, Attributes: u.Attributes}
}

// GroupResponse renders a group in the bundle's shape.
func GroupResponse(g *Group) any {
	return groupJSON{ID: g.ID, Name: g.Name, Attributes: g.Attributes}
}
