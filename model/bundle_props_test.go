package model_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"

	"github.com/tollgate-dev/tollgate/model"
)

// Generators of arbitrary bundles (valid or not) for the laws of the bundle codec.

// oddStrings are strings the JSON string escaper must treat as encoding/json does.
var oddStrings = []string{"", "\x00", "\x01\x1f\x7f", "\b\f\n\r\t", "<>&", "\u2028\u2029", "\xff", "a\xc3", "\xed\xa0\x80",
	"\u202e", "\u2066", "é\u00a0", "\ufffd", `\u0041`, "\"quoted\"", "日本語", "🙂", "a\\b"}

func bundleString(r *rand.Rand) string {
	switch r.Intn(8) {
	case 0:
		return oddStrings[r.Intn(len(oddStrings))]
	case 1:
		return ""
	default:
		return randString(r)
	}
}

func bundleStrings(r *rand.Rand) []string {
	switch r.Intn(5) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	out := make([]string, 1+r.Intn(3))
	for i := range out {
		out[i] = bundleString(r)
	}
	return out
}

func bundleAttributes(r *rand.Rand) map[string][]string {
	switch r.Intn(4) {
	case 0:
		return nil
	case 1:
		return map[string][]string{}
	}
	m := map[string][]string{}
	for range 1 + r.Intn(3) {
		m[bundleString(r)] = bundleStrings(r)
	}
	return m
}

func bundleID(r *rand.Rand) int64 {
	switch r.Intn(10) {
	case 0:
		return 0
	case 1:
		return -r.Int63n(1000)
	case 2:
		return r.Int63()
	}
	return 1 + r.Int63n(50)
}

func randDataSource(r *rand.Rand) model.DataSource {
	ds := model.DataSource{ID: bundleID(r), Name: bundleString(r), Tags: bundleStrings(r),
		SelectedPolicies: bundleStrings(r)}
	if r.Intn(3) > 0 {
		ds.Owners = make([]int64, r.Intn(3))
		for i := range ds.Owners {
			ds.Owners[i] = bundleID(r)
		}
	}
	if r.Intn(2) == 0 {
		ds.Columns = make([]model.Column, r.Intn(3))
		for i := range ds.Columns {
			ds.Columns[i] = model.Column{Name: bundleString(r), Tags: bundleStrings(r)}
		}
	}
	if r.Intn(2) == 0 {
		ds.Domains = make([]model.Domain, r.Intn(3))
		for i := range ds.Domains {
			ds.Domains[i] = model.Domain{ID: pick(r, "", "7", "-0", bundleString(r)), Name: bundleString(r)}
		}
	}
	if r.Intn(2) == 0 {
		ds.Server, ds.Database, ds.Schema, ds.Table = bundleString(r), bundleString(r), bundleString(r), bundleString(r)
	}
	if r.Intn(3) > 0 {
		ds.CreatedAt = randTime(r)
	}
	if r.Intn(3) == 0 {
		ds.DisabledPolicies = make([]model.DisabledPolicy, r.Intn(3))
		for i := range ds.DisabledPolicies {
			ds.DisabledPolicies[i] = model.DisabledPolicy{PolicyKey: bundleString(r), Reason: bundleString(r)}
		}
	}
	return ds
}

func randUser(r *rand.Rand) model.User {
	u := model.User{ID: bundleID(r), Name: bundleString(r), Groups: bundleStrings(r), Attributes: bundleAttributes(r)}
	switch r.Intn(3) {
	case 0:
		u.APIKeyHash = model.HashAPIKey(randString(r))
	case 1:
		u.APIKeyHash = bundleString(r)
	}
	for range r.Intn(3) {
		u.Permissions = append(u.Permissions, pick(r, model.Governance, model.UserAdmin, model.Audit, model.Permission(bundleString(r))))
	}
	return u
}

// randRaw is an arbitrary JSON value (for policies and state), indented or not.
func randRaw(r *rand.Rand, depth int) any {
	switch n := r.Intn(8); {
	case n == 0 && depth < 3:
		m := map[string]any{}
		for range r.Intn(4) {
			m[bundleString(r)] = randRaw(r, depth+1)
		}
		return m
	case n == 1 && depth < 3:
		l := make([]any, r.Intn(4))
		for i := range l {
			l[i] = randRaw(r, depth+1)
		}
		return l
	case n == 2:
		return nil
	case n == 3:
		return r.Intn(2) == 0
	case n == 4:
		return json.Number(pick(r, "0", "-1", "1.5", "1e10", "12345678901234567890"))
	}
	return bundleString(r)
}

