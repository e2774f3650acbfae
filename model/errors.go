package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is matched (with errors.Is) by every ErrorList, so callers can branch
// on "the input was rejected" without inspecting the individual problems.
var ErrInvalid = errors.New("invalid input")

// Path is a field path into a payload, such as actions.approvals[1].requiredPermissions.
// The zero value is the root. Paths are built with Child and Index and are immutable.
type Path string

// NewPath returns the path of a top-level field.
func NewPath(name string) Path { return Path(name) }

// Child returns the path of field name below p.
func (p Path) Child(name string) Path {
	name = ClipInput(name) // a path quotes at most MaxQuotedInput characters of a key
	if p == "" {
		return Path(name)
	}
	return Path(string(p) + "." + name)
}

// Index returns the path of element i of the list at p.
func (p Path) Index(i int) Path { return Path(string(p) + "[" + strconv.Itoa(i) + "]") }

// Key returns the path of the map entry k of the map at p.
func (p Path) Key(k string) Path { return Path(string(p) + "[" + strconv.Quote(ClipInput(k)) + "]") }

// String returns the path as text; the root is "<root>".
func (p Path) String() string {
	if p == "" {
		return "<root>"
	}
	return string(p)
}

// ErrorCode is a stable, machine-readable classification of a FieldError.
type ErrorCode string

// The error codes. They are part of the API: callers and tests branch on them.
const (
	// CodeRequired: a required field is missing or empty.
	CodeRequired ErrorCode = "required"
	// CodeInvalid: the value is malformed or breaks a rule (see the detail).
	CodeInvalid ErrorCode = "invalid"
	// CodeNotSupported: the value is not one of an enumerated set.
	CodeNotSupported ErrorCode = "notSupported"
	// CodeUnknownField: the field is not part of the schema at this place.
	CodeUnknownField ErrorCode = "unknownField"
	// CodeType: the value has the wrong JSON type.
	CodeType ErrorCode = "type"
	// CodeForbidden: the field is not allowed in this combination.
	CodeForbidden ErrorCode = "forbidden"
	// CodeDuplicate: the value repeats one that must be unique.
	CodeDuplicate ErrorCode = "duplicate"
	// CodeTooLong: a list, string or payload exceeds a size limit.
	CodeTooLong ErrorCode = "tooLong"
	// CodeCompile: a regex or an advanced expression does not compile.
	CodeCompile ErrorCode = "compile"
	// CodeTooLarge: a whole payload, or what its YAML expands to, exceeds the payload
	// limit (the REST API answers 413).
	CodeTooLarge ErrorCode = "tooLarge"
)

// FieldError is one problem with one field of an input.
type FieldError struct {
	// Path locates the field, e.g. actions.approvals[0].requiredPermissions.
	Path Path
	// Code classifies the problem.
	Code ErrorCode
	// Detail is the human-readable description, without the path.
	Detail string
}

// Error renders "path: detail".
func (e *FieldError) Error() string { return e.Path.String() + ": " + e.Detail }

// Required reports a missing required field.
func Required(p Path, detail string) *FieldError {
	if detail == "" {
		detail = "is required"
	}
	return &FieldError{Path: p, Code: CodeRequired, Detail: detail}
}

// Invalid reports a value that breaks a rule; value is quoted into the detail when non-nil.
func Invalid(p Path, value any, detail string) *FieldError {
	if value != nil {
		detail = fmt.Sprintf("%s %s", quote(value), detail)
	}
	return &FieldError{Path: p, Code: CodeInvalid, Detail: detail}
}

// NotSupported reports a value outside an enumerated set, listing the valid values.
func NotSupported(p Path, value any, valid []string) *FieldError {
	return &FieldError{Path: p, Code: CodeNotSupported,
		Detail: fmt.Sprintf("%s is not one of %s", quote(value), strings.Join(valid, ", "))}
}

// UnknownField reports a field that is not part of the schema.
func UnknownField(p Path) *FieldError {
	return &FieldError{Path: p, Code: CodeUnknownField, Detail: "unknown field"}
}

// WrongType reports a value of the wrong JSON type.
func WrongType(p Path, want string, got any) *FieldError {
	return &FieldError{Path: p, Code: CodeType, Detail: fmt.Sprintf("must be %s, got %s", want, jsonTypeName(got))}
}

// Forbidden reports a field that is not allowed here.
func Forbidden(p Path, detail string) *FieldError {
	return &FieldError{Path: p, Code: CodeForbidden, Detail: detail}
}

// Duplicate reports a value that must be unique.
func Duplicate(p Path, value any) *FieldError {
	return &FieldError{Path: p, Code: CodeDuplicate, Detail: fmt.Sprintf("duplicate value %s", quote(value))}
}

// TooLong reports a list, string or payload larger than limit.
func TooLong(p Path, size, limit int, unit string) *FieldError {
	return &FieldError{Path: p, Code: CodeTooLong, Detail: fmt.Sprintf("has %d %s, more than the limit of %d", size, unit, limit)}
}

// TooLarge reports a whole payload larger than limit (CodeTooLarge).
func TooLarge(size, limit int, unit string) *FieldError {
	return &FieldError{Path: "", Code: CodeTooLarge, Detail: fmt.Sprintf("has %d %s, more than the limit of %d", size, unit, limit)}
}

// MaxQuotedInput is how many characters of an input an error message quotes at
// most (see docs/security.md, Limits).
const MaxQuotedInput = 200

// ClipInput returns s cut to its first MaxQuotedInput characters, followed by
// "..." and the number of bytes left out when cut, for quoting in error messages.
func ClipInput(s string) string {
	n := 0
	for i := range s {
		if n == MaxQuotedInput {
			return s[:i] + fmt.Sprintf("...(%d more bytes)", len(s)-i)
		}
		n++
	}
	return s
}

// CompileError reports a regex or an expression that does not compile.
func CompileError(p Path, detail string) *FieldError {
	return &FieldError{Path: p, Code: CodeCompile, Detail: detail}
}

func quote(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(ClipInput(x))
	default:
		return ClipInput(fmt.Sprint(x))
	}
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return "a number"
	}
}

// ErrorList is every problem found in one input. A nil or empty list is no error;
// functions in this module return a non-empty ErrorList as their error, never an
// empty one. errors.Is(list, ErrInvalid) is true. ErrorList is the one validation
// error type of the module: decoding, compiling circumstances (regexes) and
// compiling actions (the advanced DSL) all report with it.
type ErrorList []*FieldError

// Error joins every problem with "; ".
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Is makes errors.Is(l, ErrInvalid) true.
func (l ErrorList) Is(target error) bool { return target == ErrInvalid }

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Errors returns the problems carried by err: the list itself when err is (or wraps)
// an ErrorList, a one-element list for a *FieldError, nil otherwise.
func Errors(err error) ErrorList {
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return ErrorList{fe}
	}
	return nil
}
