package entitlement

import (
	"errors"

	"github.com/tollgate-dev/tollgate/model"
)

// advanced is a compiled advanced expression.
type advanced struct{}

func compileAdvanced(src string, path model.Path, o *options) (*advanced, *model.FieldError) {
	return nil, model.CompileError(path, "advanced expressions are not supported yet")
}

func (a *advanced) eval(s *Subject, res *Resource) (bool, error) {
	return false, errors.New("not implemented")
}
