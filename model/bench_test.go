package model_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/model"
)

func BenchmarkDecodePolicy(b *testing.B) {
	for _, name := range []string{"v1-update-policy.request.json", "v2-create-anyone.request.json", "v2-create-anyone.request.yaml"} {
		data := readSeed(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				p, err := model.DecodePolicy(data, model.Limits{})
				if err != nil || p == nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodePolicy(b *testing.B) {
	p, err := model.DecodePolicy(readSeed(b, "v1-update-policy.request.json"), model.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range []model.Dialect{model.DialectV1, model.DialectV2} {
		b.Run(d.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := model.EncodePolicy(p, d)
				if err != nil || len(out) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchBundle is a bundle shaped like the export of the 100k data source workload
// of the benchmarks package: n data sources, n/10 users, n/200 groups.
func benchBundle(n int) *model.Bundle {
	b := &model.Bundle{Name: "bench", Now: model.DefaultBundleNow()}
	tags := []string{"Product.Transaction.Personal", "Security.Location.External.Email", "Discovered.Healthcare NPI", "PII"}
	for i := range n / 200 {
		b.Groups = append(b.Groups, model.Group{ID: int64(i + 1), Name: "g" + strconv.Itoa(i+1)})
	}
	for i := range n / 10 {
		b.Users = append(b.Users, model.User{ID: int64(i + 1), Name: "user-" + strconv.Itoa(i+1),
			Groups:     []string{"g" + strconv.Itoa(i%50+1), "g" + strconv.Itoa(i%7+1)},
			Attributes: map[string][]string{"Country": {"US"}, "Department": {"Marketing"}, "Region": {"EMEA"}}})
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		name := "ds-" + strconv.Itoa(i+1)
		b.DataSources = append(b.DataSources, model.DataSource{ID: int64(i + 1), Name: name,
			Owners: []int64{int64(i%997 + 1), int64(i%9973 + 1)}, Tags: []string{tags[i%len(tags)]},
			Columns: []model.Column{{Name: "amount"}, {Name: "ip_address"}, {Name: "notes", Tags: []string{tags[(i+1)%len(tags)]}}},
			Domains: []model.Domain{{ID: "dom-2", Name: "Finance"}}, Server: "db2.corp.example.com", Database: "hr",
			Schema: "curated", Table: name, CreatedAt: start.Add(time.Duration(i) * 313 * time.Second)})
	}
	b.Policies = []json.RawMessage{json.RawMessage(`{"policyKey":"p1","name":"p1","type":"subscription","actions":{"type":"anyone"}}`)}
	b.State = json.RawMessage(`{"version":1,"nextPolicyId":2,"nextRecordId":1,"revision":4,"records":[]}`)
	return b
}

// benchLimits admit the bundles of benchBundle.
var benchLimits = model.Limits{MaxPayloadBytes: 1 << 30, MaxListLen: 1 << 20}

func BenchmarkDecodeBundle(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		data, err := model.EncodeBundle(benchBundle(n))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := model.DecodeBundle(data, benchLimits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeBundle(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		bundle := benchBundle(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				data, err := model.EncodeBundle(bundle)
				if err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.SetBytes(int64(size))
		})
	}
}

func BenchmarkEncodeBundleElements(b *testing.B) {
	bundle := benchBundle(100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := model.EncodeBundleElements(bundle); err != nil {
			b.Fatal(err)
		}
	}
}
