package engine

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/tollgate-dev/tollgate/model"
)

// TestRowDecodersAgree: a stored data source or user row decoded by the fast row
// decoder is what the generic decoder reads, written back byte for byte; rows the
// fast decoder gives up on still decode (generically).
func TestRowDecodersAgree(t *testing.T) {
	t.Parallel()
	strs := []string{"", "a", "PII.Email", `quote "q" and \ back`, "tab\tnew\nline", "ünïcødé ✓", "<html>&", "a.b.c.d"}
	pick := func(ix []int) []string {
		var out []string
		for _, i := range ix {
			out = append(out, strs[i%len(strs)])
		}
		return out
	}
	idx := gen.SliceOf(gen.IntRange(0, len(strs)-1))
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 400
	props := gopter.NewProperties(params)
	fastRows := 0
	props.Property("fast = generic", prop.ForAll(func(a, b, c []int, id int64, secs int64, flags uint8) string {
		ds := model.DataSource{ID: 1 + id, Name: "ds" + fmt.Sprint(id), Tags: pick(a), Server: strs[len(b)%len(strs)],
			Database: "db", Schema: "s", Table: strs[len(c)%len(strs)], SelectedPolicies: pick(c)}
		if flags&1 != 0 {
			ds.CreatedAt = time.Unix(secs, int64(flags)*1000).UTC()
		}
		if flags&2 != 0 {
			ds.Owners = []int64{1, 1 + id}
		}
		for i, x := range pick(b) {
			col := model.Column{Name: x + fmt.Sprint(i)}
			if flags&4 != 0 {
				col.Tags = pick(a)
			}
			ds.Columns = append(ds.Columns, col)
		}
		if flags&8 != 0 {
			ds.Domains = []model.Domain{{ID: strs[len(a)%len(strs)], Name: "d"}, {Name: "only name"}}
		}
		u := model.User{ID: 1 + id, Name: "u", Groups: pick(a), Permissions: []model.Permission{model.Audit}}
		if flags&16 != 0 {
			u.Attributes = map[string][]string{"k": pick(b), "other": pick(c)}
			u.APIKeyHash = model.HashAPIKey("key")
		}
		parts, err := encodeParts(&model.Bundle{Users: []model.User{u}, DataSources: []model.DataSource{ds}})
		if err != nil {
			return err.Error()
		}
		dec := model.NewRowDecoder()
		dsRowV, userRowV := Row{ID: "1", Value: parts.DataSources[0]}, Row{ID: "1", Value: parts.Users[0]}
		var fastDS, genDS model.DataSource
		var fastU, genU model.User
		// Where the fast decoder gives up (a null list of attribute values, say),
		// decodeDSRow and decodeUserRow read the row generically.
		if dec.DataSource(dsRowV.Value, &fastDS) {
			fastRows++
		}
		if dec.User(userRowV.Value, &fastU) {
			fastRows++
		}
		if err := decodeDSRow(dec, dsRowV, &fastDS, nil); err != nil {
			return err.Error()
		}
		if err := decodeUserRow(dec, userRowV, &fastU); err != nil {
			return err.Error()
		}
		if err := decodeDSRowGeneric(dsRowV, &genDS, nil); err != nil {
			return err.Error()
		}
		if err := decodeUserRowGeneric(userRowV, &genU); err != nil {
			return err.Error()
		}
		got, err := encodeParts(&model.Bundle{Users: []model.User{fastU}, DataSources: []model.DataSource{fastDS}})
		if err != nil {
			return err.Error()
		}
		want, err := encodeParts(&model.Bundle{Users: []model.User{genU}, DataSources: []model.DataSource{genDS}})
		if err != nil {
			return err.Error()
		}
		if !bytes.Equal(got.DataSources[0], want.DataSources[0]) || !bytes.Equal(got.DataSources[0], parts.DataSources[0]) {
			return fmt.Sprintf("data source: fast %s, generic %s, stored %s", got.DataSources[0], want.DataSources[0], parts.DataSources[0])
		}
		if !bytes.Equal(got.Users[0], want.Users[0]) || !bytes.Equal(got.Users[0], parts.Users[0]) {
			return fmt.Sprintf("user: fast %s, generic %s, stored %s", got.Users[0], want.Users[0], parts.Users[0])
		}
		return ""
	}, idx, idx, idx, gen.Int64Range(0, 1<<40), gen.Int64Range(0, 4e9), gen.UInt8()))
	props.TestingRun(t)
	if fastRows < params.MinSuccessfulTests {
		t.Errorf("the fast decoder read only %d of %d rows", fastRows, 2*params.MinSuccessfulTests)
	}

	// Rows the fast decoder leaves to the generic one: unknown keys, another layout.
	dec := model.NewRowDecoder()
	for _, raw := range []string{`{"id":7,"name":"x","extra":1}`, `{"ID":7,"name":"x"}`, `{"id":7,"name":"x","tags":null}`} {
		var ds model.DataSource
		if err := decodeDSRow(dec, Row{ID: "7", Value: []byte(raw)}, &ds, nil); err != nil || ds.ID != 7 || ds.Name != "x" {
			t.Errorf("%s: %v, %+v", raw, err, ds)
		}
	}
}
