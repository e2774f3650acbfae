package engine_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// Soak sizes: the work is bounded by the writers' operation count (no sleeps);
// readers run until the writers are done. soakDeadline only caps a pathologically
// slow machine (the run then ends early and says so).
const (
	soakWriters      = 2
	soakReaders      = 3
	soakWriterOps    = 4500 // per writer
	soakDataSources  = 30
	soakUsers        = 40
	soakDeadline     = 60 * time.Second
	soakClockEvery   = 250 // writer ops between clock advances (10 minutes each)
	soakSnapshotKeep = 8   // old snapshots held and re-checked at the end
)

var soakTags = []string{"A", "A.B", "A.B.C", "B", "B.C", "C"}

// soakStats counts operations by kind.
type soakStats struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *soakStats) add(kind string, n int) {
	s.mu.Lock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[kind] += n
	s.mu.Unlock()
}

func (s *soakStats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.n))
	for k := range s.n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, s.n[k])
	}
	return b.String()
}

func (s *soakStats) get(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[kind]
}

// soakClock is the engine's clock: fixed between advances, so that a snapshot's
// answers can be compared (Decide depends on the clock for expirations).
type soakClock struct{ ns atomic.Int64 }

func (c *soakClock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func soakWorld(t testing.TB, c *soakClock) *engine.Engine {
	t.Helper()
	e := engine.New(engine.WithClock(c.Now))
	groups := []*model.Group{
		{ID: 1, Name: "g1", Attributes: map[string][]string{"region": {"eu"}}},
		{ID: 2, Name: "g2"}, {ID: 3, Name: "g3"},
	}
	if err := e.PutGroups(engine.SystemActor(), groups); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	var users []*model.User
	for id := int64(1); id <= soakUsers; id++ {
		users = append(users, soakUser(r, id))
	}
	if err := e.PutUsers(engine.SystemActor(), users); err != nil {
		t.Fatal(err)
	}
	var dss []*model.DataSource
	for id := int64(1); id <= soakDataSources; id++ {
		dss = append(dss, soakDataSource(r, id))
	}
	if err := e.PutDataSources(engine.SystemActor(), dss); err != nil {
		t.Fatal(err)
	}
	return e
}

func soakUser(r *rand.Rand, id int64) *model.User {
	u := &model.User{ID: id, Name: fmt.Sprint("u", id)}
	switch id {
	case 1:
		u.Permissions = []model.Permission{model.Governance}
	case 2:
		u.Permissions = []model.Permission{model.UserAdmin}
	}
	for _, g := range []string{"g1", "g2", "g3"} {
		if r.Intn(3) == 0 {
			u.Groups = append(u.Groups, g)
		}
	}
	if r.Intn(2) == 0 {
		u.Attributes = map[string][]string{"level": {fmt.Sprint("L", r.Intn(3))}}
	}
	return u
}

func soakDataSource(r *rand.Rand, id int64) *model.DataSource {
	ds := &model.DataSource{ID: id, Name: fmt.Sprint("ds", id), Owners: []int64{3 + r.Int63n(soakUsers-2)}}
	for _, tg := range soakTags {
		if r.Intn(4) == 0 {
			ds.Tags = append(ds.Tags, tg)
		}
	}
	ds.Columns = []model.Column{{Name: "c1", Tags: []string{soakTags[r.Intn(len(soakTags))]}}}
	return ds
}

func soakPolicy(r *rand.Rand, key string) *model.Policy {
	a := model.Action{AccessGrant: model.Read, AutomaticSubscription: r.Intn(2) == 0,
		ShareResponsibility: r.Intn(3) == 0, AllowDiscovery: r.Intn(4) == 0}
	if r.Intn(3) == 0 {
		a.AccessGrant = model.Write
	}
	switch r.Intn(5) {
	case 0, 1:
		a.Type = model.ActionAnyone
	case 2:
		a.Type = model.ActionEntitlements
		if r.Intn(2) == 0 {
			a.Entitlements = &model.Entitlements{Operator: model.Any, Groups: []string{fmt.Sprint("g", 1+r.Intn(3))}}
		} else {
			a.Entitlements = &model.Entitlements{Operator: model.All,
				Attributes: []model.Attribute{{Name: "level", Value: fmt.Sprint("L", r.Intn(3))}}}
		}
	case 3:
		a.Type = model.ActionApproval
		perm := model.UserAdmin
		if r.Intn(2) == 0 {
			perm = model.Owner
		}
		a.Approvals = []model.Approval{{RequiredPermission: perm}}
	default:
		a.Type = model.ActionManual
	}
	p := &model.Policy{Key: key, Name: key, Type: model.PolicySubscription, Action: a,
		CircumstanceOperator: model.Any, Staged: r.Intn(5) == 0}
	for i := r.Intn(3); i > 0; i-- {
		if r.Intn(3) == 0 {
			p.Circumstances = append(p.Circumstances, model.Circumstance{Type: model.CircumstanceColumnTags, ColumnTag: soakTags[r.Intn(len(soakTags))]})
		} else {
			p.Circumstances = append(p.Circumstances, model.Circumstance{Type: model.CircumstanceTags, Tag: soakTags[r.Intn(len(soakTags))]})
		}
	}
	if len(p.Circumstances) > 1 && r.Intn(2) == 0 {
		p.CircumstanceOperator = model.All
	}
	return p
}

// soakWrite performs one random write and returns its kind ("-err" appended when
// the engine refused it, which is fine: refused writes must change nothing).
func soakWrite(r *rand.Rand, e *engine.Engine, c *soakClock, w, n int) string {
	gov := engine.As(1)
	policyIDs := func() []int64 {
		ps := e.Snapshot().Policies()
		ids := make([]int64, len(ps))
		for i, p := range ps {
			ids[i] = p.ID
		}
		return ids
	}
	pick := func(ids []int64) (int64, bool) {
		if len(ids) == 0 {
			return 0, false
		}
		return ids[r.Intn(len(ids))], true
	}
	kind := ""
	var err error
	switch op := r.Intn(100); {
	case op < 18:
		kind = "createPolicy"
		_, _, err = e.CreatePolicy(gov, soakPolicy(r, fmt.Sprintf("p%d-%d", w, n)), engine.WriteOptions{})
	case op < 30:
		kind = "updatePolicy"
		if id, ok := pick(policyIDs()); ok {
			p := soakPolicy(r, "")
			p.Name = fmt.Sprintf("updated %d-%d", w, n) // the key stays (empty key: keep it)
			_, _, err = e.UpdatePolicy(gov, id, p, engine.WriteOptions{})
		}
	case op < 38:
		kind = "deletePolicy"
		if id, ok := pick(policyIDs()); ok {
			_, err = e.DeletePolicy(gov, id)
		}
	case op < 48:
		kind = "putDataSource"
		err = e.PutDataSource(engine.SystemActor(), soakDataSource(r, 1+r.Int63n(soakDataSources)))
	case op < 56:
		kind = "putUser"
		err = e.PutUser(engine.SystemActor(), soakUser(r, 3+r.Int63n(soakUsers-2)))
	case op < 72:
		kind = "grant"
		req := engine.AccessRequest{State: []model.RecordState{model.RecordSubscribed, model.RecordExpert, model.RecordOwner}[r.Intn(3)],
			AccessGrant: model.Read}
		if r.Intn(3) == 0 {
			req.AccessGrant = model.Write
		}
		if r.Intn(2) == 0 {
			req.Expiration = c.Now().Add(time.Duration(r.Intn(120)) * time.Minute)
		}
		if r.Intn(4) == 0 {
			g := 1 + r.Int63n(3)
			req.GroupID = g
		} else {
			p := 3 + r.Int63n(soakUsers-2)
			req.ProfileID = p
		}
		_, err = e.Access(gov, 1+r.Int63n(soakDataSources), req)
	case op < 82:
		kind = "revoke"
		recs := e.Records()
		if len(recs) > 0 {
			rec := recs[r.Intn(len(recs))]
			_, err = e.ChangeRecord(gov, rec.DataSourceID, rec.ID, &model.RecordChange{State: model.RecordDenied})
		}
	case op < 94:
		kind = "request"
		lvl := model.Read
		if r.Intn(3) == 0 {
			lvl = model.Write
		}
		_, err = e.Access(engine.As(3+r.Int63n(soakUsers-2)), 1+r.Int63n(soakDataSources), engine.AccessRequest{AccessGrant: lvl})
	default:
		kind = "approve"
		var pending []model.ApproveEntry
		for _, rec := range e.Records() {
			if rec.State == model.RecordPending && len(pending) < 3 {
				pending = append(pending, model.ApproveEntry{ID: rec.ID})
			}
		}
		if len(pending) > 0 {
			_, err = e.Approve(engine.As(2), pending)
		}
	}
	if err != nil {
		return kind + "-refused"
	}
	return kind
}

// soakCheck checks one snapshot: the same question answered twice alike (when the
// clock did not move), WRITE implies READ, no staged or deleted policy applied. It
// returns the number of decisions made, and the first problem.
func soakCheck(s *engine.Snapshot, c *soakClock, r *rand.Rand) (int, string) {
	live := map[int64]bool{}
	for _, p := range s.Policies() {
		live[p.ID] = !p.Staged
	}
	dss, users := s.DataSourceIDs(), s.UserIDs()
	n := 0
	for k := 0; k < 8; k++ {
		ds := dss[r.Intn(len(dss))]
		ps, err := s.AppliedPolicies(ds)
		if err != nil {
			return n, fmt.Sprintf("data source %d of the snapshot is missing: %v", ds, err)
		}
		for _, p := range ps {
			if p.Staged || !live[p.ID] {
				return n, fmt.Sprintf("policy %d (%s, staged %v, live %v) applied on %d", p.ID, p.Key, p.Staged, live[p.ID], ds)
			}
		}
		for j := 0; j < 10; j++ {
			u := users[r.Intn(len(users))]
			before := c.ns.Load()
			a, b := s.Decide(u, ds), s.Decide(u, ds)
			n += 2
			if c.ns.Load() == before && !soakSameDecision(a, b) {
				return n, fmt.Sprintf("one snapshot answered user %d on %d twice differently: %+v vs %+v", u, ds, a, b)
			}
			held := func(st engine.State) bool { return st == engine.StateSubscribed || st == engine.StateOwner }
			switch a.Grant {
			case engine.LevelWrite:
				if !held(a.Read) || !held(a.Write) {
					return n, fmt.Sprintf("user %d holds WRITE on %d without holding READ: %+v", u, ds, a)
				}
			case engine.LevelRead:
				if !held(a.Read) || held(a.Write) {
					return n, fmt.Sprintf("user %d: grant READ but states %v/%v on %d", u, a.Read, a.Write, ds)
				}
			default:
				if held(a.Read) || held(a.Write) {
					return n, fmt.Sprintf("user %d: grant NONE but states %v/%v on %d", u, a.Read, a.Write, ds)
				}
			}
		}
	}
	return n, ""
}

func soakSameDecision(a, b engine.Decision) bool {
	if a.Grant != b.Grant || a.Read != b.Read || a.Write != b.Write || a.Discoverable != b.Discoverable {
		return false
	}
	ra, rb := a.Reasons(), b.Reasons()
	if len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		x, y := ra[i], rb[i]
		if x.Kind != y.Kind || x.PolicyID != y.PolicyID || x.RecordID != y.RecordID || x.Outcome != y.Outcome || x.Level != y.Level {
			return false
		}
	}
	return true
}

