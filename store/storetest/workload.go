package storetest

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// T0 is the workload's clock: engines driven by it use a fixed clock so that two
// engines applying the same commands hold the same state.
var T0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Workers is how many concurrent writers the workload has room for: worker g
// (0 <= g < Workers) acts as GOVERNANCE user Governor(g) and requester users
// Requester(g, 0..4), so every write names the worker that made it.
const Workers = 8

// Governor is worker g's GOVERNANCE (and USER_ADMIN) user.
func Governor(g int) int64 { return int64(g + 1) }

// Requester is worker g's k-th requesting user (k < 5).
func Requester(g, k int) int64 { return int64(1000 + g*100 + k) }

// WorkerOf returns the worker an actor belongs to, or -1 (the system actor, other users).
func WorkerOf(a engine.Actor) int {
	switch {
	case a.ID >= 1 && a.ID <= Workers:
		return int(a.ID - 1)
	case a.ID >= 1000 && a.ID < 1000+Workers*100:
		return int(a.ID-1000) / 100
	}
	return -1
}

// Seed is the bundle the workload starts from: groups, the workers' users, plain
// users, data sources and a few policies.
func Seed() *model.Bundle {
	b := &model.Bundle{Name: "storetest", Now: T0}
	for i := int64(1); i <= 3; i++ {
		b.Groups = append(b.Groups, model.Group{ID: i, Name: fmt.Sprintf("g%d", i), Attributes: map[string][]string{"level": {fmt.Sprint(i)}}})
	}
	for g := 0; g < Workers; g++ {
		b.Users = append(b.Users, model.User{ID: Governor(g), Name: fmt.Sprintf("gov%d", g),
			Permissions: []model.Permission{model.Governance, model.UserAdmin}})
		for k := 0; k < 5; k++ {
			b.Users = append(b.Users, model.User{ID: Requester(g, k), Name: fmt.Sprintf("req%d-%d", g, k),
				Groups: []string{fmt.Sprintf("g%d", 1+k%3)}})
		}
	}
	for i := int64(500); i < 510; i++ {
		b.Users = append(b.Users, model.User{ID: i, Name: fmt.Sprintf("u%d", i)})
	}
	for i := int64(1); i <= 20; i++ {
		b.DataSources = append(b.DataSources, dataSource(i, int(i)))
	}
	b.Policies = append(b.Policies,
		[]byte(`{"policyKey":"seed-anyone","name":"seed anyone","type":"subscription","actions":{"type":"anyone"},"circumstances":[{"type":"tags","tag":"T0"}]}`),
		[]byte(`{"policyKey":"seed-approval","name":"seed approval","type":"subscription","actions":{"type":"approval","approvals":[{"requiredPermissions":"GOVERNANCE"}]},"circumstances":[{"type":"tags","tag":"T1"}]}`))
	return b
}

var tags = []string{"T0", "T1", "T2", "T3.A", "T3.B"}

func dataSource(id int64, n int) model.DataSource {
	ds := model.DataSource{ID: id, Name: fmt.Sprintf("ds%d-%d", id, n), Tags: []string{tags[n%len(tags)]},
		Server: fmt.Sprintf("db%d.example.com", n%3), CreatedAt: T0.AddDate(0, 0, -n%30)}
	if n%4 == 0 {
		ds.Owners = []int64{500 + int64(n%10)}
	}
	if n%3 == 0 {
		ds.Columns = []model.Column{{Name: "c", Tags: []string{"PII"}}}
	}
	return ds
}

func policy(key string, n int) *model.Policy {
	p := &model.Policy{Key: key, Name: key, Type: model.PolicySubscription, CircumstanceOperator: model.Any,
		Circumstances: []model.Circumstance{{Type: model.CircumstanceTags, Tag: tags[n%len(tags)]}}}
	switch n % 4 {
	case 0:
		p.Action = model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}
	case 1:
		p.Action = model.Action{Type: model.ActionApproval, Approvals: []model.Approval{{RequiredPermission: model.Governance}}}
	case 2:
		p.Action = model.Action{Type: model.ActionEntitlements, Entitlements: &model.Entitlements{Groups: []string{fmt.Sprintf("g%d", 1+n%3)}, Operator: model.Any}}
	default:
		p.Action = model.Action{Type: model.ActionAnyone}
	}
	p.Action.AccessGrant = model.Read
	if n%5 == 0 {
		p.Action.AccessGrant = model.Write
	}
	if n%6 == 0 {
		p.Certification = &model.Certification{Text: fmt.Sprintf("certify %d", n), Label: "ok"}
	}
	return p
}

// Command is one write of the workload, in a form that can be sent between
// processes and applied again to another engine with the same result.
type Command struct {
	Op    string `json:"op"`
	Actor int64  `json:"actor"`
	ID    int64  `json:"id,omitempty"`
	DS    int64  `json:"ds,omitempty"`
	User  int64  `json:"user,omitempty"`
	N     int    `json:"n,omitempty"`
	Key   string `json:"key,omitempty"`
}

