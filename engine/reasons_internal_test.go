package engine

import (
	"errors"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/tollgate-dev/tollgate/model"
)

// TestPropertyReasonRefRoundTrip: a Decision's compact form of a reason gives
// back the reason it was made from, for every reason Decide makes (one naming a
// record, a policy, or neither; at READ, WRITE or no level).
func TestPropertyReasonRefRoundTrip(t *testing.T) {
	t.Parallel()
	props := gopter.NewProperties(nil)
	levels := []model.AccessGrant{"", model.Read, model.Write}
	props.Property("refOf(r).reason() = r", prop.ForAll(func(kind uint8, lv int, names int, id int64, detail string, withErr bool) bool {
		r := Reason{Kind: ReasonKind(kind%6 + 1), Level: levels[lv], Detail: detail}
		switch names {
		case 1:
			r.RecordID = id
		case 2:
			r.PolicyID = id
		}
		if withErr {
			r.Err = errors.New(detail)
		}
		ref := refOf(r)
		return ref.reason() == r
	}, gen.UInt8(), gen.IntRange(0, 2), gen.IntRange(0, 2), gen.Int64(), gen.AnyString(), gen.Bool()))
	props.TestingRun(t)
}
