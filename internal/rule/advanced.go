package rule

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/decls"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/tollgate-dev/tollgate/model"
)

// ErrCostLimitExceeded is matched (errors.Is) by the Verdict.Err of an advanced
// expression that exceeded its runtime cost limit.
var ErrCostLimitExceeded = errors.New("advanced expression exceeded its cost limit")

// advanced is a compiled advanced expression: a checked CEL program over the
// variables subject and resource.
type advanced struct {
	src   string // the CEL source, for diagnostics
	prg   cel.Program
	limit uint64
	// usesResource: the expression reads the data source (its tags or a variable).
	usesResource bool
	// in is the Interner of the symbols in ents (nil: the program was compiled
	// without one and makes no entitlement calls; see toCEL).
	in *Interner
	// ents are the groups and exact attribute pairs of the program's
	// entitlement calls, by the index the call carries.
	ents []entitlementRef
	// bounded: the program's static worst-case cost is within limit, so it is
	// built without a runtime cost check (see staticCosts).
	bounded bool
}

// entitlementRef is the group or attribute pair an entitlement call tests, and
// its symbol in the program's Interner.
type entitlementRef struct {
	sym         uint32
	group       bool
	name, value string // the group's name; or the attribute's name and value
}

// The CEL side of the DSL: two opaque variables and one function per special
// function, each bound to a Go implementation.
const (
	varSubject  = "subject"
	varResource = "resource"

	celHasAttribute         = "hasAttribute"         // (subject, name, value): exact
	celHasAttributeExpanded = "hasAttributeExpanded" // (subject, resource, name, template)
	celInGroup              = "isInGroup"            // (subject, group)
	celHasTagAsAttribute    = "hasTagAsAttribute"    // (subject, resource, name, scope)
	celHasTagAsGroup        = "hasTagAsGroup"        // (subject, resource, scope)
	// With an Interner, each exact @hasAttribute and each group of @isInGroups is
	// an entitlement call: (subject, i) tests the program's i-th entitlementRef, by
	// its symbol for a subject of that Interner (see subjectCtx), else by name. Two
	// arguments, so that CEL calls it without building an argument list.
	celHasEntitlement = "hasEntitlement" // (subject, index)

	ovHasAttribute         = "tollgate_hasAttribute"
	ovHasAttributeExpanded = "tollgate_hasAttributeExpanded"
	ovInGroup              = "tollgate_isInGroup"
	ovHasTagAsAttribute    = "tollgate_hasTagAsAttribute"
	ovHasTagAsGroup        = "tollgate_hasTagAsGroup"
	ovHasEntitlement       = "tollgate_hasEntitlement"
)

var (
	subjectType  = cel.OpaqueType("tollgate.Subject")
	resourceType = cel.OpaqueType("tollgate.Resource")
)

// celEnv is the one CEL environment every advanced expression is checked in.
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	str, b, i := cel.StringType, cel.BoolType, cel.IntType
	// The bindings check their arguments themselves, so CEL's runtime type guards
	// (a second check of every argument on every call) are disabled.
	noGuards := decls.DisableTypeGuards(true)
	return cel.NewEnv(
		cel.Variable(varSubject, subjectType),
		cel.Variable(varResource, resourceType),
		cel.Function(celHasAttribute, noGuards, cel.Overload(ovHasAttribute,
			[]*cel.Type{subjectType, str, str}, b, cel.FunctionBinding(bindHasAttribute))),
		cel.Function(celHasAttributeExpanded, noGuards, cel.Overload(ovHasAttributeExpanded,
			[]*cel.Type{subjectType, resourceType, str, str}, b, cel.FunctionBinding(bindSubjectResource2(celHasAttributeExpanded, hasAttributeExpanded)))),
		cel.Function(celInGroup, noGuards, cel.Overload(ovInGroup,
			[]*cel.Type{subjectType, str}, b, cel.BinaryBinding(bindInGroup))),
		cel.Function(celHasTagAsAttribute, noGuards, cel.Overload(ovHasTagAsAttribute,
			[]*cel.Type{subjectType, resourceType, str, str}, b, cel.FunctionBinding(bindSubjectResource2(celHasTagAsAttribute, hasTagAsAttribute)))),
		cel.Function(celHasTagAsGroup, noGuards, cel.Overload(ovHasTagAsGroup,
			[]*cel.Type{subjectType, resourceType, str}, b, cel.FunctionBinding(bindHasTagAsGroup))),
		cel.Function(celHasEntitlement, noGuards, cel.Overload(ovHasEntitlement,
			[]*cel.Type{subjectType, i}, b, cel.BinaryBinding(bindHasEntitlement))),
	)
})

