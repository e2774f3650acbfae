package main

import (
	"math/rand/v2"
	"strconv"
)

// spec sizes the shared catalog and directory. Every policy count runs over the
// same catalog, users and requests.
type spec struct {
	seed        uint64
	maxPolicies int // topics and groups: policy i uses tag t_i and group g_i, i < maxPolicies
	dataSources int
	users       int
	requests    int
}

var defaultSpec = spec{seed: 42, maxPolicies: 10_000, dataSources: 10_000, users: 2_000, requests: 2_048}

// workload is the catalog, the directory and a sample of requests. Tags and groups
// are drawn from a Zipf distribution (a few popular ones, a long tail), so every
// policy count — policy i covers tag t_i and group g_i — sees a mix of allows and
// denies on uniformly drawn requests.
type workload struct {
	spec spec
	// dsTags[d] are the tags of data source d: t_k or a child t_k.c<j>.
	dsTags [][]string
	// dsTopics[d] are the topics k of those tags.
	dsTopics [][]int
	// userGroups[u] are the groups of user u (indices k of g_k).
	userGroups [][]int
	// reqs are the (user, data source) index pairs of the sample.
	reqs [][2]int
}

// topicTag is t_k: a depth-2 tag under one of 16 roots.
func topicTag(k int) string { return "dom" + strconv.Itoa(k%16) + ".t" + strconv.Itoa(k) }

func groupName(k int) string { return "g" + strconv.Itoa(k) }

func newWorkload(s spec) *workload {
	r := rand.New(rand.NewPCG(s.seed, 1))
	topics := rand.NewZipf(r, 1.1, 4, uint64(s.maxPolicies-1))
	w := &workload{spec: s}
	w.dsTags = make([][]string, s.dataSources)
	w.dsTopics = make([][]int, s.dataSources)
	for d := range w.dsTags {
		n := 1 + r.IntN(3)
		for range n {
			k := int(topics.Uint64())
			tag := topicTag(k)
			if r.IntN(10) < 6 {
				tag += ".c" + strconv.Itoa(r.IntN(3))
			}
			w.dsTags[d] = append(w.dsTags[d], tag)
			w.dsTopics[d] = append(w.dsTopics[d], k)
		}
	}
	groups := rand.NewZipf(r, 1.1, 4, uint64(s.maxPolicies-1))
	w.userGroups = make([][]int, s.users)
	for u := range w.userGroups {
		n := 1 + r.IntN(5)
		for len(w.userGroups[u]) < n {
			k := int(groups.Uint64())
			dup := false
			for _, g := range w.userGroups[u] {
				dup = dup || g == k
			}
			if !dup {
				w.userGroups[u] = append(w.userGroups[u], k)
			}
		}
	}
	w.reqs = make([][2]int, s.requests)
	for i := range w.reqs {
		w.reqs[i] = [2]int{r.IntN(s.users), r.IntN(s.dataSources)}
	}
	return w
}

// tagPrefixes returns the tags of data source d and all their ancestors: what
// the OPA encodings match policy tags against.
func (w *workload) tagPrefixes(d int) []string {
	var out []string
	add := func(t string) {
		for _, o := range out {
			if o == t {
				return
			}
		}
		out = append(out, t)
	}
	for _, tag := range w.dsTags[d] {
		for i := range len(tag) {
			if tag[i] == '.' {
				add(tag[:i])
			}
		}
		add(tag)
	}
	return out
}

// reference is the plain Go answer the engines are checked against: some policy
// i < n has the user in g_i and the data source tagged t_i or a child of it.
func (w *workload) reference(n int, req [2]int) bool {
	u, d := req[0], req[1]
	for _, k := range w.dsTopics[d] {
		if k >= n {
			continue
		}
		for _, g := range w.userGroups[u] {
			if g == k {
				return true
			}
		}
	}
	return false
}

// decider answers request i of the workload's sample for one engine and one
// policy count. Everything it needs is prepared when it is built.
type decider interface {
	decide(i int) (bool, error)
}

// engineKind builds a decider for the first n policies.
type engineKind struct {
	name  string
	build func(w *workload, n int) (decider, error)
}

var engines = []engineKind{
	{"tollgate", newTollgate},
	{"opa-indexed", newOPAIndexed},
	{"opa-data", newOPAData},
	{"opa-index", newOPAIndexData},
	{"cedar-go", newCedar},
}
