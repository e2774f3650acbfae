package rest_test

import (
	"math/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
)

// recase flips the letter case of s at random.
func recase(rng *rand.Rand, s string) string {
	b := []byte(s)
	for i, c := range b {
		if rng.Intn(2) == 0 {
			b[i] = byte(strings.ToUpper(string(c))[0])
		} else {
			b[i] = byte(strings.ToLower(string(c))[0])
		}
	}
	return string(b)
}

func genSeed() gopter.Gen {
	return func(gp *gopter.GenParameters) *gopter.GenResult {
		return gopter.NewGenResult(gp.Rng.Int63(), gopter.NoShrinker)
	}
}

// Laws of the query rules: a boolean in any letter case means what its lower case
// means; a known parameter spelt in another letter case is always a 400; an unknown
// parameter never changes the answer.
func TestQueryRuleLaws(t *testing.T) {
	t.Parallel()
	h, _ := newHandler(t)
	get := func(target string) answer {
		return do(t, h, call{method: http.MethodGet, path: target, key: unaKey})
	}
	want := map[string]string{"true": get("/policy/global?nameOnly=true").raw, "false": get("/policy/global?nameOnly=false").raw}
	known := []string{"offset", "size", "sortField", "sortOrder", "searchText", "type", "nameOnly", "templates", "ignoreStaged"}
	props := gopter.NewProperties(gopter.DefaultTestParametersWithSeed(20260101))
	props.Property("booleans in any letter case", prop.ForAll(func(seed int64) bool {
		rng := rand.New(rand.NewSource(seed))
		v := []string{"true", "false"}[rng.Intn(2)]
		a := get("/policy/global?nameOnly=" + recase(rng, v))
		return a.status == 200 && a.raw == want[v]
	}, genSeed()))
	props.Property("a case variant of a known parameter is a 400 naming the right spelling", prop.ForAll(func(seed int64) bool {
		rng := rand.New(rand.NewSource(seed))
		name := known[rng.Intn(len(known))]
		variant := recase(rng, name)
		if variant == name {
			variant = strings.ToUpper(name)
		}
		a := get("/policy/global?" + variant + "=1")
		return a.status == 400 && strings.Contains(a.message(), "spelt "+name)
	}, genSeed()))
	props.Property("unknown parameters are ignored", prop.ForAll(func(seed int64) bool {
		rng := rand.New(rand.NewSource(seed))
		name := "x" + strings.Repeat(string(rune('a'+rng.Intn(26))), 1+rng.Intn(5))
		a := get("/policy/global?nameOnly=true&" + name + "=" + recase(rng, "whatever"))
		return a.status == 200 && a.raw == want["true"]
	}, genSeed()))
	props.TestingRun(t)
}
