// Package countingproxy is test support: a reverse proxy on 127.0.0.1 in
// front of the emulator that counts the AWS requests passing through it and
// the bytes of their response bodies, per operation. Clients written in any
// language (the AWS CLI, trailwarden, the SDK in a test) are pointed at it
// with an endpoint URL, so the same counter judges them all.
//
// The operation of a request is "<service>:<Operation>": the service is the
// signing name in the SigV4 credential scope of its Authorization header;
// the operation is the suffix of X-Amz-Target (JSON protocols: CloudTrail,
// DynamoDB) or, for S3, derived from the method, the path (path-style
// addressing) and the sub-resource in the query.
//
// Counts are read and reset over HTTP (CountsPath) so that the proxy can run
// in a process of its own: its CPU is then charged to neither the emulator
// nor the clients measured.
package countingproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// CountsPath answers GET with the counts as JSON (Counts) and DELETE by
// resetting them. Requests to it are not counted or forwarded.
const CountsPath = "/_countingproxy/counts"

// Op is what one operation cost: requests and response body bytes.
type Op struct {
	Requests int64 `json:"requests"`
	Bytes    int64 `json:"bytes"`
}

// Counts maps an operation name to its totals.
type Counts map[string]Op

// Sum adds the operations whose name has prefix ("" for all).
func (c Counts) Sum(prefix string) Op {
	var t Op
	for name, o := range c {
		if strings.HasPrefix(name, prefix) {
			t.Requests += o.Requests
			t.Bytes += o.Bytes
		}
	}
	return t
}

// Names returns the operation names, sorted.
func (c Counts) Names() []string {
	out := make([]string, 0, len(c))
	for n := range c {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Classifier names a request's operation; Operation is the default.
type Classifier func(r *http.Request) string

// Proxy forwards every request to its target and counts it.
type Proxy struct {
	rp       *httputil.ReverseProxy
	classify Classifier

	mu     sync.Mutex
	counts Counts
}

// New returns a proxy to target; classify nil means Operation.
func New(target *url.URL, classify Classifier) *Proxy {
	if classify == nil {
		classify = Operation
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	// The proxy must hand bodies on as stored: a transport that asked for
	// gzip itself would inflate gzip-encoded objects (CloudTrail's).
	rp.Transport = &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16}
	return &Proxy{rp: rp, classify: classify, counts: Counts{}}
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == CountsPath {
		p.control(w, r)
		return
	}
	op := p.classify(r)
	cw := &countingWriter{ResponseWriter: w}
	p.rp.ServeHTTP(cw, r)
	p.mu.Lock()
	o := p.counts[op]
	o.Requests++
	o.Bytes += cw.n
	p.counts[op] = o
	p.mu.Unlock()
}

func (p *Proxy) control(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p.counts)
	case http.MethodDelete:
		p.counts = Counts{}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "GET or DELETE", http.StatusMethodNotAllowed)
	}
}

// countingWriter counts the response body bytes written.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

// WriteHeader sends user metadata header names in lower case, as S3 (and
// the emulator) does: Go canonicalizes header names on the way through
// ("X-Amz-Meta-Signature"), and botocore keeps the case of the part after
// "x-amz-meta-" as the metadata name, so the AWS CLI would find no
// "signature".
func (c *countingWriter) WriteHeader(code int) {
	h := c.ResponseWriter.Header()
	for k, v := range h {
		if strings.HasPrefix(k, "X-Amz-Meta-") {
			delete(h, k)
			h[strings.ToLower(k)] = v
		}
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// Flush lets the reverse proxy flush through the wrapper.
func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Service is the SigV4 signing name of r ("" when unsigned).
func Service(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	// AKID/yyyymmdd/region/service/aws4_request
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// Operation names r's operation: "<service>:<Operation>".
func Operation(r *http.Request) string {
	svc := Service(r)
	if svc == "" {
		svc = "unsigned"
	}
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return svc + ":" + t[strings.LastIndexByte(t, '.')+1:]
	}
	if svc == "s3" {
		return "s3:" + S3Operation(r)
	}
	return svc + ":" + r.Method
}

// listParams are the query parameters of ListObjects (version 1).
var listParams = map[string]bool{"prefix": true, "marker": true, "delimiter": true, "max-keys": true, "encoding-type": true}

// S3Operation names a path-style S3 request's operation from its method,
// path and sub-resource (only the ones validators use; others are
// "<METHOD> bucket|object").
func S3Operation(r *http.Request) string {
	_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	if key == "" {
		if r.Method != http.MethodGet {
			return r.Method + " bucket"
		}
		switch {
		case q.Has("location"):
			return "GetBucketLocation"
		case q.Get("list-type") == "2":
			return "ListObjectsV2"
		case q.Has("versions"):
			return "ListObjectVersions"
		}
		for k := range q {
			if !listParams[k] {
				return "GET bucket?" + k
			}
		}
		return "ListObjects"
	}
	switch r.Method {
	case http.MethodGet:
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		return "PutObject"
	case http.MethodDelete:
		return "DeleteObject"
	}
	return r.Method + " object"
}

// Serve runs a proxy to target on a free port of 127.0.0.1, writes its URL
// and a newline to ready, and serves until stop is closed.
func Serve(target string, classify Classifier, ready io.Writer, stop <-chan struct{}) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("countingproxy: target %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("countingproxy: listen: %w", err)
	}
	srv := &http.Server{Handler: New(u, classify), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-stop
		_ = srv.Close()
	}()
	if _, err := fmt.Fprintf(ready, "http://%s\n", ln.Addr()); err != nil {
		_ = ln.Close()
		return err
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("countingproxy: %w", err)
	}
	return nil
}

// Fetch reads the counts of the proxy at base.
func Fetch(ctx context.Context, base string) (Counts, error) {
	resp, err := control(ctx, http.MethodGet, base)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	c := Counts{}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		return nil, fmt.Errorf("countingproxy: counts: %w", err)
	}
	return c, nil
}

// Reset zeroes the counts of the proxy at base.
func Reset(ctx context.Context, base string) error {
	resp, err := control(ctx, http.MethodDelete, base)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func control(ctx context.Context, method, base string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+CountsPath, nil)
	if err != nil {
		return nil, fmt.Errorf("countingproxy: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("countingproxy: %s counts: %w", method, err)
	}
	if resp.StatusCode/100 != 2 {
		resp.Body.Close()
		return nil, fmt.Errorf("countingproxy: %s counts: HTTP %d", method, resp.StatusCode)
	}
	return resp, nil
}
