package emulator

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The shared server: one per test binary, started by the first Shared call.
var shared struct {
	once sync.Once
	mu   sync.Mutex
	srv  *Server
	err  error
}

// Shared returns the test binary's emulator, starting it on first use. It
// fails the test (never skips it) when moto cannot start. Tests of one
// package share it, so they must not call t.Parallel; each test binary has
// its own server, so packages still run in parallel. Call RunTests from
// TestMain so the server is stopped when the binary ends.
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		srv, err := Start(context.Background(), Options{})
		shared.mu.Lock()
		shared.srv, shared.err = srv, err
		shared.mu.Unlock()
	})
	shared.mu.Lock()
	srv, err := shared.srv, shared.err
	shared.mu.Unlock()
	if err != nil {
		t.Fatal(startFailure(err))
	}
	return srv
}

func startFailure(err error) string {
	if os.Getenv("CI") == "true" {
		return fmt.Sprintf("emulator required in CI (CI=true) but it did not start: %v", err)
	}
	if os.Getenv(EnvURL) != "" {
		return fmt.Sprintf("emulator did not answer: %v", err)
	}
	return fmt.Sprintf("emulator did not start: %v\nInstall moto with `make venv` in the repository root (or set %s to a running server).", err, EnvURL)
}

// RunTests runs the package's tests, stops the shared server, and exits.
// Use it as the package's TestMain:
//
//	func TestMain(m *testing.M) { emulator.RunTests(m) }
func RunTests(m *testing.M) {
	code := m.Run()
	if err := CloseShared(); err != nil {
		fmt.Fprintf(os.Stderr, "emulator: close: %v\n", err)
	}
	os.Exit(code)
}

// CloseShared stops the shared server if it was started.
func CloseShared() error {
	shared.mu.Lock()
	srv := shared.srv
	shared.srv = nil
	shared.mu.Unlock()
	return srv.Close()
}

// Env is a test's fresh emulator world: the shared server, reset, with an
// organization built on it.
type Env struct {
	*World
	t testing.TB
}

// NewEnv resets the shared server and builds the default world: an
// organization with a logging account and one member ("member-1").
func NewEnv(t testing.TB) *Env {
	t.Helper()
	return NewEnvWith(t, WorldSpec{})
}

// NewEnvWith resets the shared server and builds the world spec describes.
func NewEnvWith(t testing.TB, spec WorldSpec) *Env {
	t.Helper()
	srv := Shared(t)
	ctx := t.Context()
	if err := srv.Reset(ctx); err != nil {
		t.Fatalf("reset emulator: %v", err)
	}
	w, err := srv.BuildWorld(ctx, spec)
	if err != nil {
		t.Fatalf("build emulator world: %v\nmoto's last output:\n%s", err, srv.Output())
	}
	return &Env{World: w, t: t}
}

// Reset resets the shared server without building anything, for tests that
// need an empty emulator.
func Reset(t testing.TB) *Server {
	t.Helper()
	srv := Shared(t)
	if err := srv.Reset(t.Context()); err != nil {
		t.Fatalf("reset emulator: %v", err)
	}
	return srv
}

// AccountConfig returns a config for accountID through its
// OrganizationAccountAccessRole in the world's Region; it fails the test on
// error.
func (e *Env) AccountConfig(accountID string) aws.Config {
	e.t.Helper()
	cfg, err := e.Assume(e.t.Context(), accountID, "")
	if err != nil {
		e.t.Fatalf("%v", err)
	}
	return cfg
}

// MustMember returns the member named name; it fails the test if there is none.
func (e *Env) MustMember(name string) Account {
	e.t.Helper()
	m, ok := e.World.Member(name)
	if !ok {
		e.t.Fatalf("emulator world has no member %q", name)
	}
	return m
}
