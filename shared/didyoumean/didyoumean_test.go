package didyoumean

import "testing"

func TestNearest(t *testing.T) {
	keys := []string{"automationAccount", "regions", "objectCheck", "logLevel", "integrity"}
	enums := []string{"none", "sample", "all"}
	tests := []struct {
		word  string
		known []string
		want  string
	}{
		{"automationAcount", keys, "automationAccount"},
		{"Regions", keys, "regions"},
		{"objectchek", keys, "objectCheck"},
		{"integrty", keys, "integrity"},
		{"regions", keys, ""},       // known: nothing to suggest
		{"schedule", keys, ""},      // nothing near
		{"sampel", enums, "sample"}, // a swap is two edits
		{"non", enums, "none"},
		{"x", enums, ""}, // one letter: no edit allowed
		{"al", enums, "all"},
		{"everything", enums, ""},
		{"a" + string(make([]byte, 80)), enums, ""},
	}
	for _, tt := range tests {
		if got := Nearest(tt.word, tt.known); got != tt.want {
			t.Errorf("Nearest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
	if got := Hint("sampel", enums); got != ` (did you mean "sample"?)` {
		t.Errorf("Hint = %q", got)
	}
	if got := Hint("zzz", enums); got != "" {
		t.Errorf("Hint of a far word = %q", got)
	}
}

// FuzzNearest: never panics, and a suggestion is always a known word other
// than the input.
func FuzzNearest(f *testing.F) {
	f.Add("sampel", "sample")
	f.Add("", "none")
	f.Fuzz(func(t *testing.T, word, known string) {
		got := Nearest(word, []string{known, "all", "none"})
		if got != "" && got != known && got != "all" && got != "none" || got == word && got != "" {
			t.Fatalf("Nearest(%q) = %q", word, got)
		}
	})
}
