package match

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// colRegex is a compiled columnRegex. A pattern that Go's regexp (RE2: linear
// time, no timeout needed) runs with exactly its ECMAScript meaning runs there,
// translated (toRE2); any other pattern (lookaround, backreferences, and the few
// constructs the translation does not take) runs on regexp2 under the timeout,
// after Compile refused it when it nests unbounded quantifiers. Which patterns
// mean exactly the same on both engines is checked by a differential fuzz
// (FuzzRegexEngines). Results are cached per distinct column name, so the same
// column name is matched once per pattern (see docs/security.md, Regexes).
type colRegex struct {
	src string
	ic  bool
	re2 *regexp.Regexp  // nil: re runs
	re  *regexp2.Regexp // the ECMAScript reference; runs when re2 is nil

	mu     sync.RWMutex
	cache  map[string]bool
	cached int // bytes of column names in cache
}

// maxCachedBytes bounds the column names one pattern's cache holds; past it new
// names are matched without being cached.
const maxCachedBytes = 1 << 20

// newColRegex compiles a columnRegex: ErrorList-ready errors for a pattern that
// does not compile, or that needs regexp2 and nests unbounded quantifiers.
func newColRegex(expr string, ic bool, timeout time.Duration) (*colRegex, error) {
	opt := regexp2.RegexOptions(regexp2.ECMAScript)
	if ic {
		opt |= regexp2.IgnoreCase
	}
	re, err := compileRegex(expr, opt)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = timeout // set before the Matcher is published
	c := &colRegex{src: expr, ic: ic, re: re, cache: map[string]bool{}}
	if tr, ok := toRE2(expr, ic); ok {
		if r, err := regexp.Compile(tr); err == nil {
			c.re2 = r
			return c, nil
		}
	}
	if nestedUnbounded(expr) {
		return nil, fmt.Errorf("nests unbounded quantifiers (such as (a+)+ or (\\w*)*), which can take exponential time on the backtracking engine this pattern needs; rewrite it without the nesting")
	}
	return c, nil
}

// usesRE2 reports whether the pattern runs on Go's regexp.
func (c *colRegex) usesRE2() bool { return c.re2 != nil }

// match reports whether the pattern matches somewhere in col.
func (c *colRegex) match(col string) (bool, error) {
	c.mu.RLock()
	v, ok := c.cache[col]
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	if c.re2 != nil {
		s := col
		if c.ic {
			s = foldLikeRegexp2(col)
		}
		v = c.re2.MatchString(s)
	} else {
		var err error
		if v, err = matchString(c.re, col, c.re.MatchTimeout); err != nil {
			return false, err // a timeout is not cached: it says nothing about the column
		}
	}
	c.mu.Lock()
	if _, dup := c.cache[col]; !dup && c.cached+len(col) <= maxCachedBytes {
		c.cache[col] = v
		c.cached += len(col)
	}
	c.mu.Unlock()
	return v, nil
}

// foldLikeRegexp2 lower-cases s rune by rune as regexp2 does when it ignores case,
// and replaces U+017F (long s), which RE2's case folding (but not regexp2's)
// equates with s, by U+FFFD, which no ASCII-only pattern treats differently.
func foldLikeRegexp2(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0x17F {
			return utf8.RuneError
		}
		return unicode.ToLower(r)
	}, s)
}

// ecmaSpace is the set \s stands for in regexp2's ECMAScript mode, as an RE2 class
// body.
const ecmaSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

// toRE2 translates an ECMAScript pattern into RE2 syntax with the same meaning
// (as regexp2 runs it), or reports false for a pattern it does not take: one
// using lookaround, backreferences, named groups, Unicode classes, word boundaries
// (\b, \B: Unicode on regexp2, ASCII on RE2), or constructs whose meaning differs
// and that it does not rewrite; with ic, one holding non-ASCII characters, negated
// sets or \W, \D, \S.
func toRE2(p string, ic bool) (string, bool) {
	var b strings.Builder
	if ic {
		b.WriteString("(?i)")
	}
	depth := 0
	canQuant := false // the last item is an atom a quantifier may follow
	for i := 0; i < len(p); {
		c := p[i]
		if c >= utf8.RuneSelf {
			if ic {
				return "", false
			}
			r, n := utf8.DecodeRuneInString(p[i:])
			if r == utf8.RuneError && n <= 1 {
				return "", false
			}
			writeLit(&b, r)
			i += n
			canQuant = true
			continue
		}
		switch c {
		case '\\':
			s, n, atom, ok := escapeRE2(p[i:], false)
			if !ok || ic && (strings.HasPrefix(s, `\x{`) && nonASCII(s) || strings.ContainsRune("WDS", rune(p[i+1]))) {
				// With ignoreCase regexp2 adds the lower case of every member of a
				// negated set (U+0130 and U+212A fold to i and k): regexp2.
				return "", false
			}
			b.WriteString(s)
			i += n
			canQuant = atom
			continue
		case '.':
			b.WriteString(`[^\n\r]`)
			canQuant = true
		case '^', '$':
			b.WriteByte(c) // without multiline, both engines anchor at the text's ends
			canQuant = false
		case '(':
			switch {
			case strings.HasPrefix(p[i:], "(?:"):
				b.WriteString("(?:")
				i += 3
			case strings.HasPrefix(p[i:], "(?"):
				return "", false
			default:
				b.WriteByte('(')
				i++
			}
			depth++
			canQuant = false
			continue
		case ')':
			if depth == 0 {
				return "", false
			}
			depth--
			b.WriteByte(')')
			canQuant = true
		case '|':
			b.WriteByte('|')
			canQuant = false
		case '[':
			s, n, ok := classRE2(p[i:], ic)
			if !ok {
				return "", false
			}
			b.WriteString(s)
			i += n
			canQuant = true
			continue
		case '*', '+', '?':
			if !canQuant {
				return "", false
			}
			b.WriteByte(c)
			i++
			if i < len(p) && p[i] == '?' {
				b.WriteByte('?')
				i++
			}
			canQuant = false
			continue
		case '{':
			n, ok := braceQuantifier(p[i:])
			if !ok || !canQuant {
				return "", false
			}
			b.WriteString(p[i : i+n])
			i += n
			if i < len(p) && p[i] == '?' {
				b.WriteByte('?')
				i++
			}
			canQuant = false
			continue
		default: // '}', ']' and every other ASCII character are literals
			writeLit(&b, rune(c))
			canQuant = true
		}
		i++
	}
	if depth != 0 {
		return "", false
	}
	return b.String(), true
}

