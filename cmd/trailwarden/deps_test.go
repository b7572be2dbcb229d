package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCLILinksNoHarness: the shipped CLI holds product code only; the
// emulator, the delivery simulator and the demo live in the demo program.
func TestCLILinksNoHarness(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	const mod = "github.com/trailwarden/trailwarden/"
	for _, pkg := range strings.Fields(string(out)) {
		for _, bad := range []string{"internal/emulator", "internal/cloudtrailsim", "internal/demo"} {
			if pkg == mod+bad || strings.HasPrefix(pkg, mod+bad+"/") {
				t.Errorf("cmd/trailwarden links %s", pkg)
			}
		}
	}
}
