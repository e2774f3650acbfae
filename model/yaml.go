package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// BundleExpansionFactor bounds what a bundle file may expand to: its YAML, with
// every alias expanded, may hold at most this many times the file's size (and at
// least the default payload limit). See docs/security.md, Limits.
const BundleExpansionFactor = 16

// BundleBudget returns the expansion budget of a bundle file of size bytes: at
// most BundleExpansionFactor times its size, at least the default payload limit.
func BundleBudget(size int) int {
	return max(BundleExpansionFactor*size, DefaultLimits().MaxPayloadBytes)
}

// YAMLToJSON converts one YAML document to JSON. What the document becomes is
// bounded while it is read, before anything is expanded: the document with every
// alias expanded may hold at most budget bytes (each scalar counts its length plus
// one, each list and object one, so a document without aliases counts about its own
// size); data itself may hold at most budget bytes. Over the budget the error is an
// ErrorList whose one problem has CodeTooLarge. The input must be exactly one
// document (a second one is an error) without explicit tags (!!binary,
// !!python/...); a duplicate key is an error (CodeDuplicate). An empty document
// converts to null. A budget <= 0 means the default payload limit.
func YAMLToJSON(data []byte, budget int) ([]byte, error) {
	if budget <= 0 {
		budget = DefaultLimits().MaxPayloadBytes
	}
	if len(data) > budget {
		return nil, ErrorList{TooLarge(len(data), budget, "bytes")}
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	var doc yamlv3.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return []byte("null"), nil
		}
		return nil, ErrorList{Invalid("", nil, "is not valid YAML: "+yamlMessage(err))}
	}
	var next yamlv3.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, ErrorList{Invalid("", nil, "is not valid YAML: "+yamlMessage(err))}
	default:
		return nil, ErrorList{Invalid("", nil, fmt.Sprintf("is not valid YAML: holds more than one document (a second one starts at line %d); send one", next.Line))}
	}
	m := &yamlMeter{budget: budget, state: map[*yamlv3.Node]*yamlSize{}}
	size := m.measure(&doc, "")
	if m.err != nil {
		return nil, ErrorList{m.err}
	}
	if size > budget {
		return nil, ErrorList{&FieldError{Path: "", Code: CodeTooLarge,
			Detail: fmt.Sprintf("expands (YAML aliases) to more than the limit of %d bytes", budget)}}
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		msg := yamlMessage(err)
		if strings.Contains(msg, "already set in map") {
			return nil, ErrorList{{Path: "", Code: CodeDuplicate, Detail: "is not valid YAML: " + msg}}
		}
		return nil, ErrorList{Invalid("", nil, "is not valid YAML: "+msg)}
	}
	return js, nil
}

// yamlMessage is a YAML error on one line, its quoted input clipped.
func yamlMessage(err error) string {
	return ClipInput(strings.Join(strings.Fields(err.Error()), " "))
}

// yamlSize is the measured size of one node, memoized: an anchored node is
// measured once however many aliases name it.
type yamlSize struct {
	size int
	done bool // false while the node is being measured (an alias to it is a cycle)
}

// yamlMeter measures the expanded size of a YAML node tree without expanding it,
// and refuses explicit tags.
type yamlMeter struct {
	budget int
	state  map[*yamlv3.Node]*yamlSize
	err    *FieldError
}

// measure returns the expanded size of n at path p, saturated just above the
// budget; on a problem it sets m.err and returns budget+1.
func (m *yamlMeter) measure(n *yamlv3.Node, p Path) int {
	over := m.budget + 1
	if m.err != nil {
		return over
	}
	if st, ok := m.state[n]; ok {
		if !st.done {
			m.err = Invalid(p, nil, "is not valid YAML: an alias refers to a node that contains it")
			return over
		}
		return st.size
	}
	st := &yamlSize{}
	m.state[n] = st
	if n.Style&yamlv3.TaggedStyle != 0 {
		m.err = Invalid(p, nil, fmt.Sprintf("is not valid YAML: explicit tags are not accepted (%s)", ClipInput(n.Tag)))
		return over
	}
	size := 1
	add := func(k int) {
		size = min(size+k, over)
	}
	switch n.Kind {
	case yamlv3.DocumentNode:
		for _, c := range n.Content {
			add(m.measure(c, p))
		}
	case yamlv3.AliasNode:
		if n.Alias == nil {
			m.err = Invalid(p, nil, "is not valid YAML: an alias names no anchor")
			return over
		}
		size = m.measure(n.Alias, p)
	case yamlv3.ScalarNode:
		add(len(n.Value))
	case yamlv3.SequenceNode:
		for i, c := range n.Content {
			add(m.measure(c, p.Index(i)))
			if size >= over {
				break
			}
		}
	case yamlv3.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			add(m.measure(k, p))
			add(m.measure(n.Content[i+1], p.Child(ClipInput(k.Value))))
			if size >= over {
				break
			}
		}
	}
	if m.err != nil {
		return over
	}
	st.size, st.done = size, true
	return size
}
