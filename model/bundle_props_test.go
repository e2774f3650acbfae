package model_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
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

// validBundle is randBundle made valid: unique positive ids, names and keys
// without unsafe characters, known permissions and grant states.
func validBundle(r *rand.Rand) *model.Bundle {
	b := randBundle(r)
	safe := func(s string) string {
		if s == "" || model.ValidateGroup(&model.Group{ID: 1, Name: s}, "") != nil {
			return "s" + fmt.Sprint(r.Intn(100))
		}
		return s
	}
	safeList := func(l []string) []string {
		for i := range l {
			l[i] = safe(l[i])
		}
		return l
	}
	safeAttrs := func(m map[string][]string) map[string][]string {
		if m == nil {
			return nil
		}
		out := map[string][]string{}
		for k, v := range m {
			if v == nil {
				v = []string{}
			}
			out[safe(k)] = safeList(v)
		}
		return out
	}
	b.Name = safe(b.Name)
	for i := range b.Groups {
		g := &b.Groups[i]
		g.ID, g.Name, g.Attributes = int64(i+1), fmt.Sprintf("g%d%s", i, g.Name), safeAttrs(g.Attributes)
		g.Name = safe(g.Name)
	}
	for i := range b.Users {
		u := &b.Users[i]
		u.ID, u.Name, u.Groups, u.Attributes = int64(i+1), safe(u.Name), safeList(u.Groups), safeAttrs(u.Attributes)
		u.Permissions = u.Permissions[:0]
		if r.Intn(2) == 0 {
			u.Permissions = []model.Permission{model.Governance, model.Audit}
		}
		u.APIKeyHash = pick(r, "", model.HashAPIKey(fmt.Sprint(i)))
	}
	for i := range b.DataSources {
		ds := &b.DataSources[i]
		ds.ID, ds.Name = int64(3*i+1+r.Intn(3)), safe(ds.Name)
		for j := range ds.Owners {
			ds.Owners[j] = 1 + r.Int63n(1<<40)
		}
		ds.Tags, ds.SelectedPolicies = safeList(ds.Tags), safeList(ds.SelectedPolicies)
		for j := range ds.Columns {
			ds.Columns[j].Name, ds.Columns[j].Tags = safe(ds.Columns[j].Name), safeList(ds.Columns[j].Tags)
		}
		for j := range ds.Domains {
			if ds.Domains[j].ID == "" && ds.Domains[j].Name == "" {
				ds.Domains[j].Name = "d"
			}
		}
		for j := range ds.DisabledPolicies {
			ds.DisabledPolicies[j].PolicyKey = safe(ds.DisabledPolicies[j].PolicyKey)
		}
		if ds.CreatedAt.IsZero() && r.Intn(2) == 0 {
			ds.CreatedAt = model.DefaultBundleNow()
		}
	}
	if len(b.DataSources) > 1 && r.Intn(3) == 0 { // ids not ascending
		b.DataSources[0], b.DataSources[1] = b.DataSources[1], b.DataSources[0]
	}
	for i := range b.Grants {
		g := &b.Grants[i]
		g.DataSourceID = 1 + r.Int63n(1000)
		g.ProfileID, g.GroupID = 0, 1+r.Int63n(9)
		g.State, g.AccessGrant = model.RecordSubscribed, pick(r, model.Read, model.Write)
	}
	return b
}

// damage damages a JSON payload in one of several ways that the fast decoder
// must leave to the generic one (or decode as the generic one does).
func damage(r *rand.Rand, data []byte) []byte {
	out := bytes.Clone(data)
	if len(out) == 0 {
		return out
	}
	i := r.Intn(len(out))
	switch r.Intn(7) {
	case 6: // a member, often a duplicate key, at the start of an object
		if k := bytes.IndexByte(out[i:], '{'); k >= 0 {
			ins := pick(r, `"name":"x",`, `"id":7,`, `"tags":null,`, `"attributes":{},`, `"state":null,`, `"policyKey":"k",`,
				`"columns":[],`, `"apiKey":"k",`, `"apiKey":null,`, `"createdAt":null,`, `"owners":[1],`, `"domains":null,`)
			out = slices.Concat(out[:i+k+1], []byte(ins), out[i+k+1:])
		}
	case 0: // replace a byte
		out[i] = pick(r, byte('"'), '\\', '{', '}', '[', ']', ',', ':', '0', '-', 'n', ' ', 0, 0xff, 'e', '.')
	case 1: // delete a range
		j := min(len(out), i+1+r.Intn(8))
		out = append(out[:i], out[j:]...)
	case 2: // duplicate a range
		j := min(len(out), i+1+r.Intn(40))
		out = slices.Concat(out[:j], out[i:j], out[j:])
	case 3: // a null, a number, an escape, an unknown key or a deep value in place of a token
		ins := pick(r, "null", "-1", "1.0", "19223372036854775807", `"\u0041"`, `"x\"y"`, `"unknown":1,`,
			`[[[[[[[[[[]]]]]]]]]]`, `{"a":1,"a":2}`, `"é\ud800"`, `""`, `"\u2028"`)
		out = slices.Concat(out[:i], []byte(ins), out[i:])
	case 4: // rename a key
		if k := bytes.Index(out[i:], []byte(`":`)); k > 0 {
			out[i+k-1] ^= 0x20
		}
	default: // compact it
		var c bytes.Buffer
		if json.Compact(&c, out) == nil {
			out = c.Bytes()
		}
	}
	return out
}

