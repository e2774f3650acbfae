package main

import (
	"fmt"
	"strings"

	"github.com/cedar-policy/cedar-go"
)

// cedarDecider holds n parsed policies
//
//	permit (principal in Group::"g_i", action == Action::"read", resource in Tag::"t_i");
//
// and the entities: users with their groups as parents, data sources with their
// tags as parents, and each tag with its parent tag as parent.
type cedarDecider struct {
	ps       *cedar.PolicySet
	entities cedar.EntityMap
	reqs     []cedar.Request
}

func newCedar(w *workload, n int) (decider, error) {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "permit (principal in Group::%q, action == Action::\"read\", resource in Tag::%q);\n",
			groupName(i), topicTag(i))
	}
	ps, err := cedar.NewPolicySetFromBytes("peers.cedar", []byte(sb.String()))
	if err != nil {
		return nil, err
	}
	entities := cedar.EntityMap{}
	addTag := func(tag string) cedar.EntityUID {
		uid := cedar.NewEntityUID("Tag", cedar.String(tag))
		for {
			if _, ok := entities[uid]; ok {
				break
			}
			i := strings.LastIndexByte(string(uid.ID), '.')
			if i < 0 {
				entities[uid] = cedar.Entity{UID: uid, Parents: cedar.NewEntityUIDSet()}
				break
			}
			parent := cedar.NewEntityUID("Tag", uid.ID[:i])
			entities[uid] = cedar.Entity{UID: uid, Parents: cedar.NewEntityUIDSet(parent)}
			uid = parent
		}
		return cedar.NewEntityUID("Tag", cedar.String(tag))
	}
	for d, tags := range w.dsTags {
		parents := make([]cedar.EntityUID, 0, len(tags))
		for _, t := range tags {
			parents = append(parents, addTag(t))
		}
		uid := cedar.NewEntityUID("DataSource", cedar.String(fmt.Sprint("ds", d)))
		entities[uid] = cedar.Entity{UID: uid, Parents: cedar.NewEntityUIDSet(parents...)}
	}
	for u, gs := range w.userGroups {
		parents := make([]cedar.EntityUID, 0, len(gs))
		for _, g := range gs {
			parents = append(parents, cedar.NewEntityUID("Group", cedar.String(groupName(g))))
		}
		uid := cedar.NewEntityUID("User", cedar.String(fmt.Sprint("u", u)))
		entities[uid] = cedar.Entity{UID: uid, Parents: cedar.NewEntityUIDSet(parents...)}
	}
	c := &cedarDecider{ps: ps, entities: entities, reqs: make([]cedar.Request, len(w.reqs))}
	read := cedar.NewEntityUID("Action", "read")
	for i, r := range w.reqs {
		c.reqs[i] = cedar.Request{
			Principal: cedar.NewEntityUID("User", cedar.String(fmt.Sprint("u", r[0]))),
			Action:    read,
			Resource:  cedar.NewEntityUID("DataSource", cedar.String(fmt.Sprint("ds", r[1]))),
			Context:   cedar.NewRecord(nil),
		}
	}
	return c, nil
}

func (c *cedarDecider) decide(i int) (bool, error) {
	d, diag := cedar.Authorize(c.ps, c.entities, c.reqs[i])
	if len(diag.Errors) > 0 {
		return false, fmt.Errorf("cedar: %s", diag.Errors[0].Message)
	}
	return d == cedar.Allow, nil
}
