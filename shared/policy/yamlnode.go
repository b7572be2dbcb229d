package policy

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

var (
	nodeType     = typeOf[yaml.Node]()
	resourceType = typeOf[Resource]()
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

// yamlFields maps a struct's YAML keys to its field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// checkShape walks n against the Go type t and reports unknown keys (typos),
// duplicate keys and values of the wrong kind, each with its path and line.
// yaml.Node fields (such as deployment) accept anything. Null means "default".
func checkShape(n *yaml.Node, t reflect.Type, path string, probs *Problems) {
	checkShapeDepth(n, t, path, probs, 0)
}

func checkShapeDepth(n *yaml.Node, t reflect.Type, path string, probs *Problems, depth int) {
	n = deref(n)
	if t == nodeType || isNull(n) {
		return
	}
	if depth > 32 {
		*probs = append(*probs, Problem{Path: path, Line: n.Line, Message: "nested too deeply"})
		return
	}
	bad := func(msg string) { *probs = append(*probs, Problem{Path: path, Line: n.Line, Message: msg}) }
	if t == resourceType && n.Kind == yaml.ScalarNode {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			bad("must be a mapping")
			return
		}
		fields := yamlFields(t)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := deref(n.Content[i]), n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				*probs = append(*probs, Problem{Path: path, Line: k.Line, Message: "keys must be plain names"})
				continue
			}
			if k.Value == "<<" {
				*probs = append(*probs, Problem{Path: path, Line: k.Line, Message: "YAML merge keys (<<) are not supported; use overrides"})
				continue
			}
			kp := joinPath(path, k.Value)
			if seen[k.Value] {
				*probs = append(*probs, Problem{Path: kp, Line: k.Line, Message: "is given twice"})
				continue
			}
			seen[k.Value] = true
			ft, ok := fields[k.Value]
			if !ok {
				*probs = append(*probs, Problem{Path: kp, Line: k.Line, Message: "unknown field" + suggest(k.Value, fields)})
				continue
			}
			checkShapeDepth(v, ft, kp, probs, depth+1)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			bad("must be a mapping")
			return
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := deref(n.Content[i]), deref(n.Content[i+1])
			if k.Kind != yaml.ScalarNode {
				*probs = append(*probs, Problem{Path: path, Line: k.Line, Message: "keys must be strings"})
				continue
			}
			kp := joinPath(path, k.Value)
			if seen[k.Value] {
				*probs = append(*probs, Problem{Path: kp, Line: k.Line, Message: "is given twice"})
				continue
			}
			seen[k.Value] = true
			if v.Kind != yaml.ScalarNode {
				*probs = append(*probs, Problem{Path: kp, Line: v.Line, Message: "must be a string"})
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			bad("must be a list")
			return
		}
		for i, e := range n.Content {
			checkShapeDepth(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), probs, depth+1)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			bad("must be a string")
		}
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			bad("must be true or false")
		}
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
			bad("must be a whole number")
		}
	}
}

// suggest names a known field that differs only in case or by a small edit.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for f := range fields {
		if strings.EqualFold(f, key) {
			return fmt.Sprintf(" (did you mean %q?)", f)
		}
		if d := editDistance(strings.ToLower(f), strings.ToLower(key)); d < bestD || d == bestD && f < best {
			best, bestD = f, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
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

// lineAt finds the line of the deepest node on path ("a.b[2].c") under root,
// whose path is prefix.
func lineAt(root *yaml.Node, prefix, path string) int {
	if root == nil {
		return 0
	}
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return 0
	}
	n := deref(root)
	line := n.Line
	for _, seg := range splitPath(rest) {
		n = child(n, seg)
		if n == nil {
			break
		}
		line = n.Line
	}
	return line
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

func child(n *yaml.Node, seg string) *yaml.Node {
	n = deref(n)
	if n == nil {
		return nil
	}
	if strings.HasPrefix(seg, "[") {
		i, err := strconv.Atoi(strings.Trim(seg, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
			return nil
		}
		return deref(n.Content[i])
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if deref(n.Content[i]).Value == seg {
			return deref(n.Content[i+1])
		}
	}
	return nil
}
