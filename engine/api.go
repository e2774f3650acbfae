package engine

import (
	"errors"
	"strconv"
	"time"

	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// Sentinel errors callers branch on (wrapped with %w; test with errors.Is).
var (
	// ErrUnauthenticated: the actor is not a known user.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the actor is not allowed to do this.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: an id names nothing.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a policyKey is already taken.
	ErrConflict = errors.New("conflict")
	// ErrInternal: a write failed on a bug (it panicked); nothing changed.
	ErrInternal = errors.New("internal error")
)

// Actor is who performs a call: a user of the directory (As), or the system actor
// (SystemActor) that bundle setup and trusted tooling run as. The zero Actor is
// nobody: every call it makes fails with ErrUnauthenticated.
type Actor struct {
	// ID is the user's profile id; 0 for the system actor and for nobody.
	ID     int64
	system bool
}

// SystemActor returns the built-in GOVERNANCE actor (not a user of the directory).
// Only code that holds the Engine can make it; a REST caller never acts as it.
func SystemActor() Actor { return Actor{system: true} }

// As returns the actor for a user id. As(0) is nobody (the zero Actor).
func As(userID int64) Actor { return Actor{ID: userID} }

// IsSystem reports whether a is the system actor.
func (a Actor) IsSystem() bool { return a.system }

// Level is an effective access level: what a decision grants.
type Level uint8

// Levels, ordered.
const (
	LevelNone Level = iota
	LevelRead
	LevelWrite
)

// String returns NONE, READ or WRITE.
func (g Level) String() string {
	switch g {
	case LevelRead:
		return "READ"
	case LevelWrite:
		return "WRITE"
	}
	return "NONE"
}

// State is a user's state at one access level on one data source (see
// docs/semantics.md, Decision states).
type State uint8

// States, from weakest to strongest.
const (
	StateNone State = iota
	StateRequestable
	StateEligible
	StatePending
	StateSubscribed
	StateOwner
)

var stateNames = [...]string{"none", "requestable", "eligible", "pending", "subscribed", "owner"}

// String returns none, requestable, eligible, pending, subscribed or owner; a value
// out of range renders as State(n).
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// ReasonKind classifies a Reason.
type ReasonKind uint8

// Reason kinds.
const (
	// ReasonPolicy: an applied policy's verdict (PolicyID, PolicyKey, Level, Detail).
	ReasonPolicy ReasonKind = iota + 1
	// ReasonRecord: an access record (RecordID, Level, Detail).
	ReasonRecord
	// ReasonOwner: the user owns the data source (Detail says how).
	ReasonOwner
	// ReasonIndeterminate: the data source is indeterminate (Err).
	ReasonIndeterminate
	// ReasonNoPolicy: no subscription policy applies at Level.
	ReasonNoPolicy
	// ReasonUnknown: the user or the data source is unknown.
	ReasonUnknown
)

// Reason explains one part of a decision.
type Reason struct {
	// Kind says what the reason is about, and so which fields are set.
	Kind ReasonKind
	// Level is the access level the reason is about (READ or WRITE).
	Level model.AccessGrant
	// PolicyID and PolicyKey name the policy (ReasonPolicy).
	PolicyID  int64
	PolicyKey string
	// RecordID names the access record (ReasonRecord).
	RecordID int64
	// Outcome is the policy's outcome for the user (ReasonPolicy), e.g. "satisfied".
	Outcome string
	// Detail says more, in words: the rule's reason, how the user owns the data
	// source, the record's state.
	Detail string
	// Err is why the data source is indeterminate (ReasonIndeterminate).
	Err error
}

// MaxReasons is how many reasons a Decision carries inline.
const MaxReasons = 8

// Decision is what one user gets on one data source, with the reasons.
type Decision struct {
	// Grant is the access the user holds now: LevelNone, LevelRead or LevelWrite.
	Grant Level
	// Read and Write are the user's states at each level (see docs/semantics.md,
	// Decision states).
	Read  State
	Write State
	// Discoverable is true when the user may see that the data source exists.
	Discoverable bool
	reasons      [MaxReasons]reasonRef
	nReasons     int
	all          *[]Reason // Explain's list of every reason; nil in Decide
}

// Reasons returns a copy of the first MaxReasons reasons (Explain returns every
// one); it works on a value, so
// e.Decide(u, ds).Reasons() compiles. Decide itself does not allocate; Reasons does
// (once, when there are reasons).
func (d Decision) Reasons() []Reason {
	if d.nReasons == 0 {
		return nil
	}
	out := make([]Reason, d.nReasons)
	for i := range out {
		out[i] = d.reasons[i].reason()
	}
	return out
}

// Equal reports whether two decisions say the same: the same grant, states and
// discoverability, and the same reasons (errors compared by their messages).
// Decisions of different engines or snapshots compare with Equal, not ==: a
// Decision refers to the policies it names rather than holding copies.
func (d Decision) Equal(o Decision) bool {
	if d.Grant != o.Grant || d.Read != o.Read || d.Write != o.Write || d.Discoverable != o.Discoverable ||
		d.nReasons != o.nReasons {
		return false
	}
	for i := range d.nReasons {
		a, b := d.reasons[i].reason(), o.reasons[i].reason()
		ea, eb := a.Err, b.Err
		a.Err, b.Err = nil, nil
		if a != b || (ea == nil) != (eb == nil) || (ea != nil && ea.Error() != eb.Error()) {
			return false
		}
	}
	return true
}

// reasonRef is a Reason as a Decision keeps it, in 56 bytes: a policy's verdict
// names the policy state and, for a compact rule, the condition that decided it,
// so that deciding does not load the policy or its rule, and copying a Decision
// stays cheap; Reasons writes them out.
type reasonRef struct {
	p       *policyState // a policy verdict's policy (PolicyID, PolicyKey and, when compact, Detail come from it)
	detail  string
	err     error
	id      int64 // the RecordID, or the PolicyID when pid
	kind    ReasonKind
	level   uint8 // 0 (none), levelRead or levelWrite
	pid     bool
	compact bool
	cond    int16 // the deciding condition of a compact rule's verdict (rule.Compact.Judge)
	outcome rule.Outcome
}

// The levels of a reasonRef.
const (
	levelRead  uint8 = 1
	levelWrite uint8 = 2
)

var levelNames = [...]model.AccessGrant{"", model.Read, model.Write}

// refOf returns r as a Decision keeps it. A Reason names a record or a policy,
// never both; Level is READ, WRITE or empty.
func refOf(r Reason) reasonRef {
	ref := reasonRef{detail: r.Detail, err: r.Err, id: r.RecordID, kind: r.Kind}
	if r.PolicyID != 0 {
		ref.id, ref.pid = r.PolicyID, true
	}
	switch r.Level {
	case model.Read:
		ref.level = levelRead
	case model.Write:
		ref.level = levelWrite
	}
	return ref
}

func (r *reasonRef) reason() Reason {
	out := Reason{Kind: r.kind, Level: levelNames[r.level], Detail: r.detail, Err: r.err}
	if r.pid {
		out.PolicyID = r.id
	} else {
		out.RecordID = r.id
	}
	if r.p != nil {
		out.PolicyID, out.PolicyKey = r.p.p.ID, r.p.p.Key
		out.Outcome = r.outcome.String()
		if r.compact {
			out.Detail = r.p.r.VerdictOf(r.outcome, int(r.cond)).Reason
		}
	}
	return out
}

// AccessRequest is what Access does on one data source: without a State, a request
// for access by the actor, for themselves; with a State, a manual grant.
type AccessRequest struct {
	// State is empty for a request, or subscribed, expert or owner for a grant.
	State model.RecordState
	// AccessGrant is READ (the default when empty) or WRITE.
	AccessGrant model.AccessGrant
	// ProfileID or GroupID names who a grant is for (neither: the actor). A
	// request is always the actor's own: naming another user, or a group, is
	// refused.
	ProfileID, GroupID int64
	// Expiration is zero for none.
	Expiration time.Time
	// Approvers names the specific approver of each approval slot that requires
	// one, in slot order (a request only).
	Approvers []int64
}

// WriteOptions are the query flags of policy writes.
type WriteOptions struct {
	// DryRun validates and computes the impact, storing nothing.
	DryRun bool
	// ReCertify resets the certification on every data source the policy applies to
	// when the certification changed.
	ReCertify bool
}

// Impact is what a policy write changes.
type Impact struct {
	// DataSourcesAdded and DataSourcesRemoved are the data sources the policy
	// starts and stops applying to, ascending.
	DataSourcesAdded   []int64
	DataSourcesRemoved []int64
	// Users are the first user entries (at most the engine's impact user limit,
	// WithImpactUserLimit) of a dry run; a write leaves them empty.
	Users []UserImpact
	// UsersTotal is how many user entries the dry run found in all.
	UsersTotal int
	// Truncated is true when Users holds fewer entries than UsersTotal.
	Truncated bool
}

// DefaultImpactUserLimit is how many user entries a dry run's impact lists at most
// by default (see docs/security.md, Limits).
const DefaultImpactUserLimit = 1000

// UserImpact is one user whose grant on one data source changes.
type UserImpact struct {
	// ProfileID is the user, DataSourceID the data source.
	ProfileID    int64
	DataSourceID int64
	// Before and After are the user's grant without and with the write.
	Before Level
	After  Level
}

// Failure is one refused entry of Approve or Deny.
type Failure struct {
	// ID is the access record id of the entry.
	ID int64
	// Reason says why the entry was refused.
	Reason string
}

// Option configures an Engine.
type Option func(*config)

type config struct {
	now          func() time.Time
	regexTimeout time.Duration
	costLimit    uint64
	onChange     func(Change)
	limits       model.Limits
	retention    int
	storeTimeout time.Duration
	impactUsers  int
	// dryRunUnlocked, when set (by tests), is called by a dry run once it released
	// the writer lock, before it compares decisions.
	dryRunUnlocked func()
}

// WithImpactUserLimit bounds the user entries of a dry run's impact (default
// DefaultImpactUserLimit; n <= 0 keeps the default). The impact then reports the
// total and that it was truncated.
func WithImpactUserLimit(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.impactUsers = n
		}
	}
}

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRegexTimeout bounds every column-regex match (default 50ms).
func WithRegexTimeout(d time.Duration) Option { return func(c *config) { c.regexTimeout = d } }

// WithCostLimit bounds the evaluation cost of advanced expressions.
func WithCostLimit(n uint64) Option { return func(c *config) { c.costLimit = n } }

// WithChangeCallback sets a function called with the change of every committed
// write, after it was published, outside the writer lock (calls of concurrent
// writes may arrive out of revision order; Watch delivers in order).
func WithChangeCallback(f func(Change)) Option { return func(c *config) { c.onChange = f } }

// WithLimits sets input size limits.
func WithLimits(l model.Limits) Option { return func(c *config) { c.limits = l } }

// WithRetention sets how many of the last change-log entries an engine without a
// store keeps (default DefaultRetention); a store has its own bound.
func WithRetention(n int) Option { return func(c *config) { c.retention = n } }

// WithStoreTimeout bounds every store call (default 10s); a commit that takes longer
// fails with ErrStore.
func WithStoreTimeout(d time.Duration) Option { return func(c *config) { c.storeTimeout = d } }