// Runtime costs: one unit per call plus one per value or tag examined, so that the
// cost limit bounds the work of an expression on any data source.
var costTrackers = []cost.TrackerOption{
	cost.OverloadTracker(ovHasAttributeExpanded, func(args []ref.Val, _ ref.Val) *uint64 {
		n := 0
		if len(args) == 4 {
			if s, ok := argSubject(args[0]); ok && s != nil {
				if name, ok := args[2].(types.String); ok {
					n = len(s.attributeValues(string(name)))
				}
			}
		}
		return callCost(n)
	}),
	cost.OverloadTracker(ovHasTagAsAttribute, tagCost(3)),
	cost.OverloadTracker(ovHasTagAsGroup, tagCost(2)),
}

// tagCost charges one unit plus one per tag in the scope given by args[scopeArg].
func tagCost(scopeArg int) cost.FunctionTracker {
	return func(args []ref.Val, _ ref.Val) *uint64 {
		n := 0
		if len(args) > scopeArg {
			if r, ok := args[1].(resourceVal); ok && r.p != nil {
				if sc, ok := args[scopeArg].(types.String); ok {
					n = len(r.p.tags(string(sc)))
				}
			}
		}
		return callCost(n)
	}
}

// staticCosts is the estimator of an expression's worst-case cost before it runs
// (cel.Env.EstimateCost): the calls that the runtime charges per value or tag
// examined (costTrackers) may cost anything; the others cost what cel-go charges
// any call, one unit (a nil estimate asks for that default).
type staticCosts struct{}

func (staticCosts) EstimateCallCost(_, overloadID string, _ *cost.AstNode, _ []cost.AstNode) *cost.CallEstimate {
	switch overloadID {
	case ovHasAttributeExpanded, ovHasTagAsAttribute, ovHasTagAsGroup:
		return &cost.CallEstimate{CostEstimate: cost.CostEstimate{Min: 1, Max: math.MaxUint64}}
	}
	return nil
}

func (staticCosts) EstimateSize(cost.AstNode) *cost.SizeEstimate { return nil }

// costTable holds the small call costs, so that trackers need not allocate.
var costTable = func() (t [1024]uint64) {
	for i := range t {
		t[i] = uint64(i)
	}
	return t
}()

// callCost returns a pointer to 1 + n, the cost of a call examining n items.
func callCost(n int) *uint64 {
	if n+1 < len(costTable) {
		return &costTable[n+1]
	}
	c := uint64(n) + 1
	return &c
}

// compileAdvanced parses src, translates it to CEL, checks it and builds its program.
func compileAdvanced(src string, path model.Path, o *options) (*advanced, *model.FieldError) {
	if n := utf8.RuneCountInString(src); n > MaxAdvancedLength {
		return nil, model.TooLong(path, n, MaxAdvancedLength, "characters")
	}
	root, serr := parseAdvanced(src)
	if serr != nil {
		return nil, model.CompileError(path, serr.Error())
	}
	var b strings.Builder
	var ents *[]entitlementRef
	if o.in != nil {
		ents = new([]entitlementRef)
	}
	toCEL(&b, root, o.in, ents)
	env, err := celEnv()
	if err != nil {
		return nil, model.CompileError(path, "internal error: "+err.Error())
	}
	ast, iss := env.Compile(b.String())
	if iss.Err() != nil {
		return nil, model.CompileError(path, "internal error: "+iss.Err().Error())
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, model.CompileError(path, "internal error: expression is not boolean")
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	bound, err := env.EstimateCost(ast, staticCosts{})
	bounded := err == nil && bound.Max <= o.costLimit
	if !bounded {
		// The limit is enforced while evaluating (which costs cel-go an allocation
		// per evaluation); a program whose worst case is within it needs no check.
		opts = append(opts, cel.CostLimit(o.costLimit), cel.CostTrackerOptions(costTrackers...))
	}
	prg, err := env.Program(ast, opts...)
	if err != nil {
		return nil, model.CompileError(path, "internal error: "+err.Error())
	}
	a := &advanced{src: b.String(), prg: prg, limit: o.costLimit, usesResource: readsResource(root), in: o.in, bounded: bounded}
	if ents != nil {
		a.ents = *ents
	}
	return a, nil
}

// readsResource reports whether evaluating n reads the data source: a tag
// function, or @hasAttribute with a variable in its value (as toCEL translates).
func readsResource(n *node) bool {
	for _, k := range n.kids {
		if readsResource(k) {
			return true
		}
	}
	if n.kind != nCall {
		return false
	}
	switch n.fn {
	case fnHasTagAsAttribute, fnHasTagAsGroup:
		return true
	case fnHasAttribute:
		return usesVariable(n.args[1])
	}
	return false
}

// toCEL writes the CEL form of n. With an Interner in, the exact @hasAttribute and
// each group of @isInGroups are entitlement calls, whose groups and pairs (with
// their symbols in in) it appends to ents.
func toCEL(b *strings.Builder, n *node, in *Interner, ents *[]entitlementRef) {
	switch n.kind {
	case nAnd, nOr:
		op := " && "
		if n.kind == nOr {
			op = " || "
		}
		b.WriteByte('(')
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(op)
			}
			toCEL(b, k, in, ents)
		}
		b.WriteByte(')')
	case nNot:
		b.WriteString("!")
		toCEL(b, n.kids[0], in, ents)
	case nCall:
		switch n.fn {
		case fnHasAttribute:
			switch {
			case usesVariable(n.args[1]):
				celCall(b, celHasAttributeExpanded, true, n.args...)
			case in != nil:
				entitlementCall(b, ents, entitlementRef{sym: in.pairSymbol(pairKey(n.args[0], n.args[1])),
					name: n.args[0], value: n.args[1]})
			default:
				celCall(b, celHasAttribute, false, n.args...)
			}
		case fnIsInGroups:
			if len(n.args) > 1 {
				b.WriteByte('(')
			}
			for i, g := range n.args {
				if i > 0 {
					b.WriteString(" && ")
				}
				if in != nil {
					entitlementCall(b, ents, entitlementRef{sym: in.groupSymbol(g), group: true, name: g})
				} else {
					celCall(b, celInGroup, false, g)
				}
			}
			if len(n.args) > 1 {
				b.WriteByte(')')
			}
		case fnHasTagAsAttribute:
			celCall(b, celHasTagAsAttribute, true, n.args...)
		case fnHasTagAsGroup:
			celCall(b, celHasTagAsGroup, true, n.args...)
		}
	}
}

