package model_test

import "github.com/tollgate-dev/tollgate/model"

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
