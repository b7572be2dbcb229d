// Package buildcheck holds the test that Lambda builds are reproducible.
package buildcheck

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/emulator"
)

// TestLambdaBuildIsReproducible builds a function with the Makefile's exact
// command twice — the second time with an empty build cache and another
// output path — and requires identical bytes, so an unchanged synth never
// changes an asset hash.
func TestLambdaBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds twice from scratch")
	}
	repo, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	target := "build/enabler/bootstrap"
	dry, err := exec.Command("make", "-s", "-n", "-B", "-C", repo, target).Output()
	if err != nil {
		t.Fatalf("make -n: %v", err)
	}
	var cmdline string
	for _, line := range strings.Split(string(dry), "\n") {
		if strings.Contains(line, "go build") {
			cmdline = line
		}
	}
	if cmdline == "" || !strings.Contains(cmdline, "-trimpath") || !strings.Contains(cmdline, "GOARCH=arm64") ||
		!strings.Contains(cmdline, "lambda.norpc") || !strings.Contains(cmdline, `-buildid=`) {
		t.Fatalf("Makefile build command lacks reproducibility flags: %q", cmdline)
	}
	build := func(out, cache string) string {
		line := strings.Replace(cmdline, "-o "+target, "-o "+out, 1)
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GOCACHE="+cache)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	dir := t.TempDir()
	userCache, _ := exec.Command("go", "env", "GOCACHE").Output()
	first := build(filepath.Join(dir, "a", "bootstrap"), string(bytes.TrimSpace(userCache)))
	second := build(filepath.Join(dir, "b", "bootstrap"), filepath.Join(dir, "cache"))
	if first != second {
		t.Fatalf("two builds differ: %s vs %s", first, second)
	}
	t.Logf("bootstrap sha256 %s (identical across caches and paths)", first)
}
