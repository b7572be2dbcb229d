package notification

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting in values this package skips; deeper documents
// are reported malformed (encoding/json allows 10000; no AWS payload here
// nests more than a few levels).
const maxDepth = 64

// scanner is a strict, allocation-free JSON reader over a string. It accepts
// exactly the documents json.Valid accepts (up to maxDepth), hands out raw
// string contents as substrings and skips values it is not asked about.
type scanner struct {
	s   string
	i   int
	err string // first syntax error; "" while the input is well formed
}

func (sc *scanner) fail(msg string) {
	if sc.err == "" {
		sc.err = "invalid JSON: " + msg + " at offset " + strconv.Itoa(sc.i)
	}
}

func (sc *scanner) ws() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (sc *scanner) peek() byte {
	sc.ws()
	if sc.i >= len(sc.s) {
		return 0
	}
	return sc.s[sc.i]
}

// atEnd reports whether only white space remains.
func (sc *scanner) atEnd() bool {
	sc.ws()
	return sc.i == len(sc.s)
}

// str reads a string at the cursor: its raw content between the quotes and
// whether it holds escapes.
func (sc *scanner) str() (raw string, esc bool, ok bool) {
	if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
		sc.fail("want a string")
		return "", false, false
	}
	start := sc.i + 1
	s := sc.s
	for j := start; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '"':
			sc.i = j + 1
			return s[start:j], esc, true
		case c == '\\':
			esc = true
			j++
			if j >= len(s) {
				sc.i = j
				sc.fail("unterminated string")
				return "", false, false
			}
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s) || !ishex(s[j+1]) || !ishex(s[j+2]) || !ishex(s[j+3]) || !ishex(s[j+4]) {
					sc.i = j
					sc.fail(`invalid \u escape`)
					return "", false, false
				}
				j += 4
			default:
				sc.i = j
				sc.fail("invalid escape")
				return "", false, false
			}
		case c < 0x20:
			sc.i = j
			sc.fail("control character in string")
			return "", false, false
		}
	}
	sc.i = len(s)
	sc.fail("unterminated string")
	return "", false, false
}

func (sc *scanner) num() bool {
	s, j := sc.s, sc.i
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && s[j] >= '1' && s[j] <= '9':
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
	default:
		sc.i = j
		sc.fail("invalid number")
		return false
	}
	if j < len(s) && s[j] == '.' {
		j++
		d := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == d {
			sc.i = j
			sc.fail("invalid number")
			return false
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		d := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == d {
			sc.i = j
			sc.fail("invalid number")
			return false
		}
	}
	sc.i = j
	return true
}

func (sc *scanner) lit(word string) bool {
	if strings.HasPrefix(sc.s[sc.i:], word) {
		sc.i += len(word)
		return true
	}
	sc.fail("invalid literal")
	return false
}

// skip validates and skips one value.
func (sc *scanner) skip(depth int) bool {
	switch sc.peek() {
	case '"':
		_, _, ok := sc.str()
		return ok
	case '{':
		if depth >= maxDepth {
			sc.fail("nesting too deep")
			return false
		}
		sc.i++
		first := true
		for {
			_, _, more := sc.member(&first)
			if !more {
				return sc.err == ""
			}
			if !sc.skip(depth + 1) {
				return false
			}
		}
	case '[':
		if depth >= maxDepth {
			sc.fail("nesting too deep")
			return false
		}
		sc.i++
		first := true
		for sc.elem(&first) {
			if !sc.skip(depth + 1) {
				return false
			}
		}
		return sc.err == ""
	case 't':
		return sc.lit("true")
	case 'f':
		return sc.lit("false")
	case 'n':
		return sc.lit("null")
	case 0:
		sc.fail("unexpected end of JSON")
		return false
	default:
		return sc.num()
	}
}

// member advances inside an object whose '{' was consumed: it consumes a
// ',' or the closing '}', then reads the next member's name and ':'. It
// returns more=false at the end of the object or on error (sc.err set).
func (sc *scanner) member(first *bool) (name string, esc bool, more bool) {
	c := sc.peek()
	if *first {
		*first = false
		if c == '}' {
			sc.i++
			return "", false, false
		}
	} else {
		switch c {
		case '}':
			sc.i++
			return "", false, false
		case ',':
			sc.i++
			sc.ws()
		default:
			sc.fail("want ',' or '}'")
			return "", false, false
		}
	}
	name, esc, ok := sc.str()
	if !ok {
		return "", false, false
	}
	if sc.peek() != ':' {
		sc.fail("want ':'")
		return "", false, false
	}
	sc.i++
	sc.ws()
	return name, esc, true
}

// elem advances inside an array whose '[' was consumed, like member.
func (sc *scanner) elem(first *bool) bool {
	c := sc.peek()
	if *first {
		*first = false
		if c == ']' {
			sc.i++
			return false
		}
		return true
	}
	switch c {
	case ']':
		sc.i++
		return false
	case ',':
		sc.i++
		sc.ws()
		return true
	}
	sc.fail("want ',' or ']'")
	return false
}

func ishex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexval(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	default:
		return rune(c - 'A' + 10)
	}
}

// unquote decodes the raw content of a string the scanner accepted, as
// encoding/json does (invalid surrogates become U+FFFD; other bytes are
// kept). Without escapes it returns raw itself.
func unquote(raw string, esc bool) string {
	if !esc {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(raw[i+1:])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2 := hex4(raw[i+3:])
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						i += 6
						b.WriteRune(dec)
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default: // '"', '\\', '/'
			b.WriteByte(raw[i])
		}
	}
	return b.String()
}

func hex4(s string) rune {
	return hexval(s[0])<<12 | hexval(s[1])<<8 | hexval(s[2])<<4 | hexval(s[3])
}
