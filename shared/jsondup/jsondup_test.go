package jsondup

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := map[string]string{
		`{"a":1,"b":2}`: "",
		`{"a":1,"a":2}`: "a",
		`{"detail":{"object":{"key":"x","key":"y"}}}`: "detail.object.key",
		`{"d":[{"k":1},{"k":1,"k":2}]}`:               "d[1].k",
		`{"a":"\u0061","\u0061":1}`:                   "a",
		`{"x":{"a":1},"y":{"a":1}}`:                   "",
		`{"source":"aws.ec2","Source":"x"}`:           "Source",
		`{"Kelvin":1,"\u212Aelvin":2}`:                "Kelvin",
		`not json`:                                    "",
		`{"a":1,"a"`:                                  "a",
		`[1,2,{"s":{"t":null,"t":null}}]`:             "[2].s.t",
	}
	for in, want := range cases {
		err := Check([]byte(in))
		var de *Error
		got := ""
		if errors.As(err, &de) {
			got = de.Path
		}
		if got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

func TestTooDeep(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxDepth+2) + "1" + strings.Repeat("}", MaxDepth+2)
	if err := Check([]byte(deep)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("%v", err)
	}
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if err := Check([]byte(ok)); err != nil {
		t.Fatalf("%v", err)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":[{"b":1}]}`, `[]`, `"x"`, `{"a":{"a":{"a":1}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = Check(b)
	})
}
