package scenario_test

import (
	"fmt"
	"strings"

	"github.com/tollgate-dev/tollgate/engine/scenario"
)

// ExampleParse runs a scenario whose final expectation is wrong: the result names
// the expectation with the wanted and got values.
func ExampleParse() {
	s, err := scenario.Parse([]byte(`
name: anyone may subscribe
users:
  - {id: 1, name: Pat}
dataSources:
  - {id: 6, name: claims, tags: [Discovered]}
policies:
  - {name: Anyone, policyKey: subscription anyone, type: subscription,
     actions: {type: anyone}, circumstances: [{type: tags, tag: Discovered}]}
steps:
  - as: 1
    call: POST /dataSource/6/access
    body: {}
    expect: {status: 200, body: {state: subscribed}}
expect:
  decisions:
    - {user: 1, dataSource: 6, grant: WRITE}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := s.Run()
	fmt.Println(r.Name, r.Passed)
	for _, f := range r.Failures {
		mismatch, _, _ := strings.Cut(f, " [reasons:") // the reasons follow
		fmt.Println(mismatch)
	}
	// Output:
	// anyone may subscribe false
	// expect.decisions[0] (user 1, dataSource 6): grant: want WRITE, got READ
}
