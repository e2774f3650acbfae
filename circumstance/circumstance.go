package circumstance

import (
	"time"

	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/model"
)

// DefaultRegexTimeout bounds every column regex match unless WithRegexTimeout says
// otherwise.
const DefaultRegexTimeout = match.DefaultRegexTimeout

// ErrRegexTimeout is wrapped by the error of an Indeterminate result caused by a
// column regex match that exceeded its timeout.
var ErrRegexTimeout = match.ErrRegexTimeout

// Option configures Compile.
type Option func(*options)

type options struct {
	regexTimeout time.Duration
}

// WithRegexTimeout sets the timeout of every column regex match (default
// DefaultRegexTimeout). A d <= 0 keeps the default: matches are never unbounded.
func WithRegexTimeout(d time.Duration) Option {
	return func(o *options) { o.regexTimeout = d }
}

// Result is the outcome of a policy's circumstances on one data source.
type Result uint8

const (
	// NotApplies: the policy does not apply to the data source.
	NotApplies = Result(match.NotApplies)
	// Applies: the policy applies to the data source.
	Applies = Result(match.Applies)
	// Indeterminate: a circumstance could not be evaluated (a regex timeout), so
	// whether the policy applies is unknown. Callers fail closed.
	Indeterminate = Result(match.Indeterminate)
)

// String returns "NotApplies", "Applies" or "Indeterminate".
func (r Result) String() string { return match.Result(r).String() }

// Matcher is the compiled form of one policy's circumstances and circumstance
// operator. It is immutable and safe for concurrent use by multiple goroutines.
type Matcher struct {
	m *match.Matcher
}

// Compile compiles the circumstances of p. The returned error is a model.ErrorList:
// a column regex that does not compile is reported at circumstances[i].regex with
// code compile. A circumstance type or operator Compile does not know is reported
// as notSupported (model validation rejects those first). Other structural rules
// (required values, date order) are model.Validate's to check; Compile gives
// whatever it receives its literal meaning and never panics.
func Compile(p *model.Policy, opts ...Option) (*Matcher, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	m, err := match.Compile(p, match.WithRegexTimeout(o.regexTimeout))
	if err != nil {
		return nil, err
	}
	return &Matcher{m: m}, nil
}

// OwnerSelected reports whether the policy has an owner-selected circumstance.
func (m *Matcher) OwnerSelected() bool { return m.m.OwnerSelected() }

// Match evaluates the circumstances on data source ds. ownerSelected tells whether
// an owner of ds applied this policy there (it matters only to an owner-selected
// circumstance). No circumstances: Applies. With the operator any: Applies if any
// circumstance applies, else Indeterminate if any is indeterminate, else
// NotApplies. With all: NotApplies if any does not apply, else Indeterminate if any
// is, else Applies. The error is non-nil exactly when the result is Indeterminate;
// it wraps ErrRegexTimeout and names the circumstance and column.
func (m *Matcher) Match(ds *model.DataSource, ownerSelected bool) (Result, error) {
	r, err := m.m.Match(match.NewTarget(ds), ownerSelected)
	return Result(r), err
}
