package circumstance_test

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/circumstance"
	"github.com/tollgate-dev/tollgate/model"
)

func Example() {
	// A policy on data sources tagged Discovered (or below it) on one server.
	p := &model.Policy{ID: 1, CircumstanceOperator: model.All, Circumstances: []model.Circumstance{
		{Type: model.CircumstanceTags, Tag: "Discovered"},
		{Type: model.CircumstanceServer, Server: "db.example.com"},
	}}
	m, err := circumstance.Compile(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	catalog := []*model.DataSource{
		{ID: 10, Tags: []string{"Discovered.Healthcare NPI"}, Server: "DB.EXAMPLE.COM"},
		{ID: 11, Tags: []string{"DiscoveredX"}, Server: "db.example.com"},
		{ID: 12, Tags: []string{"Discovered"}, Server: "other.example.com"},
	}
	for _, ds := range catalog {
		r, _ := m.Match(ds, false)
		fmt.Println(ds.ID, r)
	}

	// A regex that does not compile is a field error.
	_, err = circumstance.Compile(&model.Policy{Circumstances: []model.Circumstance{
		{Type: model.CircumstanceColumnRegex, Regex: "(ssn"},
	}})
	for _, fe := range model.Errors(err) {
		fmt.Println(fe.Path, fe.Code)
	}
	// Output:
	// 10 Applies
	// 11 NotApplies
	// 12 NotApplies
	// circumstances[0].regex compile
}
