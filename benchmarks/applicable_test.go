package benchmarks_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/model"
)

// applicablePolicies builds n policies keyed on tags, column tags, domains and
// servers (operators any and all), each on its own value, so that a data source
// meets the same handful whatever n is; plus the five policies the data source of
// BenchmarkApplicable meets.
func applicablePolicies(b *testing.B, n int) *match.PolicyIndex {
	b.Helper()
	ix := match.NewPolicyIndex(nil)
	add := func(id int64, op model.Operator, cs ...model.Circumstance) {
		m, err := match.Compile(&model.Policy{ID: id, CircumstanceOperator: op, Circumstances: cs})
		if err != nil {
			b.Fatal(err)
		}
		ix.Add(id, m)
	}
	for i := range n - 5 {
		s := strconv.Itoa(i)
		switch i % 5 {
		case 0, 1:
			add(int64(i+100), model.Any, model.Circumstance{Type: model.CircumstanceTags, Tag: "Discovered.Tag" + s})
		case 2:
			add(int64(i+100), model.Any, model.Circumstance{Type: model.CircumstanceColumnTags, ColumnTag: "PII.Col" + s})
		case 3:
			add(int64(i+100), model.All,
				model.Circumstance{Type: model.CircumstanceTags, Tag: "Discovered"},
				model.Circumstance{Type: model.CircumstanceDomains, Domains: []model.Domain{{ID: "domain-" + s}}})
		default:
			add(int64(i+100), model.Any, model.Circumstance{Type: model.CircumstanceServer, Server: "host" + s + ".example.com"})
		}
	}
	add(1, model.Any, model.Circumstance{Type: model.CircumstanceTags, Tag: "Discovered.Healthcare NPI"})
	add(2, model.Any, model.Circumstance{Type: model.CircumstanceTags, Tag: "Finance"})
	add(3, model.Any, model.Circumstance{Type: model.CircumstanceColumnTags, ColumnTag: "PII"})
	add(4, model.All,
		model.Circumstance{Type: model.CircumstanceServer, Server: "db.example.com"},
		model.Circumstance{Type: model.CircumstanceDomains, Domains: []model.Domain{{Name: "Sales"}}})
	add(5, model.Any, model.Circumstance{Type: model.CircumstanceTags, Tag: "Nowhere"},
		model.Circumstance{Type: model.CircumstanceDomains, Domains: []model.Domain{{ID: "sales-1"}}})
	return ix
}

// BenchmarkApplicable measures PolicyIndex.Applicable for one data source with a
// few tags against 10 … 10,000 indexed policies: the tag/domain/server key path,
// which should not allocate and should not grow with the number of policies.
func BenchmarkApplicable(b *testing.B) {
	ds := &model.DataSource{ID: 1, Server: "DB.Example.com",
		Tags:    []string{"Discovered.Healthcare NPI", "Finance.Payroll", "Internal"},
		Columns: []model.Column{{Name: "ssn", Tags: []string{"PII.SSN"}}, {Name: "name"}},
		Domains: []model.Domain{{ID: "sales-1", Name: "Sales"}}}
	target := match.NewTarget(ds)
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run("policies="+strconv.Itoa(n), func(b *testing.B) {
			ix := applicablePolicies(b, n)
			var visited int
			visit := func(id int64, r match.Result, err error) {
				if r == match.Applies && id <= 5 {
					visited++
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				visited = 0
				evaluated := ix.Applicable(target, nil, visit)
				if visited != 5 || evaluated != 5 {
					b.Fatalf("visited %d, evaluated %d", visited, evaluated)
				}
			}
		})
	}
}

// BenchmarkCatalogScan measures CatalogIndex.Applicable for a new tag policy over
// catalogs of 10,000 … 1,000,000 data sources: narrow (a tag on one data source in
// a thousand) and broad (a tag on every data source; the engine's budget for
// creating a tag policy against 1M data sources is 1 s in total). It reports the
// heap the index holds per data source, Targets included.
func BenchmarkCatalogScan(b *testing.B) {
	sizes := []int{10_000, 100_000, 1_000_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, n := range sizes {
		b.Run("dataSources="+strconv.Itoa(n), func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			cat := match.NewCatalogIndex(nil)
			for i := range n {
				s := strconv.Itoa(i % 1000)
				cat.Put(match.NewTarget(&model.DataSource{ID: int64(i + 1),
					Server: "host" + strconv.Itoa(i%100) + ".example.com",
					Tags:   []string{"Discovered.Tag" + s, "Finance"},
					Columns: []model.Column{{Name: "id"}, {Name: "ssn", Tags: []string{"PII.SSN"}},
						{Name: "email", Tags: []string{"PII.Email"}}},
					Domains: []model.Domain{{ID: "domain-" + strconv.Itoa(i%10), Name: "Domain " + strconv.Itoa(i%10)}}}))
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			heapPerDS := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
			tag := func(t string) model.Circumstance { return model.Circumstance{Type: model.CircumstanceTags, Tag: t} }
			for _, tc := range []struct {
				name            string
				op              model.Operator
				cs              []model.Circumstance
				hits, evaluated int
			}{
				{"narrow", model.Any, []model.Circumstance{tag("Discovered.Tag7")}, n / 1000, n / 1000},
				{"broad", model.Any, []model.Circumstance{tag("Discovered")}, n, n},
				{"tag+server", model.All, []model.Circumstance{tag("Discovered.Tag7"),
					{Type: model.CircumstanceServer, Server: "HOST7.example.com"}}, n / 1000, n / 1000},
				{"time", model.Any, []model.Circumstance{{Type: model.CircumstanceTime}}, n, n},
			} {
				b.Run(tc.name, func(b *testing.B) {
					m, err := match.Compile(&model.Policy{ID: 1, CircumstanceOperator: tc.op, Circumstances: tc.cs})
					if err != nil {
						b.Fatal(err)
					}
					var hits int
					visit := func(int64, match.Result, error) { hits++ }
					b.ReportAllocs()
					for b.Loop() {
						hits = 0
						evaluated := cat.Applicable(m, nil, visit)
						if hits != tc.hits || evaluated != tc.evaluated {
							b.Fatalf("%d hits, %d evaluated", hits, evaluated)
						}
					}
					b.ReportMetric(heapPerDS, "heapB/ds")
				})
			}
			runtime.KeepAlive(cat)
		})
	}
}