func rawJSON(r *rand.Rand, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	if r.Intn(2) == 0 {
		var out bytes.Buffer
		if json.Indent(&out, b, " ", "\t") == nil {
			return out.Bytes()
		}
	}
	return b
}

// randBundle is an arbitrary bundle: often valid, often not.
func randBundle(r *rand.Rand) *model.Bundle {
	b := &model.Bundle{Name: bundleString(r), Description: bundleString(r)}
	if r.Intn(2) == 0 {
		b.Now = randTime(r)
	}
	for range r.Intn(4) {
		b.Groups = append(b.Groups, model.Group{ID: bundleID(r), Name: bundleString(r), Attributes: bundleAttributes(r)})
	}
	for range r.Intn(4) {
		b.Users = append(b.Users, randUser(r))
	}
	for range r.Intn(6) {
		b.DataSources = append(b.DataSources, randDataSource(r))
	}
	for range r.Intn(3) {
		b.Policies = append(b.Policies, rawJSON(r, randRaw(r, 0)))
	}
	for range r.Intn(3) {
		g := model.Grant{DataSourceID: bundleID(r), State: model.RecordState(pick(r, "subscribed", "owner", "", bundleString(r))),
			AccessGrant: model.AccessGrant(pick(r, "READ", "WRITE", ""))}
		if r.Intn(2) == 0 {
			g.ProfileID = bundleID(r)
		} else {
			g.GroupID = bundleID(r)
		}
		if r.Intn(2) == 0 {
			g.Expiration = randTime(r)
		}
		b.Grants = append(b.Grants, g)
	}
	if r.Intn(2) == 0 {
		b.State = rawJSON(r, randRaw(r, 0))
	}
	return b
}

func genBundle() gopter.Gen {
	return func(gp *gopter.GenParameters) *gopter.GenResult {
		return gopter.NewGenResult(randBundle(gp.Rng), gopter.NoShrinker)
	}
}

func TestPropertyEncodeBundleMatchesReference(t *testing.T) {
	t.Parallel()
	props := properties(t)
	props.Property("EncodeBundle writes the bytes of encoding/json", prop.ForAll(func(b *model.Bundle) bool {
		got, err := model.EncodeBundle(b)
		want, werr := model.ReferenceEncodeBundle(b)
		if err != nil || werr != nil {
			t.Logf("errors %v, %v", err, werr)
			return false
		}
		if !bytes.Equal(got, want) {
			t.Logf("got\n%s\nwant\n%s", got, want)
			return false
		}
		return true
	}, genBundle()))
	props.Property("EncodeBundleElements writes the bytes of encoding/json", prop.ForAll(func(b *model.Bundle) bool {
		g, u, d, err := model.EncodeBundleElements(b)
		wg, wu, wd, werr := model.ReferenceEncodeBundleElements(b)
		if err != nil || werr != nil {
			t.Logf("errors %v, %v", err, werr)
			return false
		}
		if msg := sameRaw(g, wg) + sameRaw(u, wu) + sameRaw(d, wd); msg != "" {
			t.Log(msg)
			return false
		}
		return true
	}, genBundle()))
	props.TestingRun(t)
}

// sameRaw describes how got differs from want ("" when equal).
func sameRaw(got, want []json.RawMessage) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d elements, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			return fmt.Sprintf("element %d\ngot  %s\nwant %s", i, got[i], want[i])
		}
	}
	return ""
}

func TestEncodeBundleInvalidRaw(t *testing.T) {
	for _, b := range []*model.Bundle{
		{Name: "x", Policies: []json.RawMessage{json.RawMessage(`{`)}},
		{Name: "x", State: json.RawMessage(`nul`)},
	} {
		if _, err := model.EncodeBundle(b); err == nil {
			t.Errorf("EncodeBundle(%+v): no error", b)
		}
	}
	if _, err := model.EncodeBundle(nil); err == nil {
		t.Error("EncodeBundle(nil): no error")
	}
}
