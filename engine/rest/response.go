package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

func parseQuery(raw string) (url.Values, error) { return url.ParseQuery(raw) }

var errNoPolicy = errors.New("the engine returned no policy")

// policyResponse renders p in dialect d.
func policyResponse(p *model.Policy, d model.Dialect) (any, error) {
	if p == nil {
		return nil, errNoPolicy
	}
	return model.PolicyResponse(p, d), nil
}

// ImpactJSON is the "impact" member of a dry-run response.
type ImpactJSON struct {
	DataSourcesAdded   []int64          `json:"dataSourcesAdded"`
	DataSourcesRemoved []int64          `json:"dataSourcesRemoved"`
	Users              []UserImpactJSON `json:"users"`
	// UsersTotal and Truncated are given when the user list was capped (see
	// docs/security.md, Limits).
	UsersTotal *int  `json:"usersTotal,omitempty"`
	Truncated  *bool `json:"truncated,omitempty"`
}

// UserImpactJSON is one user whose grant on one data source a dry run would change.
type UserImpactJSON struct {
	ProfileID    int64  `json:"profileId"`
	DataSourceID int64  `json:"dataSourceId"`
	Before       string `json:"before"`
	After        string `json:"after"`
}

// ImpactResponse renders an engine impact in the API's shape: ids ascending, users
// by profileId then dataSourceId, grants as NONE, READ or WRITE; lists are never null.
func ImpactResponse(im *engine.Impact) ImpactJSON {
	out := ImpactJSON{DataSourcesAdded: []int64{}, DataSourcesRemoved: []int64{}, Users: []UserImpactJSON{}}
	if im == nil {
		return out
	}
	out.DataSourcesAdded = append(out.DataSourcesAdded, im.DataSourcesAdded...)
	out.DataSourcesRemoved = append(out.DataSourcesRemoved, im.DataSourcesRemoved...)
	slices.Sort(out.DataSourcesAdded)
	slices.Sort(out.DataSourcesRemoved)
	for _, u := range im.Users {
		out.Users = append(out.Users, UserImpactJSON{ProfileID: u.ProfileID, DataSourceID: u.DataSourceID,
			Before: u.Before.String(), After: u.After.String()})
	}
	if im.Truncated {
		total, truncated := im.UsersTotal, true
		out.UsersTotal, out.Truncated = &total, &truncated
	}
	slices.SortStableFunc(out.Users, func(a, b UserImpactJSON) int {
		if a.ProfileID != b.ProfileID {
			return cmpInt(a.ProfileID, b.ProfileID)
		}
		return cmpInt(a.DataSourceID, b.DataSourceID)
	})
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dryRunResponse is the would-be policy with "id": null plus "impact", keeping the
// member order of the policy response.
func dryRunResponse(p *model.Policy, d model.Dialect, im *engine.Impact) (any, error) {
	v, err := policyResponse(p, d)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	obj, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("policy response: %w", err)
	}
	obj = obj.set("id", json.RawMessage("null"))
	impact, err := json.Marshal(ImpactResponse(im))
	if err != nil {
		return nil, err
	}
	return obj.set("impact", impact), nil
}

// orderedObject is a JSON object that keeps its member order.
type orderedObject []member

type member struct {
	key   string
	value json.RawMessage
}

func parseObject(data []byte) (orderedObject, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var obj orderedObject
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		obj = append(obj, member{key: key, value: raw})
	}
	return obj, nil
}

// set replaces the value of key, or appends it.
func (o orderedObject) set(key string, value json.RawMessage) orderedObject {
	for i := range o {
		if o[i].key == key {
			o[i].value = value
			return o
		}
	}
	return append(o, member{key: key, value: value})
}

// MarshalJSON writes the members in order.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