// celCall writes fn(subject[, resource], "arg"...).
func celCall(b *strings.Builder, fn string, withResource bool, args ...string) {
	b.WriteString(fn)
	b.WriteString("(" + varSubject)
	if withResource {
		b.WriteString(", " + varResource)
	}
	for _, a := range args {
		b.WriteString(", ")
		celQuote(b, a)
	}
	b.WriteByte(')')
}

// entitlementCall writes the entitlement call testing e, adding e to ents.
func entitlementCall(b *strings.Builder, ents *[]entitlementRef, e entitlementRef) {
	b.WriteString(celHasEntitlement + "(" + varSubject + ", " + strconv.Itoa(len(*ents)) + ")")
	*ents = append(*ents, e)
}

// celQuote writes s as a CEL double-quoted string literal.
func celQuote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// eval runs the program for s on res. syms, when ok, are s's symbols in a.in (as
// Rule.EvaluateSymbols takes them); else s's own are used when s belongs to a.in.
func (a *advanced) eval(s *Subject, syms []uint32, ok bool, res *Resource) (bool, error) {
	act := activations.Get().(*activation)
	if !ok && a.in != nil && s != nil && s.in == a.in {
		syms, ok = s.syms, true
	}
	act.ctx = subjectCtx{s: s, syms: syms, symbols: ok && a.in != nil, ents: a.ents}
	act.s, act.r = subjectVal{&act.ctx}, resourceVal{res}
	out, _, err := a.prg.Eval(act)
	*act = activation{}
	activations.Put(act)
	if err != nil {
		var cancelled interpreter.EvalCancelledError
		if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
			return false, fmt.Errorf("%w (limit %d)", ErrCostLimitExceeded, a.limit)
		}
		return false, fmt.Errorf("advanced expression: %w", err)
	}
	v, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("advanced expression: result %v is not a boolean", out)
	}
	return bool(v), nil
}

var activations = sync.Pool{New: func() any { return new(activation) }}

// activation resolves the two variables without building a map.
type activation struct {
	ctx subjectCtx
	s   subjectVal // points at ctx
	r   resourceVal
}

