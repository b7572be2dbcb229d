// Package jsondup refuses ambiguous JSON: an object that names one member
// twice, spelt the same or differing only in case (encoding/json matches
// member names to fields case-insensitively). encoding/json keeps the last of two duplicates and other readers
// the first, so a payload with duplicates can mean one thing to trailwarden
// and another to the tool an operator checks it with. RFC 8259 §4 says
// names within an object "SHOULD be unique" and leaves the behaviour for
// duplicates to each implementation.
package jsondup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Error names a duplicated member by its path (e.g. "detail.object.key").
type Error struct {
	Path string
}

func (e *Error) Error() string { return "duplicate JSON member " + e.Path }

// MaxDepth bounds nesting (encoding/json's own limit is 10000): no AWS
// payload trailwarden reads nests nearly this deep.
const MaxDepth = 128

// ErrTooDeep: the input nests deeper than MaxDepth; it is refused, since
// its duplicates could not all be checked.
var ErrTooDeep = fmt.Errorf("JSON nested deeper than %d levels", MaxDepth)

// Check returns an *Error for the first member named twice in one object
// of data, at any depth, and ErrTooDeep for input nested deeper than
// MaxDepth. Input that is not valid JSON otherwise returns nil: the
// caller's decoder reports it with its own message.
func Check(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	err := walk(dec, "", 0)
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	if errors.Is(err, ErrTooDeep) {
		return ErrTooDeep
	}
	return nil
}

// walk reads one value; path names it.
func walk(dec *json.Decoder, path string, depth int) error {
	if depth > MaxDepth {
		return ErrTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			name, ok := k.(string)
			if !ok {
				return io.ErrUnexpectedEOF
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			folded := fold(name)
			if seen[folded] {
				return &Error{Path: clip(p)}
			}
			seen[folded] = true
			if err := walk(dec, p, depth+1); err != nil {
				return err
			}
		}
		_, err := dec.Token() // '}'
		return err
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := walk(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		return err
	}
	return nil
}

// fold maps a member name to the form encoding/json matches struct fields
// by (case-insensitively, Unicode simple folding): "source" and "Source"
// fill the same field, so an object holding both is as ambiguous as one
// naming "source" twice.
func fold(name string) string {
	return strings.Map(func(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }, name)
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
