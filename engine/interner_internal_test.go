package engine

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

// TestInternerPerEngine (issue 12 item 14): the symbols of group names and
// attribute values live in the engine that saw them, so they go with it: 20,000
// distinct attribute values put into one engine grow only its interner; a new
// engine starts empty, and stays so.
func TestInternerPerEngine(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	users := make([]*model.User, 2000)
	for round := 0; round < 10; round++ {
		for i := range users {
			users[i] = &model.User{ID: int64(i + 1), Name: "u" + strconv.Itoa(i),
				Attributes: map[string][]string{"v": {strconv.Itoa(round*len(users) + i)}}}
		}
		require.NoError(t, a.PutUsers(SystemActor(), users))
	}
	assert.GreaterOrEqual(t, a.syms.Len(), 20000, "engine a interned what it saw")
	assert.Equal(t, 0, b.syms.Len(), "engine b shares nothing with a")
	assert.Equal(t, 0, New().syms.Len(), "a new engine starts empty")
	assert.NotSame(t, a.syms, b.syms)
}
