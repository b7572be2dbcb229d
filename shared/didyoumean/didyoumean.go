// Package didyoumean suggests the known word nearest to a misspelt one: the
// configuration's unknown keys and enum values, each checked against the
// words that place accepts.
package didyoumean

import (
	"fmt"
	"slices"
	"strings"
)

// maxLen bounds the words compared: edit distance is quadratic, and no key
// or enum value is anywhere near this long.
const maxLen = 64

// Nearest returns the known word nearest to word, or "" when none is near:
// one that differs only in case, else the one with the fewest single-letter
// edits (at most 2, and at most a third of word's length, rounded up), else
// the shortest that word of 4 letters or more begins ("readOnly" for
// "readOnlyPrincipals"); the alphabetically first on a tie.
func Nearest(word string, known []string) string {
	if slices.Contains(known, word) {
		return ""
	}
	best, bestD := "", limit(word)+1
	prefixed := ""
	for _, k := range known {
		if strings.EqualFold(k, word) {
			return k
		}
		if len(word) >= 4 && len(k) > len(word) && strings.EqualFold(k[:len(word)], word) &&
			(prefixed == "" || len(k) < len(prefixed) || len(k) == len(prefixed) && k < prefixed) {
			prefixed = k
		}
		if d := distance(strings.ToLower(k), strings.ToLower(word)); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	if best == "" {
		return prefixed
	}
	return best
}

// Hint is Nearest as a message suffix: ` (did you mean "x"?)`, or "".
func Hint(word string, known []string) string {
	if s := Nearest(word, known); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func limit(word string) int { return min(2, (len(word)+2)/3) }

// distance is the Levenshtein distance of a and b (insertions, deletions
// and substitutions of one byte), or maxLen+1 for words over maxLen bytes.
func distance(a, b string) int {
	if len(a) > maxLen || len(b) > maxLen {
		return maxLen + 1
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
