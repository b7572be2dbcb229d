package policy

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// pruneNulls returns a copy of a mapping with null values removed at every
// level, so that "key: null" and "key:" mean "not set: use the default" (and,
// in an override, "reset to the default").
func pruneNulls(n *yaml.Node) *yaml.Node {
	n = deref(n)
	if isNull(n) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	return cloneNode(n)
}

// cloneNode deep-copies a node, resolving aliases and dropping null mapping
// values.
func cloneNode(n *yaml.Node) *yaml.Node {
	return cloneDepth(n, 0, true)
}

// cloneKeepNulls deep-copies a node, resolving aliases and keeping null
// mapping values (an override's "reset to default").
func cloneKeepNulls(n *yaml.Node) *yaml.Node {
	return cloneDepth(n, 0, false)
}

func cloneDepth(n *yaml.Node, depth int, dropNulls bool) *yaml.Node {
	n = deref(n)
	if n == nil {
		return nil
	}
	c := *n
	c.Alias = nil
	c.Content = nil
	if c.Kind == yaml.AliasNode || depth > 64 { // unresolvable or absurdly deep
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
	}
	c.Anchor = ""
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			v := deref(n.Content[i+1])
			if dropNulls && isNull(v) {
				continue
			}
			c.Content = append(c.Content, cloneDepth(n.Content[i], depth+1, dropNulls), cloneDepth(v, depth+1, dropNulls))
		}
	default:
		for _, e := range n.Content {
			c.Content = append(c.Content, cloneDepth(e, depth+1, dropNulls))
		}
	}
	return &c
}

// mergeNodes deep-merges over onto base and returns the result (base is
// modified): mappings merge key by key, anything else (lists, scalars)
// replaces. A null value in over removes the key, restoring the default.
func mergeNodes(base, over *yaml.Node) *yaml.Node {
	over = deref(over)
	if isNull(over) {
		return base
	}
	if base == nil || base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return cloneNode(over)
	}
	for i := 0; i+1 < len(over.Content); i += 2 {
		k, v := deref(over.Content[i]), deref(over.Content[i+1])
		idx := -1
		for j := 0; j+1 < len(base.Content); j += 2 {
			if deref(base.Content[j]).Value == k.Value {
				idx = j
				break
			}
		}
		switch {
		case isNull(v) && idx >= 0:
			base.Content = append(base.Content[:idx], base.Content[idx+2:]...)
		case isNull(v):
		case idx >= 0:
			base.Content[idx+1] = mergeNodes(base.Content[idx+1], v)
		default:
			base.Content = append(base.Content, cloneNode(k), cloneNode(v))
		}
	}
	return base
}

// posAt finds the position of path ("a.b[2].c", under root whose path is
// prefix): a scalar value's own, a mapping's or list's key (so that a
// problem points at "dataEvents:", not at its first child), or the deepest
// ancestor's when the path goes on past the file (a missing key); none for
// a missing top-level section.
func posAt(root *yaml.Node, prefix, path string) (line, col int) {
	if root == nil {
		return 0, 0
	}
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return 0, 0
	}
	n := deref(root)
	line, col = n.Line, n.Column
	for i, seg := range splitPath(rest) {
		k, v := child(n, seg)
		if v == nil && i == 0 && prefix == "" {
			return 0, 0 // a missing section: no place in the file
		}
		if v == nil {
			break
		}
		n = v
		line, col = k.Line, k.Column
		if v.Kind == yaml.ScalarNode {
			line, col = v.Line, v.Column
		}
	}
	return line, col
}

func splitPath(p string) []string {
	var out []string
	for _, part := range strings.Split(strings.TrimPrefix(p, "."), ".") {
		if part == "" {
			continue
		}
		name, idx, hasIdx := strings.Cut(part, "[")
		if name != "" {
			out = append(out, name)
		}
		for hasIdx {
			var i string
			i, idx, _ = strings.Cut(idx, "]")
			out = append(out, "["+i+"]")
			_, idx, hasIdx = strings.Cut(idx, "[")
		}
	}
	return out
}

// child returns the key (for a list item, the item) and the value of one
// path segment under n, or nils.
func child(n *yaml.Node, seg string) (key, value *yaml.Node) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	if strings.HasPrefix(seg, "[") {
		i, err := strconv.Atoi(strings.Trim(seg, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
			return nil, nil
		}
		v := deref(n.Content[i])
		return v, v
	}
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Value == seg {
			return k, deref(n.Content[i+1])
		}
	}
	return nil, nil
}