// soakBulk runs the bulk queries bracketed by two snapshot loads; when no write
// happened in between (the same snapshot), the answers must equal what that
// snapshot decides. It returns whether the answer could be verified.
func soakBulk(e *engine.Engine, c *soakClock, r *rand.Rand) (verified bool, problem string) {
	u := 1 + r.Int63n(soakUsers)
	ds := 1 + r.Int63n(soakDataSources)
	lvl := engine.LevelRead
	if r.Intn(2) == 0 {
		lvl = engine.LevelWrite
	}
	clock := c.ns.Load()
	s1 := e.Snapshot()
	gotDS := e.DataSourcesFor(u, lvl)
	gotU := e.UsersFor(ds, lvl)
	s2 := e.Snapshot()
	for _, l := range [][]int64{gotDS, gotU} {
		if !sort.SliceIsSorted(l, func(i, j int) bool { return l[i] < l[j] }) {
			return false, fmt.Sprintf("bulk answer not ascending: %v", l)
		}
	}
	if s1 != s2 || c.ns.Load() != clock {
		return false, ""
	}
	var wantDS, wantU []int64
	for _, id := range s1.DataSourceIDs() {
		if s1.Decide(u, id).Grant >= lvl {
			wantDS = append(wantDS, id)
		}
	}
	for _, id := range s1.UserIDs() {
		if s1.Decide(id, ds).Grant >= lvl {
			wantU = append(wantU, id)
		}
	}
	if c.ns.Load() != clock {
		return false, "" // the clock moved while recomputing: expirations may differ
	}
	if fmt.Sprint(wantDS) != fmt.Sprint(gotDS) {
		return true, fmt.Sprintf("DataSourcesFor(%d, %v) = %v, the snapshot says %v", u, lvl, gotDS, wantDS)
	}
	if fmt.Sprint(wantU) != fmt.Sprint(gotU) {
		return true, fmt.Sprintf("UsersFor(%d, %v) = %v, the snapshot says %v", ds, lvl, gotU, wantU)
	}
	return true, ""
}

