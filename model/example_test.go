package model_test

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/model"
)

// A v2 payload (YAML): actions is an object.
func ExampleDecodePolicy() {
	p, err := model.DecodePolicy([]byte(`
name: Anyone
policyKey: subscription anyone
type: subscription
actions:
  type: anyone
  description: Rationale
circumstances:
  - type: tags
    tag: Discovered
`), model.DefaultLimits())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Dialect, p.Key, p.Action.Type, p.Action.AccessGrant, p.CircumstanceOperator)
	fmt.Println(p.Circumstances[0].Type, p.Circumstances[0].Tag)
	// Output:
	// v2 subscription anyone anyone READ any
	// tags Discovered
}

// A v1 payload (JSON): actions is a list of one element; the key defaults to the
// name, subscriptionType policy means entitlements, and exceptions become them.
func ExampleDecodePolicy_v1() {
	p, err := model.DecodePolicy([]byte(`{
  "type": "subscription",
  "name": "Write for has=write",
  "actions": [{
    "type": "subscription",
    "subscriptionType": "policy",
    "accessGrant": "WRITE",
    "exceptions": {"operator": "and", "conditions": [
      {"type": "authorizations", "authorization": {"auth": "has", "value": "write"}},
      {"type": "groups", "group": {"name": "writers"}}
    ]}
  }],
  "circumstances": [{"operator": "and", "type": "server", "server": "db.example.com"}]
}`), model.DefaultLimits())
	if err != nil {
		fmt.Println(err)
		return
	}
	e := p.Action.Entitlements
	fmt.Println(p.Dialect, p.Key, p.Action.Type, p.Action.AccessGrant, p.CircumstanceOperator)
	fmt.Println(e.Operator, e.Groups, e.Attributes)
	// Output:
	// v1 Write for has=write entitlements WRITE all
	// all [writers] [{has write}]
}

// Every problem is reported, each with its field path.
func ExampleDecodePolicy_errors() {
	_, err := model.DecodePolicy([]byte(`{
  "name": "Approval",
  "policyKey": "approval",
  "type": "subscription",
  "circumstanceOperater": "all",
  "actions": {"type": "approval", "approvals": [{"requiredPermissions": "ADMIN"}]},
  "circumstances": [{"type": "time", "startDate": "2024-02-01", "endDate": "2024-01-01"}]
}`), model.DefaultLimits())
	for _, e := range model.Errors(err) {
		fmt.Printf("%s (%s)\n", e, e.Code)
	}
	// Output:
	// circumstanceOperater: unknown field (unknownField)
	// actions.approvals[0].requiredPermissions: "ADMIN" is not one of OWNER, USER_ADMIN, GOVERNANCE, AUDIT (notSupported)
	// circumstances[0].endDate: "2024-01-01T00:00:00Z" must be after startDate 2024-02-01T00:00:00Z (invalid)
}

// The v1 response shape of the seed documentation, every default filled in.
func ExampleEncodePolicy() {
	p, _ := model.DecodePolicy([]byte(`{"name": "Manual", "type": "subscription", "circumstances": null,
		"actions": [{"type": "subscription", "subscriptionType": "manual"}]}`), model.DefaultLimits())
	p.ID = 4
	b, _ := model.EncodePolicy(p, model.DialectV1)
	fmt.Println(string(b))
	// Output:
	// {"policyKey":"Manual","name":"Manual","type":"subscription","template":false,"staged":false,"systemGenerated":false,"deleted":false,"certification":null,"actions":[{"type":"subscription","accessGrant":"READ","description":null,"allowDiscovery":false,"subscriptionType":"manual","shareResponsibility":false,"automaticSubscription":false}],"circumstances":null,"metadata":null,"clonedFrom":null,"createdBy":0,"id":4,"createdAt":null,"updatedAt":null,"createdByName":"","ownerRestrictions":null}
}

func ExampleDecodeBundle() {
	b, err := model.DecodeBundle([]byte(`
name: demo
users:
  - {id: 1, name: Ada, permissions: [GOVERNANCE]}
dataSources:
  - {id: 6, name: Sales, tags: [Discovered], createdAt: 2025-06-01}
`), model.DefaultLimits())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Now.Format("2006-01-02"), b.Users[0].APIKeyHash == "", b.DataSources[0].CreatedAt.Format("2006-01-02"))
	// Output:
	// 2026-01-01 true 2025-06-01
}
