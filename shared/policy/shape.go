package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/didyoumean"
)

// schema is the configuration file's shape as the shape check sees it:
// every section typed, the trail fragments of overrides included.
type schema struct {
	Version      int                   `yaml:"version"`
	Organization Organization          `yaml:"organization"`
	Mode         Mode                  `yaml:"mode"`
	Trail        Trail                 `yaml:"trail"`
	Overrides    []overrideSchema      `yaml:"overrides"`
	Deployment   deployment.Deployment `yaml:"deployment"`
}

type overrideSchema struct {
	Match Match `yaml:"match"`
	Trail Trail `yaml:"trail"`
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

var (
	resourceType    = typeOf[Resource]()
	unmarshalerType = typeOf[yaml.Unmarshaler]()
)

// shapeCheck walks a YAML tree against a Go type and reports unknown keys
// (typos, with the nearest known key), duplicate keys and values of the
// wrong kind, each with its path, line and column. It marks what it
// refused, so that clean can take it out and the rest can still be decoded
// and validated: one problem never hides another.
type shapeCheck struct {
	probs Problems
	// covered are the paths whose value problems a shape problem already
	// explains: a refused value's, or the key a misspelt key stood for.
	covered []string
	drop    map[*yaml.Node]bool // keys (as in Content) whose pairs clean removes
	null    map[*yaml.Node]bool // values clean replaces by null ("default")
}

func newShapeCheck() *shapeCheck {
	return &shapeCheck{drop: map[*yaml.Node]bool{}, null: map[*yaml.Node]bool{}}
}

func (c *shapeCheck) add(n *yaml.Node, path, msg string) {
	c.probs = append(c.probs, Problem{Path: path, Line: n.Line, Column: n.Column, Message: msg})
}

// refuse reports a value of the wrong kind and marks it for clean.
func (c *shapeCheck) refuse(n *yaml.Node, path, msg string) {
	c.add(n, path, msg)
	c.null[n] = true
	c.covered = append(c.covered, path)
}

// explains reports whether a shape problem already covers path.
func (c *shapeCheck) explains(path string) bool {
	for _, p := range c.covered {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

func (c *shapeCheck) walk(n *yaml.Node, t reflect.Type, path string, depth int) {
	n = deref(n)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isNull(n) {
		return
	}
	if depth > 32 {
		c.refuse(n, path, "nested too deeply")
		return
	}
	if t == resourceType && n.Kind == yaml.ScalarNode {
		return
	}
	if t != resourceType && reflect.PointerTo(t).Implements(unmarshalerType) {
		// A type that reads itself (a duration): its own error is the message.
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			c.refuse(n, path, err.Error())
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		c.mapping(n, t, path, depth)
	case reflect.Map:
		c.stringMap(n, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.refuse(n, path, "must be a list")
			return
		}
		for i, e := range n.Content {
			c.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			c.refuse(n, path, "must be a string")
		}
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			c.refuse(n, path, "must be true or false")
		}
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
			c.refuse(n, path, "must be a whole number")
		}
	}
}

// mapping checks a struct's mapping: every key known and given once.
func (c *shapeCheck) mapping(n *yaml.Node, t reflect.Type, path string, depth int) {
	if n.Kind != yaml.MappingNode {
		c.refuse(n, path, "must be a mapping")
		return
	}
	fields := yamlFields(t)
	known := make([]string, 0, len(fields))
	for f := range fields {
		known = append(known, f)
	}
	slices.Sort(known)
	seen := map[string]bool{}
	var meant []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		raw := n.Content[i]
		k, v := deref(raw), n.Content[i+1]
		kp := joinPath(path, k.Value)
		ft, ok := fields[k.Value]
		switch {
		case k.Kind != yaml.ScalarNode:
			c.add(k, path, "keys must be plain names")
		case k.Value == "<<":
			c.add(k, path, "YAML merge keys (<<) are not supported; use overrides")
		case seen[k.Value]:
			c.add(k, kp, "is given twice")
		case !ok:
			s := didyoumean.Nearest(k.Value, known)
			c.add(k, kp, "unknown field"+didyoumean.Hint(k.Value, known))
			meant = append(meant, s)
		default:
			seen[k.Value] = true
			c.walk(v, ft, kp, depth+1)
			continue
		}
		c.drop[raw] = true
	}
	for _, s := range meant {
		if s != "" && !seen[s] {
			c.covered = append(c.covered, joinPath(path, s))
		}
	}
}

// stringMap checks a map of strings (tags): string keys, given once, and
// scalar values.
func (c *shapeCheck) stringMap(n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		c.refuse(n, path, "must be a mapping")
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		raw := n.Content[i]
		k, v := deref(raw), deref(n.Content[i+1])
		kp := joinPath(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			c.add(k, path, "keys must be strings")
			c.drop[raw] = true
		case seen[k.Value]:
			c.add(k, kp, "is given twice")
			c.drop[raw] = true
		case v != nil && v.Kind != yaml.ScalarNode:
			seen[k.Value] = true
			c.refuse(v, kp, "must be a string")
		default:
			seen[k.Value] = true
		}
	}
}

// clean takes out of the tree under n what the walk refused: pairs under
// refused keys are removed, refused values become null (the default).
func (c *shapeCheck) clean(n *yaml.Node, done map[*yaml.Node]bool) {
	n = deref(n)
	if n == nil || done[n] {
		return
	}
	done[n] = true
	nullOf := func(v *yaml.Node) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: v.Line, Column: v.Column}
	}
	var out []*yaml.Node
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if c.drop[k] {
				continue
			}
			if c.null[deref(v)] {
				v = nullOf(v)
			}
			out = append(out, k, v)
		}
	default:
		for _, e := range n.Content {
			if c.null[deref(e)] {
				e = nullOf(e)
			}
			out = append(out, e)
		}
	}
	n.Content = out
	for _, e := range out {
		c.clean(e, done)
	}
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