// sameDecoding checks that DecodeBundle, the generic decoder and (when it takes
// the payload) the fast decoder agree.
func sameDecoding(t *testing.T, data []byte, lim model.Limits) bool {
	want, werr := model.DecodeBundleGeneric(data, lim)
	got, err := model.DecodeBundle(data, lim)
	if !reflect.DeepEqual(want, got) || !reflect.DeepEqual(werr, err) {
		t.Logf("DecodeBundle differs from the generic decoder on\n%s\ngot  %+v, %v\nwant %+v, %v", data, got, err, want, werr)
		return false
	}
	if fast, ok := model.DecodeBundleFast(data, lim); ok && (werr != nil || !reflect.DeepEqual(fast, want)) {
		t.Logf("the fast decoder differs from the generic decoder on\n%s\nfast %+v\nwant %+v, %v", data, fast, want, werr)
		return false
	}
	return true
}

func TestPropertyFastDecoderIsGeneric(t *testing.T) {
	t.Parallel()
	props := properties(t)
	props.Property("the fast decoder takes a valid bundle and decodes it as the generic one", prop.ForAll(
		func(b *model.Bundle, seed int64) bool {
			r := rand.New(rand.NewSource(seed))
			data, err := model.EncodeBundle(b)
			if err != nil {
				t.Log(err)
				return false
			}
			if r.Intn(2) == 0 {
				var c bytes.Buffer
				if err := json.Compact(&c, data); err != nil {
					t.Log(err)
					return false
				}
				data = c.Bytes()
			}
			if _, ok := model.DecodeBundleFast(data, model.Limits{}); !ok {
				_, err := model.DecodeBundleGeneric(data, model.Limits{})
				t.Logf("the fast decoder refused\n%s\n(generic: %v)", data, err)
				return false
			}
			return sameDecoding(t, data, model.Limits{})
		}, func(gp *gopter.GenParameters) *gopter.GenResult {
			return gopter.NewGenResult(validBundle(gp.Rng), gopter.NoShrinker)
		}, genSeed()))
	props.Property("on arbitrary and damaged bundles the fast decoder agrees with the generic one", prop.ForAll(
		func(b *model.Bundle, seed int64) bool {
			r := rand.New(rand.NewSource(seed))
			data, err := model.EncodeBundle(b)
			if err != nil {
				t.Log(err)
				return false
			}
			for range 1 + r.Intn(3) {
				data = damage(r, data)
			}
			lim := model.Limits{}
			if r.Intn(4) == 0 {
				lim = model.Limits{MaxListLen: 1 + r.Intn(4), MaxStringLen: 1 + r.Intn(20), MaxDepth: 1 + r.Intn(6),
					MaxPayloadBytes: len(data) - 5 + r.Intn(10)}
			}
			return sameDecoding(t, data, lim)
		}, func(gp *gopter.GenParameters) *gopter.GenResult {
			if gp.Rng.Intn(2) == 0 {
				return gopter.NewGenResult(validBundle(gp.Rng), gopter.NoShrinker)
			}
			return gopter.NewGenResult(randBundle(gp.Rng), gopter.NoShrinker)
		}, genSeed()))
	props.TestingRun(t)
}

func genSeed() gopter.Gen {
	return func(gp *gopter.GenParameters) *gopter.GenResult {
		return gopter.NewGenResult(gp.Rng.Int63(), gopter.NoShrinker)
	}
}

// TestFastDecoderLargeBundle decodes bundles large enough to be read by two
// goroutines, indented and compact, sound and with a problem near the end.
func TestFastDecoderLargeBundle(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	b := &model.Bundle{Name: "large"}
	for i := range 6000 {
		ds := randDataSource(r)
		ds.ID, ds.Name, ds.Tags = int64(i+1), fmt.Sprintf("ds-%d", i+1), []string{"a.b", "c"}
		ds.Owners, ds.SelectedPolicies, ds.DisabledPolicies = []int64{int64(i%7 + 1)}, nil, nil
		ds.Columns = []model.Column{{Name: "x", Tags: []string{"t"}}, {Name: "y"}}
		ds.Domains = []model.Domain{{ID: "d1"}, {ID: "d2"}} // in compact JSON, "},{\"id\":" also starts a domain
		b.DataSources = append(b.DataSources, ds)
	}
	indented, err := model.EncodeBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, indented); err != nil {
		t.Fatal(err)
	}
	lim := model.Limits{MaxPayloadBytes: 64 << 20, MaxListLen: 6000}
	for _, data := range [][]byte{indented, compact.Bytes()} {
		if len(data) < 1<<20 {
			t.Fatalf("the bundle is %d bytes, too small to be split", len(data))
		}
		fast, ok := model.DecodeBundleFast(data, lim)
		want, err := model.DecodeBundleGeneric(data, lim)
		if !ok || err != nil || !reflect.DeepEqual(fast, want) {
			t.Fatalf("fast (ok %v) and generic (error %v) differ", ok, err)
		}
		// a duplicate id near the end, a list too long, a problem at the split
		last := bytes.LastIndex(data, []byte(`"id":`))
		dup := slices.Concat(data[:last], []byte(`"id":1, "x`), data[last+len(`"id":`)+1:])
		for _, bad := range [][]byte{dup, bytes.Replace(data, []byte(`"ds-3000"`), []byte(`7`), 1)} {
			if _, ok := model.DecodeBundleFast(bad, lim); ok {
				t.Error("the fast decoder took a bundle with a problem")
			}
		}
		if _, ok := model.DecodeBundleFast(data, model.Limits{MaxPayloadBytes: 64 << 20, MaxListLen: 5999}); ok {
			t.Error("the fast decoder took a list longer than MaxListLen")
		}
	}
}
