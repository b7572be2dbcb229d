package countingproxy_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/countingproxy"
)

func auth(service string) string {
	return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260105/us-east-1/" + service + "/aws4_request, SignedHeaders=host, Signature=00"
}

func TestOperation(t *testing.T) {
	for _, tc := range []struct {
		method, url, service, target, want string
	}{
		{"GET", "/b/AWSLogs/1/CloudTrail/x.json.gz", "s3", "", "s3:GetObject"},
		{"HEAD", "/b/k", "s3", "", "s3:HeadObject"},
		{"GET", "/b?location", "s3", "", "s3:GetBucketLocation"},
		{"GET", "/b?list-type=2&prefix=AWSLogs%2F", "s3", "", "s3:ListObjectsV2"},
		{"GET", "/b?marker=m&prefix=p&encoding-type=url", "s3", "", "s3:ListObjects"},
		{"GET", "/b", "s3", "", "s3:ListObjects"},
		{"GET", "/b?acl", "s3", "", "s3:GET bucket?acl"},
		{"PUT", "/b/k", "s3", "", "s3:PutObject"},
		{"POST", "/", "cloudtrail", "CloudTrail_20131101.ListPublicKeys", "cloudtrail:ListPublicKeys"},
		{"POST", "/", "dynamodb", "DynamoDB_20120810.UpdateItem", "dynamodb:UpdateItem"},
		{"POST", "/", "", "", "unsigned:POST"},
	} {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		if tc.service != "" {
			r.Header.Set("Authorization", auth(tc.service))
		}
		if tc.target != "" {
			r.Header.Set("X-Amz-Target", tc.target)
		}
		if got := countingproxy.Operation(r); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.method, tc.url, got, tc.want)
		}
	}
}

// The proxy forwards bodies byte for byte (a gzip-encoded object is not
// inflated on the way) and counts requests and body bytes per operation.
func TestProxyCountsAndForwards(t *testing.T) {
	body := "\x1f\x8b\x08\x00stored-gzip-bytes"
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		io.WriteString(w, body)
	}))
	defer backend.Close()
	stop := make(chan struct{})
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- countingproxy.Serve(backend.URL, nil, pw, stop) }()
	base, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	base = strings.TrimSpace(base)
	get := func(path string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", auth("s3"))
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req) // as the SDKs: bytes as stored
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != body {
			t.Fatalf("body %q, want %q", got, body)
		}
	}
	get("/b/k1")
	get("/b/k2")
	get("/b?location")
	c, err := countingproxy.Fetch(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(body))
	if c["s3:GetObject"] != (countingproxy.Op{Requests: 2, Bytes: 2 * n}) || c["s3:GetBucketLocation"] != (countingproxy.Op{Requests: 1, Bytes: n}) ||
		c.Sum("s3:") != (countingproxy.Op{Requests: 3, Bytes: 3 * n}) {
		t.Fatalf("counts %+v", c)
	}
	if err := countingproxy.Reset(t.Context(), base); err != nil {
		t.Fatal(err)
	}
	if c, err := countingproxy.Fetch(t.Context(), base); err != nil || len(c) != 0 {
		t.Fatalf("after reset: %+v %v", c, err)
	}
	close(stop)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// User metadata keeps S3's lower-case header names through the proxy.
func TestMetadataHeaderCase(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["x-amz-meta-signature"] = []string{"abc"}
	}))
	defer backend.Close()
	u, _ := url.Parse(backend.URL)
	front := httptest.NewServer(countingproxy.New(u, nil))
	defer front.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /b/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	raw, _ := io.ReadAll(conn)
	if !strings.Contains(string(raw), "\r\nx-amz-meta-signature: abc\r\n") {
		t.Fatalf("response:\n%s", raw)
	}
}

// FuzzOperation: any method, path, query and headers name an operation
// "<service>:<op>" without panicking.
func FuzzOperation(f *testing.F) {
	f.Add("GET", "/b/k", auth("s3"), "")
	f.Add("GET", "/b?location", auth("s3"), "")
	f.Add("POST", "/", auth("dynamodb"), "DynamoDB_20120810.UpdateItem")
	f.Add("GET", "/", "Credential=a/b/c", "x.")
	f.Fuzz(func(t *testing.T, method, target, authz, amzTarget string) {
		r, err := http.NewRequest("GET", "http://127.0.0.1/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if u, err := url.ParseRequestURI(target); err == nil {
			r.URL = u
		}
		r.Method = method
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Amz-Target", amzTarget)
		op := countingproxy.Operation(r)
		if svc, _, ok := strings.Cut(op, ":"); !ok || svc == "" {
			t.Fatalf("operation %q has no service", op)
		}
	})
}
