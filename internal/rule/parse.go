package rule

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the advanced DSL's front end: a tokenizer and a recursive-descent
// parser producing an AST whose nodes carry 1-based character positions.
//
//	expr    := or EOF
//	or      := and { OR and }
//	and     := not { AND not }
//	not     := NOT not | primary
//	primary := "(" or ")" | call
//	call    := "@" name "(" [ string { "," string } ] ")"
//
// Keywords are case-insensitive; function names are case-sensitive; strings are
// single- or double-quoted with backslash escapes.

// maxNesting bounds the nesting of parentheses and NOT.
const maxNesting = 50

type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tComma
	tString
	tFunc // @name
	tAnd
	tOr
	tNot
	tWord    // any other bare word
	tIllegal // a character that starts no token
)

type token struct {
	kind tokKind
	pos  int    // 1-based character offset of the first character
	text string // source text of the token
	val  string // decoded value of a string; name (without @) of a function
}

// describe renders the token for an error message.
func (t token) describe() string {
	if t.kind == tEOF {
		return "end of input"
	}
	return "token " + strconv.Quote(t.text)
}

// syntaxError is a DSL error at a position.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return "position " + strconv.Itoa(e.pos) + ": " + e.msg }

func errAt(pos int, format string, args ...any) *syntaxError {
	return &syntaxError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

// lex splits src into tokens, the last of kind tEOF.
func lex(src []rune) ([]token, *syntaxError) {
	var toks []token
	i := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i >= len(src) {
			toks = append(toks, token{kind: tEOF, pos: len(src) + 1})
			return toks, nil
		}
		start := i
		c := src[i]
		switch {
		case c == '(':
			i++
			toks = append(toks, token{kind: tLParen, pos: start + 1, text: "("})
		case c == ')':
			i++
			toks = append(toks, token{kind: tRParen, pos: start + 1, text: ")"})
		case c == ',':
			i++
			toks = append(toks, token{kind: tComma, pos: start + 1, text: ","})
		case c == '\'' || c == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(src) {
				ch := src[i]
				if ch == c {
					i++
					closed = true
					break
				}
				if ch == '\\' {
					if i+1 >= len(src) {
						break
					}
					i++
					switch e := src[i]; e {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					default:
						b.WriteRune(e)
					}
					i++
					continue
				}
				b.WriteRune(ch)
				i++
			}
			if !closed {
				return nil, errAt(start+1, "unterminated string")
			}
			toks = append(toks, token{kind: tString, pos: start + 1, text: string(src[start:i]), val: b.String()})
		case c == '@':
			i++
			for i < len(src) && isWordRune(src[i]) {
				i++
			}
			text := string(src[start:i])
			if i == start+1 {
				toks = append(toks, token{kind: tIllegal, pos: start + 1, text: text})
				continue
			}
			toks = append(toks, token{kind: tFunc, pos: start + 1, text: text, val: text[1:]})
		case isWordRune(c):
			for i < len(src) && isWordRune(src[i]) {
				i++
			}
			text := string(src[start:i])
			k := tWord
			switch strings.ToUpper(text) {
			case "AND":
				k = tAnd
			case "OR":
				k = tOr
			case "NOT":
				k = tNot
			}
			toks = append(toks, token{kind: k, pos: start + 1, text: text})
		default:
			i++
			toks = append(toks, token{kind: tIllegal, pos: start + 1, text: string(c)})
		}
	}
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func isWordRune(r rune) bool {
	return r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
}

type nodeKind uint8

const (
	nAnd nodeKind = iota
	nOr
	nNot
	nCall
)

// node is a node of the DSL's AST.
type node struct {
	kind nodeKind
	pos  int
	// kids are the operands of AND and OR (two or more) and of NOT (one).
	kids []*node
	// fn and args describe a call.
	fn   string
	args []string
}

// The special functions.
const (
	fnHasAttribute      = "hasAttribute"
	fnIsInGroups        = "isInGroups"
	fnHasTagAsAttribute = "hasTagAsAttribute"
	fnHasTagAsGroup     = "hasTagAsGroup"
)

// The scopes of the tag functions.
const (
	scopeDataSource = "dataSource"
	scopeColumn     = "column"
)

// isVariable reports whether name (without @) is one of the variables that expand
// inside strings.
func isVariable(name string) bool {
	switch name {
	case "hostname", "database", "schema", "table":
		return true
	}
	return false
}

type parser struct {
	toks  []token
	i     int
	depth int
}

// parseAdvanced parses src into an AST.
func parseAdvanced(src string) (*node, *syntaxError) {
	if !utf8.ValidString(src) {
		n := 1 + utf8.RuneCountInString(src[:invalidUTF8At(src)])
		return nil, errAt(n, "invalid UTF-8")
	}
	toks, err := lex([]rune(src))
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, errAt(1, "empty expression")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected(t)
	}
	return n, nil
}

