package main

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// tollgateDecider is an engine with n v2 entitlements policies: policy i has a tags
// circumstance t_i and the entitlement group g_i, automaticSubscription and
// shareResponsibility (policies on one data source combine with OR, as the other
// encodings' "any rule allows" does). Allowed means Decide's grant is READ or more.
type tollgateDecider struct {
	e    *engine.Engine
	reqs [][2]int64
}

func newTollgate(w *workload, n int) (decider, error) {
	e := engine.New()
	sys := engine.SystemActor()
	groups := make([]*model.Group, w.spec.maxPolicies)
	for k := range groups {
		groups[k] = &model.Group{ID: int64(k + 1), Name: groupName(k)}
	}
	if err := e.PutGroups(sys, groups); err != nil {
		return nil, err
	}
	users := make([]*model.User, len(w.userGroups))
	for u, gs := range w.userGroups {
		users[u] = &model.User{ID: int64(u + 1), Name: fmt.Sprint("user-", u)}
		for _, g := range gs {
			users[u].Groups = append(users[u].Groups, groupName(g))
		}
	}
	if err := e.PutUsers(sys, users); err != nil {
		return nil, err
	}
	for i := range n {
		p := &model.Policy{
			Key:                  fmt.Sprint("p", i),
			Name:                 fmt.Sprint("policy ", i),
			Type:                 model.PolicySubscription,
			Dialect:              model.DialectV2,
			CircumstanceOperator: model.Any,
			Circumstances:        []model.Circumstance{{Type: model.CircumstanceTags, Tag: topicTag(i)}},
			Action: model.Action{
				Type:                  model.ActionEntitlements,
				AccessGrant:           model.Read,
				AutomaticSubscription: true,
				ShareResponsibility:   true,
				Entitlements:          &model.Entitlements{Operator: model.Any, Groups: []string{groupName(i)}},
			},
		}
		if _, _, err := e.CreatePolicy(sys, p, engine.WriteOptions{}); err != nil {
			return nil, fmt.Errorf("policy %d: %w", i, err)
		}
	}
	dss := make([]*model.DataSource, len(w.dsTags))
	for d, tags := range w.dsTags {
		dss[d] = &model.DataSource{ID: int64(d + 1), Name: fmt.Sprint("ds-", d), Tags: tags}
	}
	if err := e.PutDataSources(sys, dss); err != nil {
		return nil, err
	}
	t := &tollgateDecider{e: e, reqs: make([][2]int64, len(w.reqs))}
	for i, r := range w.reqs {
		t.reqs[i] = [2]int64{int64(r[0] + 1), int64(r[1] + 1)}
	}
	return t, nil
}

func (t *tollgateDecider) decide(i int) (bool, error) {
	r := &t.reqs[i]
	return t.e.Decide(r[0], r[1]).Grant >= engine.LevelRead, nil
}
