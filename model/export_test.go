package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// This file exports internals to the model_test package (it is compiled only with
// the tests).

// ReferenceEncodeBundle is referenceEncodeBundle, for the tests.
var ReferenceEncodeBundle = referenceEncodeBundle

// ReferenceEncodeBundleElements is referenceEncodeBundleElements, for the tests.
var ReferenceEncodeBundleElements = referenceEncodeBundleElements

// JSON shapes of a bundle, keys in the order of docs/scenarios.md, Bundles.
type bundleJSON struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Now         string            `json:"now,omitempty"`
	Groups      []groupJSON       `json:"groups,omitempty"`
	Users       []userJSON        `json:"users,omitempty"`
	DataSources []dataSourceJSON  `json:"dataSources,omitempty"`
	Policies    []json.RawMessage `json:"policies,omitempty"`
	Grants      []grantJSON       `json:"grants,omitempty"`
	State       json.RawMessage   `json:"state,omitempty"`
}

type grantJSON struct {
	DataSourceID int64       `json:"dataSourceId"`
	ProfileID    int64       `json:"profileId,omitempty"`
	GroupID      int64       `json:"groupId,omitempty"`
	State        RecordState `json:"state"`
	AccessGrant  AccessGrant `json:"accessGrant,omitempty"`
	Expiration   string      `json:"expiration,omitempty"`
}

// referenceEncodeBundleElements is the encoding/json implementation EncodeBundleElements
// replaced, kept as the reference its output must equal. It returns the groups, users and data sources of b, each
// element encoded as compact JSON: the bytes EncodeBundle writes for it, without
// the indentation. It is what stores keep as rows.
func referenceEncodeBundleElements(b *Bundle) (groups, users, dataSources []json.RawMessage, err error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	one := func(v any) (json.RawMessage, error) {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
	}
	groups = make([]json.RawMessage, len(b.Groups))
	for i, g := range b.Groups {
		if groups[i], err = one(groupJSON{ID: g.ID, Name: g.Name, Attributes: g.Attributes}); err != nil {
			return nil, nil, nil, err
		}
	}
	users = make([]json.RawMessage, len(b.Users))
	for i, u := range b.Users {
		if users[i], err = one(userJSON{ID: u.ID, Name: u.Name, APIKeyHash: u.APIKeyHash,
			Permissions: u.Permissions, Groups: u.Groups, Attributes: u.Attributes}); err != nil {
			return nil, nil, nil, err
		}
	}
	dataSources = make([]json.RawMessage, len(b.DataSources))
	for i := range b.DataSources {
		if dataSources[i], err = one(dataSourceOf(&b.DataSources[i])); err != nil {
			return nil, nil, nil, err
		}
	}
	return groups, users, dataSources, nil
}

// referenceEncodeBundle is the encoding/json implementation EncodeBundle replaced,
// kept as the reference its output must equal. It renders b as deterministic, indented JSON, keys in the order of
// docs/scenarios.md (Export format) and empty optional fields left out, that DecodeBundle reads
// back to an equal Bundle (given the defaults DecodeBundle fills: a Go-built bundle
// with a zero Now, data source createdAt or grant accessGrant reads back with the
// default). Policies and state must be valid JSON.
func referenceEncodeBundle(b *Bundle) ([]byte, error) {
	if b == nil {
		return nil, errors.New("model: EncodeBundle of a nil bundle")
	}
	out := bundleJSON{Name: b.Name, Description: b.Description, Now: dateOrEmpty(b.Now),
		Policies: b.Policies, State: b.State}
	for _, g := range b.Groups {
		out.Groups = append(out.Groups, groupJSON{ID: g.ID, Name: g.Name, Attributes: g.Attributes})
	}
	for _, u := range b.Users {
		out.Users = append(out.Users, userJSON{ID: u.ID, Name: u.Name, APIKeyHash: u.APIKeyHash,
			Permissions: u.Permissions, Groups: u.Groups, Attributes: u.Attributes})
	}
	for i := range b.DataSources {
		out.DataSources = append(out.DataSources, dataSourceOf(&b.DataSources[i]))
	}
	for _, g := range b.Grants {
		out.Grants = append(out.Grants, grantJSON{DataSourceID: g.DataSourceID, ProfileID: g.ProfileID,
			GroupID: g.GroupID, State: g.State, AccessGrant: g.AccessGrant, Expiration: dateOrEmpty(g.Expiration)})
	}
	for i, p := range b.Policies {
		if !json.Valid(p) {
			return nil, fmt.Errorf("model: EncodeBundle: policies[%d] is not valid JSON", i)
		}
	}
	if len(b.State) > 0 && !json.Valid(b.State) {
		return nil, errors.New("model: EncodeBundle: state is not valid JSON")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeBundleGeneric is DecodeBundle through the generic decoder only.
func DecodeBundleGeneric(data []byte, lim Limits) (*Bundle, error) {
	return decodeBundleGeneric(data, lim.withDefaults())
}

// DecodeBundleFast is DecodeBundle through the fast decoder only: ok false when it
// leaves the payload to the generic decoder.
func DecodeBundleFast(data []byte, lim Limits) (b *Bundle, ok bool) {
	return decodeBundleFast(data, lim.withDefaults())
}
