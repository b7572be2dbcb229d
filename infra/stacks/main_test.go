package stacks

import "testing"

// runTests runs the package's tests; emulator_test.go wraps it to stop the
// shared emulator.
var runTests = func(m *testing.M) int { return m.Run() }