func invalidUTF8At(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return i
			}
		}
	}
	return len(s)
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) unexpected(t token) *syntaxError {
	return errAt(t.pos, "unexpected %s", t.describe())
}

func (p *parser) or() (*node, *syntaxError) {
	return p.chain(tOr, nOr, p.and)
}

func (p *parser) and() (*node, *syntaxError) {
	return p.chain(tAnd, nAnd, p.not)
}

// chain parses operand { op operand } into one n-ary node.
func (p *parser) chain(op tokKind, kind nodeKind, operand func() (*node, *syntaxError)) (*node, *syntaxError) {
	first, err := operand()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != op {
		return first, nil
	}
	n := &node{kind: kind, pos: first.pos, kids: []*node{first}}
	for p.peek().kind == op {
		p.next()
		k, err := operand()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, k)
	}
	return n, nil
}

func (p *parser) enter(pos int) *syntaxError {
	p.depth++
	if p.depth > maxNesting {
		return errAt(pos, "expression nested deeper than %d levels", maxNesting)
	}
	return nil
}

func (p *parser) not() (*node, *syntaxError) {
	t := p.peek()
	if t.kind != tNot {
		return p.primary()
	}
	p.next()
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	k, err := p.not()
	p.depth--
	if err != nil {
		return nil, err
	}
	return &node{kind: nNot, pos: t.pos, kids: []*node{k}}, nil
}

func (p *parser) primary() (*node, *syntaxError) {
	t := p.next()
	switch t.kind {
	case tLParen:
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		n, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, errAt(c.pos, "expected \")\" to close \"(\" at position %d, found %s", t.pos, c.describe())
		}
		return n, nil
	case tFunc:
		return p.call(t)
	case tEOF:
		return nil, errAt(t.pos, "unexpected end of input, expected a function, NOT or \"(\"")
	}
	return nil, p.unexpected(t)
}

func (p *parser) call(fn token) (*node, *syntaxError) {
	name := fn.val
	switch name {
	case fnHasAttribute, fnIsInGroups, fnHasTagAsAttribute, fnHasTagAsGroup:
	default:
		if isVariable(name) {
			return nil, errAt(fn.pos, "variable %s is only allowed inside a string", fn.text)
		}
		return nil, errAt(fn.pos, "unknown function %s", fn.text)
	}
	if t := p.next(); t.kind != tLParen {
		return nil, errAt(t.pos, "expected \"(\" after %s, found %s", fn.text, t.describe())
	}
	n := &node{kind: nCall, pos: fn.pos, fn: name}
	var argPos []int
	if p.peek().kind == tRParen {
		p.next()
	} else {
		for {
			t := p.next()
			if t.kind != tString {
				if t.kind == tEOF {
					return nil, errAt(t.pos, "unexpected end of input in the arguments of %s", fn.text)
				}
				return nil, errAt(t.pos, "unexpected %s, %s takes string arguments", t.describe(), fn.text)
			}
			n.args = append(n.args, t.val)
			argPos = append(argPos, t.pos)
			t = p.next()
			if t.kind == tRParen {
				break
			}
			if t.kind == tEOF {
				return nil, errAt(t.pos, "unexpected end of input in the arguments of %s", fn.text)
			}
			if t.kind != tComma {
				return nil, errAt(t.pos, "unexpected %s, expected \",\" or \")\"", t.describe())
			}
		}
	}
	return n, checkCall(fn, n, argPos)
}

// checkCall checks the arity and the argument values of a call.
func checkCall(fn token, n *node, argPos []int) *syntaxError {
	want := 0
	switch n.fn {
	case fnHasAttribute, fnHasTagAsAttribute:
		want = 2
	case fnHasTagAsGroup:
		want = 1
	case fnIsInGroups:
		if len(n.args) == 0 {
			return errAt(fn.pos, "%s takes at least 1 argument, got 0", fn.text)
		}
		return nil
	}
	if len(n.args) != want {
		plural := "s"
		if want == 1 {
			plural = ""
		}
		return errAt(fn.pos, "%s takes %d argument%s, got %d", fn.text, want, plural, len(n.args))
	}
	if n.fn == fnHasTagAsAttribute || n.fn == fnHasTagAsGroup {
		i := want - 1
		if s := n.args[i]; s != scopeDataSource && s != scopeColumn {
			return errAt(argPos[i], "%s: %s is not one of %s, %s", fn.text, strconv.Quote(s), scopeDataSource, scopeColumn)
		}
	}
	return nil
}
