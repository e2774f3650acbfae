package match

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/tollgate-dev/tollgate/model"
)

// DefaultRegexTimeout bounds every column regex match unless WithRegexTimeout says
// otherwise.
const DefaultRegexTimeout = 50 * time.Millisecond

// ErrRegexTimeout is wrapped by the error of an Indeterminate result caused by a
// column regex match that exceeded its timeout.
var ErrRegexTimeout = errors.New("circumstance: regex match timed out")

// Option configures Compile.
type Option func(*options)

type options struct {
	regexTimeout time.Duration
	keys         *Keys
}

// WithKeys makes the Matcher's keys symbols of k (default: a table of its own),
// so that it compares them as integers with the Targets built on k.
func WithKeys(k *Keys) Option {
	return func(o *options) {
		if k != nil {
			o.keys = k
		}
	}
}

// WithRegexTimeout sets the timeout of every column regex match (default
// DefaultRegexTimeout). A d <= 0 keeps the default: matches are never unbounded.
// regexp2 checks its deadline against a coarse clock (100 ms period), so a match
// may run for up to about d plus that period before it is stopped.
func WithRegexTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.regexTimeout = d
		}
	}
}

// Result is the outcome of a policy's circumstances on one data source.
type Result uint8

const (
	// NotApplies: the policy does not apply to the data source.
	NotApplies Result = iota
	// Applies: the policy applies to the data source.
	Applies
	// Indeterminate: a circumstance could not be evaluated (a regex timeout), so
	// whether the policy applies is unknown. Callers fail closed.
	Indeterminate
)