// Random returns a random command for worker g on snapshot s (seq numbers the
// worker's commands, for unique policy keys).
func Random(r *rand.Rand, s *engine.Snapshot, g, seq int) Command {
	gov := Governor(g)
	n := r.Intn(1000)
	pickPolicy := func() (int64, string) {
		ps := s.Policies()
		if len(ps) == 0 {
			return 1, "none"
		}
		p := ps[r.Intn(len(ps))]
		return p.ID, p.Key
	}
	pickRecord := func() (int64, int64) {
		rs := s.Records()
		if len(rs) == 0 {
			return 1, 1
		}
		x := rs[r.Intn(len(rs))]
		return x.ID, x.DataSourceID
	}
	ds := int64(1 + r.Intn(24))
	switch x := r.Intn(100); {
	case x < 12:
		return Command{Op: "createPolicy", Actor: gov, Key: fmt.Sprintf("w%d-%d", g, seq), N: n}
	case x < 20:
		id, key := pickPolicy()
		return Command{Op: "updatePolicy", Actor: gov, ID: id, Key: key, N: n}
	case x < 24:
		id, _ := pickPolicy()
		return Command{Op: "deletePolicy", Actor: gov, ID: id}
	case x < 34:
		return Command{Op: "putDataSource", Actor: gov, ID: ds, N: n}
	case x < 37:
		return Command{Op: "deleteDataSource", Actor: gov, ID: ds}
	case x < 43:
		return Command{Op: "putUser", Actor: gov, ID: int64(500 + r.Intn(12)), N: n}
	case x < 45:
		return Command{Op: "deleteUser", Actor: gov, ID: int64(500 + r.Intn(12))}
	case x < 48:
		return Command{Op: "putGroup", Actor: gov, ID: int64(1 + r.Intn(4)), N: n}
	case x < 58:
		return Command{Op: "grant", Actor: gov, DS: ds, User: int64(500 + r.Intn(10)), N: n}
	case x < 74:
		return Command{Op: "request", Actor: Requester(g, r.Intn(5)), DS: ds, N: n}
	case x < 82:
		id, _ := pickRecord()
		return Command{Op: "approve", Actor: gov, ID: id}
	case x < 86:
		id, _ := pickRecord()
		return Command{Op: "deny", Actor: gov, ID: id}
	case x < 90:
		id, d := pickRecord()
		return Command{Op: "changeRecord", Actor: gov, ID: id, DS: d, N: n}
	case x < 94:
		id, _ := pickPolicy()
		return Command{Op: "disable", Actor: gov, ID: id, DS: ds}
	case x < 96:
		id, _ := pickPolicy()
		return Command{Op: "enable", Actor: gov, ID: id, DS: ds}
	default:
		id, key := pickPolicy()
		return Command{Op: "recertify", Actor: gov, ID: id, Key: key, N: n}
	}
}

// Apply runs c on e. An error is the engine's answer (a refused or failed write,
// which changed nothing).
func Apply(e *engine.Engine, c Command) error {
	a := engine.As(c.Actor)
	var err error
	switch c.Op {
	case "createPolicy":
		_, _, err = e.CreatePolicy(a, policy(c.Key, c.N), engine.WriteOptions{})
	case "updatePolicy":
		_, _, err = e.UpdatePolicy(a, c.ID, policy(c.Key, c.N), engine.WriteOptions{})
	case "recertify":
		p := policy(c.Key, c.N)
		p.Certification = &model.Certification{Text: fmt.Sprintf("recertify %d", c.N), Label: "ok"}
		_, _, err = e.UpdatePolicy(a, c.ID, p, engine.WriteOptions{ReCertify: true})
	case "deletePolicy":
		_, err = e.DeletePolicy(a, c.ID)
	case "putDataSource":
		ds := dataSource(c.ID, c.N)
		err = e.PutDataSource(a, &ds)
	case "deleteDataSource":
		err = e.DeleteDataSource(a, c.ID)
	case "putUser":
		u := &model.User{ID: c.ID, Name: fmt.Sprintf("u%d-%d", c.ID, c.N), Groups: []string{fmt.Sprintf("g%d", 1+c.N%4)},
			Attributes: map[string][]string{"n": {fmt.Sprint(c.N % 7)}}}
		err = e.PutUser(a, u)
	case "deleteUser":
		err = e.DeleteUser(a, c.ID)
	case "deleteGroup":
		err = e.DeleteGroup(a, c.ID)
	case "putGroup":
		err = e.PutGroup(a, &model.Group{ID: c.ID, Name: fmt.Sprintf("g%d", c.ID), Attributes: map[string][]string{"level": {fmt.Sprint(c.N % 5)}}})
	case "grant":
		u := c.User
		req := engine.AccessRequest{ProfileID: u, State: model.RecordSubscribed, AccessGrant: model.Read}
		if c.N%3 == 0 {
			req.AccessGrant = model.Write
		}
		if c.N%4 == 0 {
			req.Expiration = T0.AddDate(0, 1, c.N%20)
		}
		_, err = e.Access(a, c.DS, req)
	case "request":
		req := engine.AccessRequest{AccessGrant: model.Read}
		if c.N%4 == 0 {
			req.AccessGrant = model.Write
		}
		_, err = e.Access(a, c.DS, req)
	case "approve":
		var f []engine.Failure
		f, err = e.Approve(a, []model.ApproveEntry{{ID: c.ID}})
		if err == nil && len(f) > 0 {
			err = fmt.Errorf("approve refused: %s", f[0].Reason)
		}
	case "deny":
		var f []engine.Failure
		f, err = e.Deny(a, []model.DenyEntry{{ID: c.ID, DenialReasoning: "no"}})
		if err == nil && len(f) > 0 {
			err = fmt.Errorf("deny refused: %s", f[0].Reason)
		}
	case "changeRecord":
		ch := &model.RecordChange{HasExpiration: true, Expiration: T0.AddDate(0, 2, c.N%28)}
		if c.N%2 == 0 {
			ch = &model.RecordChange{State: model.RecordDenied}
		}
		_, err = e.ChangeRecord(a, c.DS, c.ID, ch)
	case "disable":
		err = e.DisablePolicy(a, c.DS, c.ID, "not here")
	case "enable":
		err = e.EnablePolicy(a, c.DS, c.ID)
	default:
		err = fmt.Errorf("unknown op %q", c.Op)
	}
	return err
}
