package settings

import "testing"

func TestCLISessionName(t *testing.T) {
	for user, want := range map[string]string{
		"alice":          "trailwarden-cli-alice",
		"":               "trailwarden-cli-operator",
		"bob smith":      "trailwarden-cli-bob-smith",
		"a/b:c":          "trailwarden-cli-a-b-c",
		"x@corp.example": "trailwarden-cli-x@corp.example",
	} {
		if got := CLISessionName(user); got != want {
			t.Errorf("%q: %q, want %q", user, got, want)
		}
	}
	long := CLISessionName(string(make([]byte, 100)))
	if len(long) != 64 || long == RoleSessionName {
		t.Errorf("long: %q", long)
	}
}