// String returns "NotApplies", "Applies" or "Indeterminate".
func (r Result) String() string {
	switch r {
	case NotApplies:
		return "NotApplies"
	case Applies:
		return "Applies"
	case Indeterminate:
		return "Indeterminate"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// kind is a circumstance kind, ordered by evaluation cost: Match evaluates cheap
// circumstances first so that a short-circuit avoids the regexes.
type kind uint8

const (
	kindOwnerSelected kind = iota
	kindServer
	kindDomains
	kindTags
	kindColumnTags
	kindNoTags
	kindAnyTag
	kindTime
	kindColumnRegex
)

// keyKind distinguishes the exact-match keys of the indexes.
type keyKind uint8

const (
	keyTag keyKind = iota
	keyColumnTag
	keyDomainID
	keyDomainName
	keyServer
)

// key is an exact-match index key. Looking one up in a map does not allocate.
type key struct {
	kind  keyKind
	value string
}

// domainRef is one domain of a domains circumstance: by id when it has one.
type domainRef struct {
	byID  bool
	value string
}

// cond is one compiled circumstance.
type cond struct {
	kind kind
	pos  int    // index in the policy's circumstances (error paths)
	str  string // tag, column tag or case-folded server
	// keys are the index keys of an exact-match circumstance: it applies exactly
	// when the data source has one of them. nil for the residual kinds. syms are
	// their symbols in the Matcher's table.
	keys      []key
	syms      []sym
	domains   []domainRef
	re        *colRegex
	startSec  int64
	startNs   int32
	endSec    int64
	endNs     int32
	openEnded bool
}

// exact reports whether c is decided by index keys alone.
func (c *cond) exact() bool {
	switch c.kind {
	case kindServer, kindDomains, kindTags, kindColumnTags:
		return true
	}
	return false
}

// Matcher is the compiled form of one policy's circumstances and circumstance
// operator. It holds copies of what it needs, never the model.Policy.
//
// A Matcher is immutable (but for the column regexes' result caches, which are
// guarded by a mutex) and safe for concurrent use by multiple goroutines. A column
// regex runs on Go's regexp (RE2) when it means the same there, else on regexp2
// (see colRegex); both are safe for concurrent use (regexp2 v1.12.0 guards its
// cache of matching machines with a mutex, regexp.go and runner.go:
// getRunner/putRunner). regexp2's MatchTimeout, however, is a plain field read
// without synchronisation on every match, so Compile sets it once, before the
// Matcher is returned, and nothing writes it again. Every regexp2 match runs under
// that timeout; a timeout makes the result Indeterminate. Matching a column name
// not yet cached allocates; nothing else in Match does.
type Matcher struct {
	keys          *Keys
	all           bool
	ownerSelected bool
	// byKeys: every circumstance is exact and the operator is any (or there is
	// only one), so the policy applies exactly on the data sources having one of
	// its keys; an index that found a data source through those keys needs no
	// Match.
	byKeys  bool
	timeout time.Duration
	conds   []cond // sorted by kind (cost), stable
}

// Compile compiles the circumstances of p. The returned error is a model.ErrorList:
// a column regex that does not compile is reported at circumstances[i].regex with
// code compile. A circumstance type or operator Compile does not know is reported
// as notSupported (model validation rejects those first). Other structural rules
// (required values, date order) are model's to check; Compile gives whatever it
// receives its literal meaning and never panics.
func Compile(p *model.Policy, opts ...Option) (*Matcher, error) {
	o := options{regexTimeout: DefaultRegexTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if p == nil {
		return nil, model.ErrorList{model.Required("", "policy is required")}
	}
	if o.keys == nil {
		o.keys = NewKeys()
	}
	m := &Matcher{timeout: o.regexTimeout, keys: o.keys}
	var errs model.ErrorList
	switch p.CircumstanceOperator {
	case model.All:
		m.all = true
	case model.Any, "":
	default:
		errs = append(errs, model.NotSupported(model.NewPath("circumstanceOperator"),
			string(p.CircumstanceOperator), []string{string(model.All), string(model.Any)}))
	}
	if len(p.Circumstances) > 0 {
		m.conds = make([]cond, 0, len(p.Circumstances))
	}
	for i := range p.Circumstances {
		c := &p.Circumstances[i]
		path := model.NewPath("circumstances").Index(i)
		cc := cond{pos: i}
		switch c.Type {
		case model.CircumstanceOwnerSelected:
			cc.kind = kindOwnerSelected
			m.ownerSelected = true
		case model.CircumstanceServer:
			cc.kind = kindServer
			cc.str = normServer(c.Server)
			cc.keys = []key{{keyServer, cc.str}}
		case model.CircumstanceDomains:
			cc.kind = kindDomains
			for _, d := range c.Domains {
				ref := domainRef{value: d.Name}
				k := key{keyDomainName, d.Name}
				if d.ID != "" {
					ref = domainRef{byID: true, value: d.ID}
					k = key{keyDomainID, d.ID}
				}
				if !slices.Contains(cc.keys, k) {
					cc.domains = append(cc.domains, ref)
					cc.keys = append(cc.keys, k)
				}
			}
			if cc.keys == nil {
				cc.keys = []key{} // exact, with no key: never applies
			}
		case model.CircumstanceTags:
			cc.kind = kindTags
			cc.str = c.Tag
			cc.keys = []key{{keyTag, c.Tag}}
		case model.CircumstanceColumnTags:
			cc.kind = kindColumnTags
			cc.str = c.ColumnTag
			cc.keys = []key{{keyColumnTag, c.ColumnTag}}
		case model.CircumstanceNoTags:
			cc.kind = kindNoTags
		case model.CircumstanceAnyTag:
			cc.kind = kindAnyTag
		case model.CircumstanceTime:
			cc.kind = kindTime
			cc.startSec, cc.startNs = splitTime(c.StartDate)
			cc.openEnded = c.EndDate.IsZero()
			cc.endSec, cc.endNs = splitTime(c.EndDate)
		case model.CircumstanceColumnRegex:
			cc.kind = kindColumnRegex
			re, err := newColRegex(c.Regex, c.CaseInsensitive, o.regexTimeout)
			if err != nil {
				errs = append(errs, model.CompileError(path.Child("regex"), model.ClipInput(err.Error())))
				continue
			}
			cc.re = re
		default:
			errs = append(errs, model.NotSupported(path.Child("type"), string(c.Type), model.CircumstanceTypes()))
			continue
		}
		if cc.keys != nil {
			cc.syms = make([]sym, len(cc.keys))
			for j, k := range cc.keys {
				cc.syms[j] = o.keys.intern(k)
			}
		}
		m.conds = append(m.conds, cc)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	slices.SortStableFunc(m.conds, func(a, b cond) int { return cmp.Compare(a.kind, b.kind) })
	m.byKeys = len(m.conds) > 0 && (!m.all || len(m.conds) == 1)
	for i := range m.conds {
		m.byKeys = m.byKeys && m.conds[i].exact()
	}
	return m, nil
}

// compileRegex compiles with regexp2, turning a panic of the parser on hostile
// input into an error.
func compileRegex(expr string, opt regexp2.RegexOptions) (re *regexp2.Regexp, err error) {
	defer func() {
		if r := recover(); r != nil {
			re, err = nil, fmt.Errorf("invalid regex: %v", r)
		}
	}()
	return regexp2.Compile(expr, opt)
}

// OwnerSelected reports whether the policy has an owner-selected circumstance.
func (m *Matcher) OwnerSelected() bool { return m.ownerSelected }

// emptyTarget stands in for a nil *Target.
var emptyTarget = NewTarget(nil)

// needsSelection reports whether the circumstances cannot apply unless an owner
// selected the policy: all of them must hold and one is owner-selected, or any may
// hold and every one is owner-selected.
func (m *Matcher) needsSelection() bool {
	if !m.ownerSelected {
		return false
	}
	if m.all {
		return true
	}
	for i := range m.conds {
		if m.conds[i].kind != kindOwnerSelected {
			return false
		}
	}
	return true
}

// Match evaluates the circumstances on t. ownerSelected tells whether an owner of
// t's data source applied this policy there (it matters only to an owner-selected
// circumstance). No circumstances: Applies. With the operator any: Applies if any
// circumstance applies, else Indeterminate if any is indeterminate, else
// NotApplies. With all: NotApplies if any does not apply, else Indeterminate if
// any is, else Applies. The error is non-nil exactly when the result is
// Indeterminate; it wraps ErrRegexTimeout and names the circumstance and column.
// Match does not allocate except inside column regex matching.
func (m *Matcher) Match(t *Target, ownerSelected bool) (Result, error) {
	if t == nil {
		t = emptyTarget
	}
	if len(m.conds) == 0 {
		return Applies, nil
	}
	var firstErr error
	for i := range m.conds {
		r, err := m.conds[i].match(t, m.keys, ownerSelected, m.timeout)
		switch r {
		case Applies:
			if !m.all {
				return Applies, nil
			}
		case NotApplies:
			if m.all {
				return NotApplies, nil
			}
		default:
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if firstErr != nil {
		return Indeterminate, firstErr
	}
	if m.all {
		return Applies, nil
	}
	return NotApplies, nil
}

func boolResult(b bool) Result {
	if b {
		return Applies
	}
	return NotApplies
}

// has reports whether set, a section of t, holds the i-th key of c. keys is the
// table of c's symbols: when t is built on another, the key is looked up there by
// name.
func (c *cond) has(t *Target, keys *Keys, set []sym, i int) bool {
	if t.keys == keys {
		return containsSym(set, c.syms[i])
	}
	s, ok := t.keys.lookup(c.keys[i])
	return ok && containsSym(set, s)
}

// match evaluates one circumstance; keys is the table of c's symbols.
func (c *cond) match(t *Target, keys *Keys, ownerSelected bool, timeout time.Duration) (Result, error) {
	switch c.kind {
	case kindOwnerSelected:
		return boolResult(ownerSelected), nil
	case kindServer:
		if t.keys == keys {
			return boolResult(t.server == c.syms[0]), nil
		}
		s, ok := t.keys.lookup(c.keys[0])
		return boolResult(ok && t.server == s), nil
	case kindDomains:
		for i, d := range c.domains {
			if d.byID && c.has(t, keys, t.domainIDs(), i) || !d.byID && c.has(t, keys, t.domainNames(), i) {
				return Applies, nil
			}
		}
		return NotApplies, nil
	case kindTags:
		return boolResult(c.has(t, keys, t.tags(), 0)), nil
	case kindColumnTags:
		return boolResult(c.has(t, keys, t.columnTags(), 0)), nil
	case kindNoTags:
		return boolResult(len(t.tags()) == 0 && len(t.columnTags()) == 0), nil
	case kindAnyTag:
		return boolResult(len(t.tags()) > 0 || len(t.columnTags()) > 0), nil
	case kindTime:
		if compareTime(t.createdSec, t.createdNs, c.startSec, c.startNs) < 0 {
			return NotApplies, nil
		}
		return boolResult(c.openEnded || compareTime(t.createdSec, t.createdNs, c.endSec, c.endNs) < 0), nil
	case kindColumnRegex:
		var firstErr error
		cols := t.columns()
		for i := range cols {
			col := cols[i].Name
			ok, err := c.re.match(col)
			if err != nil {
				if firstErr == nil {
					// regexp2's own error only repeats the input; ours names the place.
					firstErr = fmt.Errorf("%w: circumstances[%d].regex %q on column %q (timeout %v)",
						ErrRegexTimeout, c.pos, model.ClipInput(c.re.src), model.ClipInput(col), timeout)
				}
				continue
			}
			if ok {
				return Applies, nil
			}
		}
		if firstErr != nil {
			return Indeterminate, firstErr
		}
		return NotApplies, nil
	}
	return NotApplies, nil
}

// matchString runs one unanchored search of re on s under re.MatchTimeout.
// regexp2 measures its deadline with a background clock goroutine; on a starved
// machine that clock can jump forward and report a timeout for a match that has
// barely started. A timeout reported well before the budget elapsed by the wall
// clock is therefore retried (at most twice); a genuine one is returned.
func matchString(re *regexp2.Regexp, s string, timeout time.Duration) (bool, error) {
	for attempt := 0; ; attempt++ {
		start := time.Now()
		ok, err := re.MatchString(s)
		if err == nil || attempt == 2 || time.Since(start) >= timeout/2 {
			return ok, err
		}
	}
}
