package model_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/model"
)

// addSeeds adds every seed payload (and the invalid-payload table) to the corpus.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(seedDir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in %s: %v", seedDir, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range invalidPolicies {
		f.Add([]byte(tc.in))
	}
}

// checkErr checks that err is a well-formed, non-empty ErrorList.
func checkErr(t *testing.T, err error) {
	t.Helper()
	list := model.Errors(err)
	if len(list) == 0 {
		t.Fatalf("error %v carries no problem", err)
	}
	for _, e := range list {
		if e == nil || e.Code == "" || e.Detail == "" {
			t.Fatalf("malformed problem %#v in %v", e, err)
		}
	}
}

func FuzzDecodePolicy(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := model.Limits{MaxPayloadBytes: 64 << 10}
		p, err := model.DecodePolicy(data, lim)
		if (p == nil) == (err == nil) {
			t.Fatalf("policy %v and error %v: want exactly one", p, err)
		}
		if err != nil {
			checkErr(t, err)
			return
		}
		if errs := model.ValidatePolicy(p); errs != nil {
			t.Fatalf("decoded policy does not validate: %v", errs)
		}
		// whatever decodes encodes in its own dialect and decodes back equal
		b, err := model.EncodePolicy(p, p.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		q, err := model.DecodePolicy(b, model.Limits{MaxPayloadBytes: 16 << 20, MaxListLen: 1 << 20, MaxStringLen: 16 << 20})
		if err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		want := canonical(p)
		if p.Dialect == model.DialectV1 {
			want = v1Expressible(want)
		}
		if got := canonical(q); !reflect.DeepEqual(want, got) {
			t.Fatalf("round trip changed the policy\nwant %+v\ngot  %+v", want, got)
		}
	})
}

func FuzzDecodeBundle(f *testing.F) {
	addSeeds(f)
	f.Add([]byte("name: x\nusers: [{id: 1, name: a}]\ndataSources: [{id: 2, name: d, domains: [{id: 7}]}]\n"))
	f.Add([]byte(`{"name":"x","now":"2024-01-01","groups":[{"id":1,"name":"g","attributes":{"k":["v"],"e":[]}}],` +
		`"users":[{"id":1,"name":"u","apiKey":"k","groups":["g"],"permissions":["AUDIT"]}],` +
		`"dataSources":[{"id":2,"name":"d","owners":[1],"tags":["t"],"columns":[{"name":"c","tags":["x"]}],` +
		`"domains":[{"id":7},{"name":"n"}],"server":"s","createdAt":null,"disabledPolicies":[{"policyKey":"p"}]}],` +
		`"policies":[{"a": [1, "\u00e9"]}],"grants":[{"dataSourceId":2,"groupId":1,"state":"subscribed"}],"state":{"v":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// the fast decoder, when it takes the payload, decodes it as the generic one
		for _, lim := range []model.Limits{{MaxPayloadBytes: 64 << 10}, {MaxListLen: 2, MaxStringLen: 8, MaxDepth: 4}} {
			if !sameDecoding(t, data, lim) {
				t.FailNow()
			}
		}
		b, err := model.DecodeBundle(data, model.Limits{MaxPayloadBytes: 64 << 10})
		if (b == nil) == (err == nil) {
			t.Fatalf("bundle %v and error %v: want exactly one", b, err)
		}
		if err != nil {
			checkErr(t, err)
			return
		}
		out, err := model.EncodeBundle(b)
		if err != nil {
			t.Fatal(err)
		}
		back, err := model.DecodeBundle(out, model.Limits{MaxPayloadBytes: 16 << 20, MaxListLen: 1 << 20, MaxStringLen: 16 << 20})
		if err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if !reflect.DeepEqual(b, back) {
			t.Fatalf("round trip changed the bundle\n%s", strings.TrimSpace(string(out)))
		}
	})
}