// writeLit writes r as an RE2 literal.
func writeLit(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == ' ') {
		b.WriteRune(r)
		return
	}
	fmt.Fprintf(b, `\x{%x}`, r)
}

// braceQuantifier returns the length of a {n}, {n,} or {n,m} quantifier at the
// start of s (counts at most 1000, n <= m), or false.
func braceQuantifier(s string) (int, bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return 0, false
	}
	lo, hi, comma := strings.Cut(s[1:end], ",")
	num := func(t string) (int, bool) {
		if t == "" || len(t) > 4 || len(t) > 1 && t[0] == '0' || strings.TrimLeft(t, "0123456789") != "" {
			return 0, false
		}
		v, err := strconv.Atoi(t)
		return v, err == nil && v <= 1000
	}
	n, ok := num(lo)
	if !ok {
		return 0, false
	}
	if comma && hi != "" {
		m, ok := num(hi)
		if !ok || m < n {
			return 0, false
		}
	}
	return end + 1, true
}

// escapeRE2 translates the escape at the start of s (s[0] == '\\'), inside a class
// when inClass. It returns the RE2 text, the length consumed, whether it is an
// atom (a quantifier may follow) and false when it does not take it.
func escapeRE2(s string, inClass bool) (string, int, bool, bool) {
	if len(s) < 2 {
		return "", 0, false, false
	}
	c := s[1]
	switch c {
	case 'd', 'D', 'w', 'W':
		return s[:2], 2, true, true // ASCII classes on both engines
	case 's':
		if inClass {
			return ecmaSpace, 2, true, true
		}
		return "[" + ecmaSpace + "]", 2, true, true
	case 'S':
		if inClass {
			return "", 0, false, false
		}
		return "[^" + ecmaSpace + "]", 2, true, true
	case 'b':
		if inClass {
			return `\x{8}`, 2, true, true // backspace
		}
		return "", 0, false, false // regexp2's \b uses Unicode word characters, RE2's ASCII ones
	case 'B':
		return "", 0, false, false
	case 't':
		return `\t`, 2, true, true
	case 'n':
		return `\n`, 2, true, true
	case 'r':
		return `\r`, 2, true, true
	case 'f':
		return `\f`, 2, true, true
	case 'v':
		return `\v`, 2, true, true
	case '0':
		if len(s) > 2 && s[2] >= '0' && s[2] <= '9' {
			return "", 0, false, false // an octal escape
		}
		return `\x{0}`, 2, true, true
	case 'x', 'u':
		n := 2
		if c == 'u' {
			n = 4
		}
		if len(s) < 2+n {
			return "", 0, false, false
		}
		v, err := strconv.ParseUint(s[2:2+n], 16, 32)
		if err != nil || strings.ContainsAny(s[2:2+n], "+-") || v >= 0xD800 && v <= 0xDFFF {
			return "", 0, false, false
		}
		return fmt.Sprintf(`\x{%x}`, v), 2 + n, true, true
	case 'c':
		if len(s) < 3 || !(s[2] >= 'a' && s[2] <= 'z' || s[2] >= 'A' && s[2] <= 'Z') {
			return "", 0, false, false
		}
		return fmt.Sprintf(`\x{%x}`, s[2]%32), 3, true, true
	}
	if c < utf8.RuneSelf && strings.IndexByte(`^$\.*+?()[]{}|/-`, c) >= 0 {
		return fmt.Sprintf(`\x{%x}`, c), 2, true, true
	}
	return "", 0, false, false // backreferences, \p, \k and other escapes: regexp2
}