// subjectCtx is the subject an expression is evaluated for: the Subject, and when
// symbols is set its symbols in the program's Interner (which then answer the
// symbol calls without reading the Subject).
type subjectCtx struct {
	s       *Subject
	syms    []uint32
	symbols bool
	ents    []entitlementRef // the program's (see advanced.ents)
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varSubject:
		return a.s, true
	case varResource:
		return a.r, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// opaque is a subject (a *subjectCtx) or a *Resource as a CEL value of the opaque
// type tollgate.Subject or tollgate.Resource. It is one pointer wide, so making
// one does not allocate.
type opaque[T subjectCtx | Resource] struct{ p *T }

type (
	subjectVal  = opaque[subjectCtx]
	resourceVal = opaque[Resource]
)

func (v opaque[T]) celType() *cel.Type {
	if _, ok := any(v.p).(*subjectCtx); ok {
		return subjectType
	}
	return resourceType
}

func (v opaque[T]) ConvertToNative(t reflect.Type) (any, error) {
	switch p := any(v.p).(type) {
	case *subjectCtx:
		if t == reflect.TypeFor[*Subject]() {
			if p == nil {
				return (*Subject)(nil), nil
			}
			return p.s, nil
		}
	case *Resource:
		if t == reflect.TypeFor[*Resource]() {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%s cannot be converted to %v", v.celType().TypeName(), t)
}

func (v opaque[T]) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return v.celType()
	}
	return types.NewErr("%s cannot be converted to %s", v.celType().TypeName(), t.TypeName())
}

func (v opaque[T]) Equal(other ref.Val) ref.Val {
	o, ok := other.(opaque[T])
	return types.Bool(ok && o.p == v.p)
}

func (v opaque[T]) Type() ref.Type { return v.celType() }

// Value is the *Subject or the *Resource.
func (v opaque[T]) Value() any {
	if c, ok := any(v.p).(*subjectCtx); ok {
		if c == nil {
			return (*Subject)(nil)
		}
		return c.s
	}
	return v.p
}

// ---- bindings: argument unpacking; the semantics are in dslfuncs.go ----

func argSubject(v ref.Val) (*Subject, bool) {
	c, ok := argSubjectCtx(v)
	if !ok {
		return nil, false
	}
	return c.s, true
}

func argSubjectCtx(v ref.Val) (*subjectCtx, bool) {
	s, ok := v.(subjectVal)
	return s.p, ok && s.p != nil
}

func argResource(v ref.Val) (*Resource, bool) {
	r, ok := v.(resourceVal)
	return r.p, ok
}

func argString(v ref.Val) (string, bool) {
	s, ok := v.(types.String)
	return string(s), ok
}

func badArgs(fn string) ref.Val { return types.NewErr("%s: bad arguments", fn) }

func bindHasAttribute(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return badArgs(celHasAttribute)
	}
	s, ok1 := argSubject(args[0])
	name, ok2 := argString(args[1])
	value, ok3 := argString(args[2])
	if !ok1 || !ok2 || !ok3 {
		return badArgs(celHasAttribute)
	}
	return types.Bool(s.HasAttribute(name, value))
}

// bindSubjectResource2 binds f(subject, resource, string, string), the shape of
// @hasAttribute with variables and @hasTagAsAttribute, as the CEL function fn.
func bindSubjectResource2(fn string, f func(*Subject, *Resource, string, string) bool) func(args ...ref.Val) ref.Val {
	return func(args ...ref.Val) ref.Val {
		if len(args) != 4 {
			return badArgs(fn)
		}
		s, ok1 := argSubject(args[0])
		r, ok2 := argResource(args[1])
		a, ok3 := argString(args[2])
		b, ok4 := argString(args[3])
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return badArgs(fn)
		}
		return types.Bool(f(s, r, a, b))
	}
}

func bindHasEntitlement(lhs, rhs ref.Val) ref.Val {
	c, ok1 := argSubjectCtx(lhs)
	i, ok2 := rhs.(types.Int)
	if !ok1 || !ok2 || i < 0 || int64(i) >= int64(len(c.ents)) {
		return badArgs(celHasEntitlement)
	}
	e := &c.ents[i]
	switch {
	case c.symbols:
		return types.Bool(holds(c.syms, e.sym))
	case e.group:
		return types.Bool(c.s.InGroup(e.name))
	}
	return types.Bool(c.s.HasAttribute(e.name, e.value))
}

func bindInGroup(lhs, rhs ref.Val) ref.Val {
	s, ok1 := argSubject(lhs)
	g, ok2 := argString(rhs)
	if !ok1 || !ok2 {
		return badArgs(celInGroup)
	}
	return types.Bool(s.InGroup(g))
}

func bindHasTagAsGroup(args ...ref.Val) ref.Val {
	if len(args) != 3 {
		return badArgs(celHasTagAsGroup)
	}
	s, ok1 := argSubject(args[0])
	r, ok2 := argResource(args[1])
	scope, ok3 := argString(args[2])
	if !ok1 || !ok2 || !ok3 {
		return badArgs(celHasTagAsGroup)
	}
	return types.Bool(hasTagAsGroup(s, r, scope))
}