type soakHeld struct {
	s   *engine.Snapshot
	exp []byte
	at  int
}

// TestSoakConcurrentReadersAndWriters runs readers (decisions, applied policies,
// bulk queries) against writers (policy create/update/delete, data sources, users,
// grants, revocations, requests, approvals) for a fixed number of write operations,
// checking every read against one snapshot. Run it with -race.
func TestSoakConcurrentReadersAndWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: skipped under -short")
	}
	c := &soakClock{}
	c.ns.Store(secT0.UnixNano())
	e := soakWorld(t, c)
	var stats soakStats
	start := time.Now()
	deadline := start.Add(soakDeadline)
	var writersDone atomic.Bool
	var cappedEarly atomic.Bool
	var problems atomic.Int32
	report := func(format string, args ...any) {
		if problems.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}

	var heldMu sync.Mutex
	var held []soakHeld
	var writeOps atomic.Int64

	var wg sync.WaitGroup
	var writers sync.WaitGroup
	for w := 0; w < soakWriters; w++ {
		wg.Add(1)
		writers.Add(1)
		go func(w int) {
			defer wg.Done()
			defer writers.Done()
			r := rand.New(rand.NewSource(int64(100 + w)))
			for n := 0; n < soakWriterOps; n++ {
				if time.Now().After(deadline) {
					cappedEarly.Store(true)
					return
				}
				stats.add(soakWrite(r, e, c, w, n), 1)
				total := writeOps.Add(1)
				if w == 0 && total%soakClockEvery == 0 {
					c.ns.Add(int64(10 * time.Minute))
					stats.add("clockAdvance", 1)
				}
				if w == 0 && n%(soakWriterOps/soakSnapshotKeep) == 0 {
					s := e.Snapshot()
					exp, err := s.Export()
					if err != nil {
						report("export: %v", err)
						continue
					}
					heldMu.Lock()
					held = append(held, soakHeld{s: s, exp: exp, at: n})
					heldMu.Unlock()
				}
			}
		}(w)
	}
	for rd := 0; rd < soakReaders; rd++ {
		wg.Add(1)
		go func(rd int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(200 + rd)))
			for !writersDone.Load() {
				n, problem := soakCheck(e.Snapshot(), c, r)
				stats.add("decide", n)
				stats.add("snapshotCheck", 1)
				if problem != "" {
					report("reader %d: %s", rd, problem)
					return
				}
				ok, problem := soakBulk(e, c, r)
				stats.add("bulkQuery", 2)
				if ok {
					stats.add("bulkVerified", 1)
				}
				if problem != "" {
					report("reader %d: %s", rd, problem)
					return
				}
			}
		}(rd)
	}
	writers.Wait()
	writersDone.Store(true)
	wg.Wait()

	// Old snapshots never changed: each exports exactly as it did when taken.
	for _, h := range held {
		exp, err := h.s.Export()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(h.exp, exp) {
			t.Errorf("the snapshot taken at write %d changed", h.at)
		}
	}
	// The final state is consistent: it round-trips through export and import.
	final, err := e.Export()
	if err != nil {
		t.Fatal(err)
	}
	again := engine.New(engine.WithClock(c.Now))
	if err := again.Import(final); err != nil {
		t.Fatalf("the final state does not import: %v", err)
	}
	if exp, _ := again.Export(); !bytes.Equal(final, exp) {
		t.Error("the final state does not round-trip")
	}
	s := e.Snapshot()
	t.Logf("soak: %d write ops (%d writers), %d snapshot checks, %d decisions, %d bulk queries (%d verified against one snapshot), %d old snapshots re-checked, in %v; final state: %d policies, %d records",
		writeOps.Load(), soakWriters, stats.get("snapshotCheck"), stats.get("decide"), stats.get("bulkQuery"),
		stats.get("bulkVerified"), len(held), time.Since(start).Round(time.Millisecond), len(s.Policies()), len(s.Records()))
	t.Logf("soak ops:%s", stats.String())
	if cappedEarly.Load() {
		t.Logf("soak: the %v cap ended the writers early (slow machine)", soakDeadline)
	}
	if stats.get("bulkVerified") == 0 {
		t.Error("no bulk query could be verified against one snapshot")
	}
}
