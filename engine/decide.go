package engine

import (
	"time"

	"github.com/tollgate-dev/tollgate/engine/internal/merge"
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// Decide returns what a user gets on a data source, on the current snapshot.
func (e *Engine) Decide(userID, dataSourceID int64) (d Decision) {
	// Decided into the named result: a Decision is 472 bytes, not worth a copy.
	e.cur.Load().decide(&d, userID, dataSourceID)
	return d
}

func (d *Decision) add(r Reason) {
	if d == nil {
		return // a grant-only judgement keeps no reasons
	}
	d.addRef(refOf(r))
}

// addPolicy adds the verdict of policy p at level lv (levelRead or levelWrite):
// outcome o, decided by condition cond of its compact rule when compact, else with
// the verdict's detail and error. Decide adds one per applied policy, so the
// reason is written in place.
func (d *Decision) addPolicy(lv uint8, p *policyState, o rule.Outcome, compact bool, cond int, detail string, err error) {
	if d == nil {
		return
	}
	if d.all == nil && d.nReasons < MaxReasons {
		// The slot is zero (a decision starts from the zero Decision and fills
		// each slot once), so only what is not zero is written.
		r := &d.reasons[d.nReasons]
		r.p = p
		if detail != "" {
			r.detail = detail
		}
		if err != nil {
			r.err = err
		}
		r.kind, r.level, r.compact, r.cond, r.outcome = ReasonPolicy, lv, compact, int16(cond), o
		d.nReasons++
		return
	}
	d.addRef(reasonRef{p: p, detail: detail, err: err, kind: ReasonPolicy, level: lv, compact: compact, cond: int16(cond), outcome: o})
}

// addNoPolicy adds that no subscription policy applies at level lv (levelRead
// or levelWrite).
func (d *Decision) addNoPolicy(lv uint8) {
	if d == nil {
		return
	}
	detail := "no subscription policy applies at READ"
	if lv == levelWrite {
		detail = "no subscription policy applies at WRITE"
	}
	d.addRef(reasonRef{detail: detail, kind: ReasonNoPolicy, level: lv})
}

func (d *Decision) addRef(r reasonRef) {
	if d.all != nil {
		*d.all = append(*d.all, r.reason())
	}
	if d.nReasons < MaxReasons {
		d.reasons[d.nReasons] = r
		d.nReasons++
	}
}

// levelFacts is what the records and the policies say about one level.
type levelFacts struct {
	grant    bool // a live manual grant at this level or above
	selfSub  bool // a live subscribed request at this level or above that needed no approval
	approved bool // a live approved request at this level or above
	pending  bool // a pending request at exactly this level
}

// Explain returns what a user gets on a data source with every reason, uncapped
// (Decide keeps the first MaxReasons and does not allocate).
func (e *Engine) Explain(userID, dataSourceID int64) (Decision, []Reason) {
	return e.cur.Load().Explain(userID, dataSourceID)
}

// Explain is Decide with every reason: each applied policy's verdict at each
// level, each record considered, ownership, and a ReasonNoPolicy for a level no
// subscription policy applies at.
func (s *Snapshot) Explain(userID, dataSourceID int64) (Decision, []Reason) {
	all := []Reason{}
	var d Decision
	d.all = &all
	s.decide(&d, userID, dataSourceID)
	d.all = nil
	return d, all
}

// Decide returns what a user gets on a data source (see docs/semantics.md,
// Decisions). It does not allocate; the Decision carries the first MaxReasons
// reasons (Explain returns every one). An unknown user or data source gets NONE.
func (s *Snapshot) Decide(userID, dataSourceID int64) (d Decision) {
	s.decide(&d, userID, dataSourceID)
	return d
}

// decide decides into d, which must be the zero Decision.
func (s *Snapshot) decide(d *Decision, userID, dataSourceID int64) {
	ds, ok := s.dataSources.Get(dataSourceID)
	if !ok {
		d.add(Reason{Kind: ReasonUnknown, Detail: "unknown data source"})
		return
	}
	u := s.users.m.Ref(userID) // read in place: a slot is a cache line
	if u == nil {
		d.add(Reason{Kind: ReasonUnknown, Detail: "unknown user"})
		return
	}
	j := s.judge(d, nil, u.st, u.symbols(), ds, userID, dataSourceID)
	d.Grant, d.Read, d.Write, d.Discoverable = j.Grant, j.Read, j.Write, j.Discoverable
}

// grantOf is Decide(userID, dataSourceID).Grant for the user u and data source ds
// of those ids, without the reasons. memo (nil: none) keeps the verdicts of u's
// rules that do not read the data source, across the calls for one user.
func (s *Snapshot) grantOf(memo *verdicts, u *userState, ds *dsState, userID, dataSourceID int64) Level {
	return s.judge(nil, memo, u, u.symbols(), ds, userID, dataSourceID).Grant
}

// verdicts memoises, for one user, the verdicts of rules that judge the user
// alone (not the data source: Reach().PerSubject), such as advanced expressions
// that read no tag or variable.
type verdicts struct {
	u *userState
	m map[*rule.Rule]rule.Verdict
}

// of returns r's verdict for u, evaluating it once per memo.
func (v *verdicts) of(r *rule.Rule, u *userState) rule.Verdict {
	if v.u != u || v.m == nil {
		v.u, v.m = u, map[*rule.Rule]rule.Verdict{}
	}
	x, ok := v.m[r]
	if !ok {
		x = r.Evaluate(&u.subj, nil)
		v.m[r] = x
	}
	return x
}

// judgement is a Decision without its reasons.
type judgement struct {
	Grant        Level
	Read, Write  State
	Discoverable bool
}

// judge decides what user u (of id userID, whose subject's symbols are syms) gets
// on data source ds (of id dataSourceID), adding the reasons to d; a nil d keeps
// none. memo is as grantOf's. u is loaded only when a rule or record needs more
// than syms.
func (s *Snapshot) judge(d *Decision, memo *verdicts, u *userState, syms []uint32, ds *dsState, userID, dataSourceID int64) (j judgement) {
	var now time.Time
	haveNow := false
	clock := func() time.Time {
		if !haveNow {
			now, haveNow = s.cfg.now(), true
		}
		return now
	}

	owner := ds.isOwner(userID)
	if owner {
		d.add(Reason{Kind: ReasonOwner, Level: model.Read, Detail: "listed owner"})
	}
	var rf, wf levelFacts
	consider := func(r *model.AccessRecord) {
		if r.State == model.RecordDenied {
			return
		}
		if !r.Expiration.IsZero() && !clock().Before(r.Expiration) {
			return
		}
		isWrite := r.AccessGrant == model.Write
		if r.IsSubscriptionOverride {
			rf.grant = true
			if isWrite {
				wf.grant = true
			}
			if r.State == model.RecordOwner && !owner {
				owner = true
				d.add(Reason{Kind: ReasonOwner, Level: model.Read, RecordID: r.ID, Detail: "owner grant"})
			}
			d.add(Reason{Kind: ReasonRecord, Level: r.AccessGrant, RecordID: r.ID, Detail: "manual grant"})
			return
		}
		switch r.State {
		case model.RecordPending:
			if isWrite {
				wf.pending = true
			} else {
				rf.pending = true
			}
			d.add(Reason{Kind: ReasonRecord, Level: r.AccessGrant, RecordID: r.ID, Detail: "pending request"})
		case model.RecordSubscribed, model.RecordExpert, model.RecordOwner:
			if len(r.Approvals) == 0 {
				rf.selfSub = true
				if isWrite {
					wf.selfSub = true
				}
				d.add(Reason{Kind: ReasonRecord, Level: r.AccessGrant, RecordID: r.ID, Detail: "subscribed"})
			} else {
				rf.approved = true
				if isWrite {
					wf.approved = true
				}
				d.add(Reason{Kind: ReasonRecord, Level: r.AccessGrant, RecordID: r.ID, Detail: "approved request"})
			}
		}
	}
	if ds.has&rareRecords != 0 && ds.userRecords() > 0 {
		recs, _ := s.userRecs.Get(pairKey(dataSourceID, userID))
		for _, r := range recs {
			if r.Profile == userID && r.DataSourceID == dataSourceID {
				consider(r)
			}
		}
	}
	if ds.has&rareRecords != 0 {
		for _, r := range ds.groupGrants() {
			if u.inGroup(r.Group) {
				consider(r)
			}
		}
	}

	// Policy outcomes per level; READ takes the higher of READ and WRITE.
	rO, rAuto := rule.Unsatisfied, false
	wO, wAuto := rule.Unsatisfied, false
	if ds.hasIndet() {
		d.add(Reason{Kind: ReasonIndeterminate, PolicyID: ds.indet()[0].policyID, Err: ds.indet()[0].err,
			Detail: "a circumstance could not be evaluated: policy-derived access is NONE"})
	} else {
		read, write := ds.levels()
		wO, wAuto = s.level(d, memo, u, syms, ds, write, levelWrite)
		rO, rAuto = s.level(d, memo, u, syms, ds, read, levelRead)
		rO, rAuto = combineLevels(rO, rAuto, wO, wAuto)
	}

	holdW := wf.grant ||
		(wO == rule.Satisfied && (wAuto || wf.selfSub)) ||
		(wf.approved && wO >= rule.NeedsApproval)
	holdR := owner || rf.grant || holdW ||
		(rO == rule.Satisfied && (rAuto || rf.selfSub)) ||
		(rf.approved && rO >= rule.NeedsApproval)

	j.Read = levelState(owner, holdR, rf.pending, rO)
	j.Write = levelState(owner && holdW, holdW, wf.pending, wO)
	switch {
	case holdW:
		j.Grant = LevelWrite
	case holdR:
		j.Grant = LevelRead
	}
	j.Discoverable = j.Read != StateNone || j.Write != StateNone || (ds.discovery && !ds.hasIndet())
	return j
}

// combineLevels folds WRITE's merged outcome into READ's: READ takes the higher of
// the two, and is automatic when the one it takes is (either one, when they are
// equal).
func combineLevels(rO rule.Outcome, rAuto bool, wO rule.Outcome, wAuto bool) (rule.Outcome, bool) {
	if wO > rO {
		return wO, wAuto
	}
	if wO == rO {
		return rO, rAuto || wAuto
	}
	return rO, rAuto
}

func levelState(owner, hold, pending bool, o rule.Outcome) State {
	switch {
	case owner:
		return StateOwner
	case hold:
		return StateSubscribed
	case pending:
		return StatePending
	case o == rule.Satisfied:
		return StateEligible
	case o == rule.NeedsApproval:
		return StateRequestable
	}
	return StateNone
}

// level merges the policies of one level for one user.
func (s *Snapshot) level(d *Decision, memo *verdicts, u *userState, syms []uint32, ds *dsState, ps []levelPolicy, lv uint8) (rule.Outcome, bool) {
	if len(ps) == 0 {
		d.addNoPolicy(lv)
		return rule.Unsatisfied, false
	}
	var m merge.Merger
	for i := range ps {
		p := &ps[i]
		if c, ok := p.compact(); ok {
			// Judged from the user's symbols and the compact form: the rule itself is
			// loaded only for the reason.
			o, cond := c.Judge(syms)
			m.Add(o, p.share(), p.auto())
			d.addPolicy(lv, p.p, o, true, cond, "", nil)
			continue
		}
		var v rule.Verdict
		if r := p.p.r; memo != nil && !p.p.readsDS {
			v = memo.of(r, u)
		} else {
			// syms are u's symbols in the engine's Interner, which compiled every
			// rule: conditions and exact DSL calls are answered without loading u.
			v = r.EvaluateSymbols(&u.subj, syms, ds.res)
		}
		m.Add(v.Outcome, p.share(), p.auto())
		d.addPolicy(lv, p.p, v.Outcome, false, -1, v.Reason, v.Err)
	}
	return m.Result()
}

// levelResult is the exact merge of one level, with the approval slots a request
// would need (allocates; used by requests and impact).
func (s *Snapshot) levelResult(u *userState, ds *dsState, lv model.AccessGrant) merge.LevelResult {
	if len(ds.indet()) > 0 {
		return merge.LevelResult{Outcome: rule.Unsatisfied}
	}
	items := func(ps []levelPolicy) []merge.Item {
		out := make([]merge.Item, 0, len(ps))
		for _, p := range ps {
			v := p.p.r.Evaluate(&u.subj, ds.res)
			out = append(out, merge.Item{PolicyID: p.p.p.ID, Outcome: v.Outcome,
				ShareResponsibility: p.share(), Automatic: p.auto(), Approvals: p.p.r.Approvals()})
		}
		return out
	}
	read, write := ds.levels()
	w := merge.MergeLevel(items(write))
	if lv == model.Write {
		return w
	}
	return merge.CombineReadWrite(merge.MergeLevel(items(read)), w)
}
