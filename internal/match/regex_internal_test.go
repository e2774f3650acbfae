package match

import (
	"strings"
	"testing"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// regexPatterns and regexSubjects are the corpus the two engines are compared on
// (and the seeds of FuzzRegexEngines).
var (
	regexPatterns = []string{
		`id`, `_id$`, `^cust`, `^(cust|client)_?id$`, `[0-9]{2,4}`, `\d+`, `\D`, `\w+_\w+`, `\W`, `\bid\b`, `\Bd`,
		`\s`, `\S+`, `[\s_]`, `a.c`, `.`, `^.*$`, `(a+)+$`, `(\w*)*`, `colou?r`, `x{0}`, `x{2,}`, `x{1,3}?`,
		`[^a-z]`, `[a-zA-Z_][a-zA-Z0-9_]*`, `[\d.-]+`, `[\]]`, `\.`, `\/`, `a|b|`, `()`, `(?:ab)+`, `\x41`, `\u00e9`,
		`\t`, `\cJ`, `\0`, `é`, `[é-ü]`, `K`, `k`, `s`, `S`, `ſ`, `[a-z]`, `[A-Z]+`, `^$`, `$`, `^`, `a$`, `\n`,
		`[\b]`, `\u2028`, `}`, `]`, `a{`, `a{1,`, `[^]`, `[]`, `\1`, `(a)\1`, `(?=a)`, `(?!b)c`, `(?<=a)b`, `\p{L}`,
		`[\S]`, `[\W\d]`, `x*?y`, `\$\^`, `[-a]`, `[a-]`, `[\u0041-\u005a]`, `\x{41}`, `a{2}{3}`, `*`, `(`, `[`,
	}
	regexSubjects = []string{
		"", "id", "customer_id", "cust_ID", "client_id", "order_id", "ID", "colour", "color", "abc", "a\nc", "a\rc",
		"a\u2028c", "é", "É", "ü", "K", "k", "\u212a", "s", "S", "ſ", "İ", "i", "a b", "a\u00a0b", "a\vb", "a\u0085b",
		"\ufeff", "x", "xx", "xxx", "123", "12.5-3", "]", "}", "{", "a{", "a{1,", "$^", "a/b", "\t", "\n", "\x00",
		"aaaaaaaaaaaaaaaaaaaa!", "snake_case_name", "x\u2029y", "A", "\b", "a\n",
	}
)

// reference runs the ECMAScript reference (regexp2) with a generous timeout;
// ok is false when it timed out.
func reference(t testing.TB, re *regexp2.Regexp, s string) (matched, ok bool) {
	m, err := re.MatchString(s)
	return m, err == nil
}

// agree compares the RE2 translation of pattern (when there is one) with regexp2
// on subject; it reports the first disagreement.
func agree(t testing.TB, pattern, subject string, ic bool) {
	t.Helper()
	c, err := newColRegex(pattern, ic, time.Second)
	if err != nil || !c.usesRE2() {
		return
	}
	want, ok := reference(t, c.re, subject)
	if !ok {
		return
	}
	got, err := c.match(subject)
	require.NoError(t, err)
	if got != want {
		tr, _ := toRE2(pattern, ic)
		t.Fatalf("pattern %q (RE2 %q) ignoreCase %v on %q: RE2 says %v, regexp2 (ECMAScript) says %v", pattern, tr, ic, subject, got, want)
	}
}

// TestRegexEnginesAgree: on the corpus, every pattern that runs on RE2 decides
// exactly as regexp2's ECMAScript mode (the reference) does, case-sensitive and
// not (issue 12 item 6).
func TestRegexEnginesAgree(t *testing.T) {
	t.Parallel()
	for _, p := range regexPatterns {
		for _, s := range regexSubjects {
			for _, ic := range []bool{false, true} {
				agree(t, p, s, ic)
			}
		}
	}
}

// FuzzRegexEngines is the differential fuzz that settles which patterns mean the
// same on both engines: for any pattern the translation takes and any column name,
// RE2's answer must equal regexp2's ECMAScript answer.
func FuzzRegexEngines(f *testing.F) {
	for i, p := range regexPatterns {
		f.Add(p, regexSubjects[i%len(regexSubjects)], i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, pattern, subject string, ic bool) {
		if len(pattern) > 200 || len(subject) > 200 {
			return
		}
		agree(t, pattern, subject, ic)
	})
}

// TestRegexRoutes: which engine a pattern runs on, and which patterns are refused.
func TestRegexRoutes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern string
		ic      bool
		re2     bool
		refused string // part of the error, "" when it compiles
	}{
		{`(a+)+$`, false, true, ""},
		{`(\w*)*`, false, true, ""},
		{`^(cust|client)_?id$`, true, true, ""},
		{`\s+\S`, false, true, ""},
		{`é`, false, true, ""},
		{`é`, true, false, ""}, // non-ASCII and case-insensitive: regexp2
		{`(?<=cust_)id`, false, false, ""},
		{`(a)\1`, false, false, ""},
		{`(?=a)(a+)+$`, false, false, "nests unbounded quantifiers"},
		{`(?!x)(\w*)*`, false, false, "nests unbounded quantifiers"},
		{`(?=a)(?:x|y+){2,}`, false, false, "nests unbounded quantifiers"},
		{`(?=a)((a+))*`, false, false, "nests unbounded quantifiers"},
		{`(?=a)(a|aa)*$`, false, false, ""}, // not nested: the timeout is its guard
		{`(?=a)(a{1,5})+`, false, false, ""},
		{`(a`, false, false, "missing"},
		// "-[" in a class is .NET's class subtraction to regexp2, the reference: not
		// the same meaning on RE2 (found by FuzzRegexEngines).
		{`[0-[]]`, false, false, ""},
		{`[a-z-[aeiou]]`, false, false, ""},
		{`[-[]`, false, false, ""},
		{`[a[]`, false, true, ""},
	} {
		rx, err := newColRegex(c.pattern, c.ic, time.Second)
		if c.refused != "" {
			require.Error(t, err, c.pattern)
			assert.Contains(t, err.Error(), c.refused, c.pattern)
			continue
		}
		require.NoError(t, err, c.pattern)
		assert.Equal(t, c.re2, rx.usesRE2(), "%q ignoreCase %v runs on RE2", c.pattern, c.ic)
	}
}

// TestRegexResultsCached: a column name is matched once per pattern; the cache is
// bounded in bytes.
func TestRegexResultsCached(t *testing.T) {
	t.Parallel()
	rx, err := newColRegex(`(?=a)(a|aa)*$`, false, time.Second)
	require.NoError(t, err)
	ok, err := rx.match("aaa")
	require.NoError(t, err)
	assert.True(t, ok)
	rx.re = nil // a second match of the same name must not run the engine
	ok, err = rx.match("aaa")
	require.NoError(t, err)
	assert.True(t, ok)

	rx, err = newColRegex(`x`, false, time.Second)
	require.NoError(t, err)
	big := strings.Repeat("y", maxCachedBytes/2+1)
	for _, s := range []string{big + "1", big + "2", big + "3"} {
		_, err := rx.match(s)
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, rx.cached, maxCachedBytes)
	assert.Len(t, rx.cache, 1)
}
