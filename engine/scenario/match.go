package scenario

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
)

// subset reports every way got fails to match want: every key of an expected
// mapping must be present with a matching value (extra keys are fine), lists must
// have the same length and match element by element, scalars must be equal after
// JSON decoding, numbers by value. Values come from decodeAny (json.Number).
func subset(path string, want, got any) []string {
	at := func() string {
		if path == "" {
			return "<root>"
		}
		return path
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want %s, got %s", at(), show(want), show(got))}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var out []string
		for _, k := range keys {
			kp := k
			if path != "" {
				kp = path + "." + k
			}
			gv, present := g[k]
			if !present {
				out = append(out, fmt.Sprintf("%s: want %s, got no such key", kp, show(w[k])))
				continue
			}
			out = append(out, subset(kp, w[k], gv)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want %s, got %s", at(), show(want), show(got))}
		}
		if len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %d elements %s, got %d elements %s", at(), len(w), show(want), len(g), show(got))}
		}
		var out []string
		for i := range w {
			out = append(out, subset(path+"["+strconv.Itoa(i)+"]", w[i], g[i])...)
		}
		return out
	case json.Number:
		g, ok := got.(json.Number)
		if !ok || !sameNumber(w, g) {
			return []string{fmt.Sprintf("%s: want %s, got %s", at(), show(want), show(got))}
		}
		return nil
	default: // string, bool, nil
		if want != got {
			return []string{fmt.Sprintf("%s: want %s, got %s", at(), show(want), show(got))}
		}
		return nil
	}
}

// sameNumber compares two JSON numbers by value, exactly.
func sameNumber(a, b json.Number) bool {
	if a == b {
		return true
	}
	x, ok1 := new(big.Rat).SetString(string(a))
	y, ok2 := new(big.Rat).SetString(string(b))
	return ok1 && ok2 && x.Cmp(y) == 0
}

// show renders a value as compact JSON, clipped.
func show(v any) string {
	if v == nil {
		return "null"
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(string(data))
}

const maxShown = 300

func clip(s string) string {
	if len(s) <= maxShown {
		return s
	}
	return s[:maxShown] + "…"
}
