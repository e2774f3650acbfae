package model_test

import (
	"encoding/json"

	"github.com/tollgate-dev/tollgate/model"
)

// problem is the path and code of one FieldError.
type problem struct {
	Path string
	Code model.ErrorCode
}

// problems lists the path and code of every problem carried by err.
func problems(err error) []problem {
	var out []problem
	for _, e := range model.Errors(err) {
		out = append(out, problem{string(e.Path), e.Code})
	}
	return out
}

// convertDataActions is what a data policy's actions become in the other dialect:
// a v2 object wrapped in a list for v1, a v1 list of one object unwrapped for v2.
func convertDataActions(raw json.RawMessage, d model.Dialect) json.RawMessage {
	if d == model.DialectV1 {
		return json.RawMessage("[" + string(raw) + "]")
	}
	var elems []json.RawMessage
	if json.Unmarshal(raw, &elems) != nil || len(elems) != 1 {
		return raw
	}
	return elems[0]
}
