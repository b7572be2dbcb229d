package settings

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestEnvReportsEveryProblem: one read collects every bad value, keeps the
// defaults for them, and returns one typed error listing all.
func TestEnvReportsEveryProblem(t *testing.T) {
	e := NewEnv(env(map[string]string{
		"D": "soon", "B": "maybe", "I": "x", "P": "0", "F": "one", "S": "  v  ",
		"D2": "90s", "B2": "false", "I2": "-3", "P2": "7", "F2": "0.5",
	}))
	if e.Duration("D", time.Hour) != time.Hour || e.Bool("B", true) != true || e.Int("I", 4) != 4 ||
		e.PositiveInt("P", 5) != 5 || e.Float("F", 0.25) != 0.25 || e.Required("R") != "" {
		t.Error("a bad value did not fall back to its default")
	}
	if e.String("S") != "v" || e.Duration("D2", time.Hour) != 90*time.Second || e.Bool("B2", true) ||
		e.Int("I2", 0) != -3 || e.PositiveInt("P2", 1) != 7 || e.Float("F2", 0) != 0.5 || e.Duration("unset", time.Minute) != time.Minute {
		t.Error("a good value was not read")
	}
	var ce *Error
	if err := e.Err(); !errors.As(err, &ce) {
		t.Fatalf("Err() = %v, want *Error", err)
	}
	want := []string{`D="soon" is not a positive Go duration (e.g. 30m)`, `B="maybe" is not true or false`, `I="x" is not an integer`,
		`P="0" is not a positive integer`, `F="one" is not a number`, `R is required`}
	if !slices.Equal(ce.Problems, want) {
		t.Errorf("problems:\n got %q\nwant %q", ce.Problems, want)
	}
	if NewEnv(env(nil)).Err() != nil {
		t.Error("no problem, yet an error")
	}
}