// classRE2 translates the character class at the start of s (s[0] == '[').
func classRE2(s string, ic bool) (string, int, bool) {
	var b strings.Builder
	b.WriteByte('[')
	i := 1
	if i < len(s) && s[i] == '^' {
		if ic {
			return "", 0, false // see toRE2: negated sets and ignoreCase stay on regexp2
		}
		b.WriteByte('^')
		i++
	}
	if i < len(s) && s[i] == ']' {
		return "", 0, false // [] and [^]: no RE2 equivalent taken
	}
	items := 0
	// single reads one class character: its rune, or false for a class escape
	// (\d, \s, ...) whose RE2 text is returned instead.
	single := func() (rune, string, bool, bool) {
		if s[i] == '\\' {
			if i+1 < len(s) && strings.IndexByte("dDwWsS", s[i+1]) >= 0 {
				if ic && strings.IndexByte("DWS", s[i+1]) >= 0 {
					return 0, "", false, false
				}
				t, n, _, ok := escapeRE2(s[i:], true)
				i += n
				return 0, t, false, ok
			}
			t, n, _, ok := escapeRE2(s[i:], true)
			if !ok {
				return 0, "", false, false
			}
			i += n
			r, err := unhex(t)
			return r, "", true, err == nil && !(ic && r >= utf8.RuneSelf)
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || ic && r >= utf8.RuneSelf {
			return 0, "", false, false
		}
		i += n
		return r, "", true, true
	}
	// subtraction reports whether s[i] starts "-[", which regexp2 (the reference)
	// reads as .NET's class subtraction ([a-z-[aeiou]]) and RE2 as a hyphen and
	// a bracket: such a class stays on regexp2.
	subtraction := func() bool { return s[i] == '-' && i+1 < len(s) && s[i+1] == '[' }
	for i < len(s) && s[i] != ']' {
		if subtraction() {
			return "", 0, false
		}
		lo, text, isChar, ok := single()
		if !ok {
			return "", 0, false
		}
		if !isChar {
			b.WriteString(text)
			items++
			continue
		}
		if i+1 < len(s) && s[i] == '-' && s[i+1] != ']' {
			if subtraction() {
				return "", 0, false // [0-[] and the like
			}
			i++
			hi, _, hiChar, ok := single()
			if !ok || !hiChar || hi < lo {
				return "", 0, false
			}
			fmt.Fprintf(&b, `\x{%x}-\x{%x}`, lo, hi)
		} else {
			fmt.Fprintf(&b, `\x{%x}`, lo)
		}
		items++
	}
	if i >= len(s) || items == 0 {
		return "", 0, false
	}
	b.WriteByte(']')
	return b.String(), i + 1, true
}

// nonASCII reports whether an RE2 `\x{...}` literal names a non-ASCII rune.
func nonASCII(t string) bool {
	r, err := unhex(t)
	return err != nil || r >= utf8.RuneSelf
}

// unhex reads the rune of an RE2 `\x{...}` literal.
func unhex(t string) (rune, error) {
	h, ok := strings.CutPrefix(t, `\x{`)
	if !ok {
		switch t {
		case `\t`:
			return '\t', nil
		case `\n`:
			return '\n', nil
		case `\r`:
			return '\r', nil
		case `\f`:
			return '\f', nil
		case `\v`:
			return '\v', nil
		}
		return 0, fmt.Errorf("not a literal: %s", t)
	}
	v, err := strconv.ParseUint(strings.TrimSuffix(h, "}"), 16, 32)
	return rune(v), err
}

// nestedUnbounded reports whether an ECMAScript pattern applies an unbounded
// quantifier (*, +, {n,}) to a group that itself holds one, such as (a+)+,
// (\w*)* or (?:x|y+){2,}: the shape that makes a backtracking engine take
// exponential time.
func nestedUnbounded(p string) bool {
	stack := []bool{false} // per open group: it holds an unbounded quantifier
	lastGroup, lastGroupUnbounded := false, false
	for i := 0; i < len(p); {
		c := p[i]
		unbounded := false
		switch c {
		case '\\':
			i += 2
			lastGroup = false
			continue
		case '[':
			j := i + 1
			for j < len(p) && p[j] != ']' {
				if p[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
			lastGroup = false
			continue
		case '(':
			stack = append(stack, false)
			i++
			lastGroup = false
			continue
		case ')':
			if len(stack) > 1 {
				inner := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				stack[len(stack)-1] = stack[len(stack)-1] || inner
				lastGroup, lastGroupUnbounded = true, inner
			}
			i++
			continue
		case '*', '+':
			unbounded = true
		case '{':
			if n, ok := braceQuantifier(p[i:]); ok {
				lo, hi, comma := strings.Cut(p[i+1:i+n-1], ",")
				unbounded = comma && hi == "" && lo != ""
			}
		}
		if unbounded {
			if lastGroup && lastGroupUnbounded {
				return true
			}
			stack[len(stack)-1] = true
		}
		lastGroup = false
		i++
	}
	return false
}
