package settings

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Getenv reads one variable (os.Getenv, or a map in tests).
type Getenv func(string) string

// Env reads environment variables into typed values and collects every
// problem, so that a function's cold start reports all of them at once.
// Every function's configuration is read through it.
type Env struct {
	get      Getenv
	problems []string
}

// NewEnv reads through get (nil: os.Getenv).
func NewEnv(get Getenv) *Env {
	if get == nil {
		get = os.Getenv
	}
	return &Env{get: get}
}

// Getenv is the function the reader reads through.
func (e *Env) Getenv() Getenv { return e.get }

// String returns the value, surrounding space trimmed ("" when unset).
func (e *Env) String(name string) string { return strings.TrimSpace(e.get(name)) }

// Required is String, with a problem when the value is empty.
func (e *Env) Required(name string) string {
	v := e.String(name)
	if v == "" {
		e.Problemf("%s is required", name)
	}
	return v
}

// Duration reads a positive Go duration (def when unset or invalid).
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	v := e.String(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.Problemf("%s=%q is not a positive Go duration (e.g. 30m)", name, v)
		return def
	}
	return d
}

// Bool reads true or false in strconv.ParseBool's spellings.
func (e *Env) Bool(name string, def bool) bool {
	v := e.String(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.Problemf("%s=%q is not true or false", name, v)
		return def
	}
	return b
}

// Int reads a decimal integer; the caller validates its range.
func (e *Env) Int(name string, def int) int {
	v := e.String(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.Problemf("%s=%q is not an integer", name, v)
		return def
	}
	return n
}

// PositiveInt reads an integer above zero.
func (e *Env) PositiveInt(name string, def int) int {
	v := e.String(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		e.Problemf("%s=%q is not a positive integer", name, v)
		return def
	}
	return n
}

// Float reads a decimal number; the caller validates its range.
func (e *Env) Float(name string, def float64) float64 {
	v := e.String(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		e.Problemf("%s=%q is not a number", name, v)
		return def
	}
	return f
}

// Problemf records a problem found by the caller's own validation.
func (e *Env) Problemf(format string, args ...any) {
	e.problems = append(e.problems, fmt.Sprintf(format, args...))
}

// Problems returns the problems recorded so far.
func (e *Env) Problems() []string { return append([]string(nil), e.problems...) }

// Err returns every recorded problem as one *Error, or nil.
func (e *Env) Err() error {
	if len(e.problems) == 0 {
		return nil
	}
	return &Error{Problems: e.Problems()}
}

// Error lists every problem of a configuration.
type Error struct{ Problems []string }

func (e *Error) Error() string { return "configuration: " + strings.Join(e.Problems, "; ") }
