package model_test

import (
	"testing"

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

func BenchmarkDecodeBundle(b *testing.B) {
	bundle := &model.Bundle{Name: "bench"}
	for i := range 10000 {
		bundle.DataSources = append(bundle.DataSources, model.DataSource{ID: int64(i + 1), Name: "ds",
			Owners: []int64{1}, Tags: []string{"Discovered.Healthcare NPI", "PII"},
			Columns: []model.Column{{Name: "a", Tags: []string{"x"}}, {Name: "b"}}, Server: "db.example.com"})
	}
	data, err := model.EncodeBundle(bundle)
	if err != nil {
		b.Fatal(err)
	}
	lim := model.Limits{MaxPayloadBytes: 64 << 20, MaxListLen: 1 << 20}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := model.DecodeBundle(data, lim); err != nil {
			b.Fatal(err)
		}
	}
}
