package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Environment variables the harness reads.
const (
	// EnvRepo names the repository root (where go.mod and .venv live).
	EnvRepo = "TRAILWARDEN_REPO"
	// EnvPython names the Python interpreter that has moto installed.
	EnvPython = "TRAILWARDEN_PYTHON"
	// EnvURL names an already running emulator to use instead of starting one.
	EnvURL = "TRAILWARDEN_EMULATOR_URL"
)

// launcherPath is the launcher's path relative to the repository root.
const launcherPath = "internal/emulator/moto/launcher.py"

// DefaultSeed is the seed Reset gives moto, so generated ids (organization,
// OU and account ids) are the same in every run.
const DefaultSeed = 42

// Options configures Start.
type Options struct {
	// Unpatched starts plain moto, without trailwarden's fidelity patches.
	Unpatched bool
	// LogFile, if set, receives everything moto writes (appended).
	LogFile string
	// Stderr, if set, also receives everything moto writes.
	Stderr io.Writer
	// StartTimeout bounds the wait for moto to answer; default 60s.
	StartTimeout time.Duration
}

// Server is a running moto server (or an external one named by
// TRAILWARDEN_EMULATOR_URL). Its methods are safe for concurrent use.
type Server struct {
	url      string
	external bool
	http     *awshttp.BuildableClient

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
	logFile *os.File
	out     *tail

	closeOnce sync.Once
	closeErr  error
}

// URL is the server's base URL, e.g. http://127.0.0.1:40123.
func (s *Server) URL() string { return s.url }

// LocalhostURL is URL with the host written as localhost, which the CDK CLI
// and moto's CloudFormation need (moto reads "127" in a template URL as a
// bucket name).
func (s *Server) LocalhostURL() string {
	return strings.Replace(s.url, "://127.0.0.1:", "://localhost:", 1)
}

// External reports whether the server was given by TRAILWARDEN_EMULATOR_URL
// rather than started by this process.
func (s *Server) External() bool { return s.external }

// Output returns moto's last lines of output (empty for an external server).
func (s *Server) Output() string {
	if s.out == nil {
		return ""
	}
	return s.out.String()
}

// Start starts moto through the launcher on 127.0.0.1 on a free port and
// waits until it answers. With TRAILWARDEN_EMULATOR_URL set, it checks that
// server answers and uses it instead. The caller must Close the server.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	if u := os.Getenv(EnvURL); u != "" {
		return startExternal(ctx, u, opts)
	}
	python, launcher, err := locate()
	if err != nil {
		return nil, err
	}
	// A free port can be taken between our probe and moto's bind; try again
	// on a fresh port when that happens.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := startProcess(ctx, python, launcher, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	return nil, lastErr
}

var errAddrInUse = errors.New("address already in use")

func startExternal(ctx context.Context, raw string, opts Options) (*Server, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("emulator: %s=%q is not a URL like http://127.0.0.1:5000", EnvURL, raw)
	}
	s := &Server{url: strings.TrimRight(raw, "/"), external: true, http: newHTTPClient()}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	if err := s.waitReady(ctx); err != nil {
		return nil, fmt.Errorf("emulator: %s=%s does not answer: %w", EnvURL, raw, err)
	}
	return s, nil
}

// locate finds the Python interpreter and the launcher.
func locate() (python, launcher string, err error) {
	repo, err := RepoRoot()
	if err != nil {
		return "", "", err
	}
	launcher = filepath.Join(repo, launcherPath)
	if _, err := os.Stat(launcher); err != nil {
		return "", "", fmt.Errorf("emulator: launcher not found: %w", err)
	}
	python = os.Getenv(EnvPython)
	if python == "" {
		python = filepath.Join(repo, ".venv", "bin", "python")
	}
	if _, err := os.Stat(python); err != nil {
		return "", "", fmt.Errorf("emulator: no Python with moto at %s (%w); run `make venv` in %s, or set %s", python, err, repo, EnvPython)
	}
	return python, launcher, nil
}

// RepoRoot returns TRAILWARDEN_REPO, or else the nearest directory at or
// above the working directory that holds go.mod.
func RepoRoot() (string, error) {
	if r := os.Getenv(EnvRepo); r != "" {
		return r, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("emulator: find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("emulator: no go.mod above the working directory; set %s", EnvRepo)
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("emulator: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startProcess(ctx context.Context, python, launcher string, opts Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{launcher, "-H", "127.0.0.1", "-p", strconv.Itoa(port)}
	if opts.Unpatched {
		args = append(args, "--unpatched")
	}
	// Not exec.CommandContext: the server outlives ctx, which only bounds
	// the start.
	cmd := exec.Command(python, args...)
	cmd.Dir = filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(launcher))))
	cmd.Env = childEnv()
	cmd.SysProcAttr = procAttr()

	s := &Server{
		url:  "http://127.0.0.1:" + strconv.Itoa(port),
		http: newHTTPClient(),
		cmd:  cmd,
		done: make(chan struct{}),
		out:  newTail(80),
	}
	sinks := []io.Writer{s.out}
	if opts.LogFile != "" {
		f, err := os.OpenFile(opts.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("emulator: open log file: %w", err)
		}
		s.logFile = f
		sinks = append(sinks, f)
	}
	if opts.Stderr != nil {
		sinks = append(sinks, opts.Stderr)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		s.closeLog()
		return nil, fmt.Errorf("emulator: pipe: %w", err)
	}
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		s.closeLog()
		return nil, fmt.Errorf("emulator: start %s: %w", python, err)
	}
	pw.Close()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(io.MultiWriter(sinks...), pr)
		pr.Close()
	}()
	go func() {
		err := cmd.Wait()
		<-copied // all output is in the tail before done is closed
		s.waitErr = err
		close(s.done)
	}()

	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		out := s.Output()
		if strings.Contains(out, "Address already in use") {
			return nil, fmt.Errorf("emulator: moto could not bind port %d: %w", port, errAddrInUse)
		}
		return nil, fmt.Errorf("emulator: moto did not start: %w\nmoto's last output:\n%s", err, out)
	}
	return s, nil
}

// childEnv is this process's environment with TZ=UTC and without
// MOTO_ACCOUNT_ID, which would override every other way of choosing the
// account.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MOTO_ACCOUNT_ID=") || strings.HasPrefix(kv, "TZ=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TZ=UTC", "PYTHONUNBUFFERED=1")
}

// waitReady polls the moto API until it answers, the process exits, or ctx
// ends.
func (s *Server) waitReady(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		if err := s.ping(ctx); err == nil {
			return nil
		} else {
			lastErr = err
		}
		select {
		case <-s.done: // nil channel for an external server: never ready
			return fmt.Errorf("moto exited: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("%w (last attempt: %v)", ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

// ping asks moto's dashboard, which every moto server serves without
// touching any service's state.
func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/moto-api/", nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /moto-api/: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Close stops the server: SIGTERM to its process group, SIGKILL after a
// grace period. Closing an external server does nothing.
func (s *Server) Close() error {
	if s == nil || s.external || s.cmd == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		pgid := s.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.done
		}
		s.closeErr = s.closeLog()
	})
	return s.closeErr
}

func (s *Server) closeLog() error {
	if s.logFile == nil {
		return nil
	}
	return s.logFile.Close()
}

// Reset clears all of moto's state and seeds its id generator with
// DefaultSeed. Credentials minted before a reset are forgotten: a config from
// AssumeConfig silently falls back to the default account afterwards, so
// assume again after every reset.
func (s *Server) Reset(ctx context.Context) error {
	return s.ResetWithSeed(ctx, DefaultSeed)
}

// ResetWithSeed is Reset with a chosen seed.
func (s *Server) ResetWithSeed(ctx context.Context, seed int64) error {
	if err := s.post(ctx, "/moto-api/reset"); err != nil {
		return err
	}
	return s.post(ctx, "/moto-api/seed?a="+strconv.FormatInt(seed, 10))
}

func (s *Server) post(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+path, nil)
	if err != nil {
		return fmt.Errorf("emulator: POST %s: %w", path, err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("emulator: POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("emulator: POST %s: HTTP %d: %s", path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}

// tail keeps the last lines written to it, and counts every line.
type tail struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
	seq     uint64 // lines completed so far
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, string(t.partial[:i]))
		t.partial = t.partial[i+1:]
		t.seq++
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
	}
	return len(p), nil
}

// mark returns the number of lines written so far.
func (t *tail) mark() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seq
}

// since returns the kept lines written after mark.
func (t *tail) since(mark uint64) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.seq - mark
	if n > uint64(len(t.lines)) {
		n = uint64(len(t.lines))
	}
	return append([]string(nil), t.lines[uint64(len(t.lines))-n:]...)
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.Join(t.lines, "\n")
	if len(t.partial) > 0 {
		s += "\n" + string(t.partial)
	}
	return s
}

var _ io.Writer = (*tail)(nil)
