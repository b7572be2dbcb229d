package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// The browser test renders the page in headless Chromium and checks what a
// person sees. It runs when TRAILWARDEN_BROWSER_TEST=1 (make browser-test,
// which installs Debian's chromium when missing); artifacts go to
// .cache/report/ at the repository root.
const browserEnv = "TRAILWARDEN_BROWSER_TEST"

// Budgets the issue sets for 10,000 accounts.
const (
	maxPageBytes   = 5 << 20
	maxInteractive = 2 * time.Second
)

func chromium(t *testing.T) string {
	t.Helper()
	if os.Getenv(browserEnv) != "1" {
		t.Skipf("set %s=1 (make browser-test) to run the browser test", browserEnv)
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH: make browser-test installs Debian's chromium")
	return ""
}

func artifacts(t *testing.T) string {
	t.Helper()
	root := os.Getenv("TRAILWARDEN_REPO")
	if root == "" {
		root = filepath.Join("..", "..")
	}
	dir := filepath.Join(root, ".cache", "report")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// runChromium runs headless Chromium on file with extra flags and returns
// its stdout and the wall time.
func runChromium(t *testing.T, bin, file, fragment string, extra ...string) (string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + t.TempDir(),
		"--window-size=1400,1000"}
	args = append(append(args, extra...), "file://"+file+fragment)
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	return out.String(), time.Since(start)
}

func write(t *testing.T, dir, name string, in Input) (string, int) {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, in); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, b.Len()
}

// rows is the drawn matrix body (the page's script source, also in the
// DOM, holds the same markup as strings).
func rows(t *testing.T, dom string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tbody id="rows">(.*?)</tbody>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatal("no matrix body in the DOM")
	}
	return m[1]
}

func text(t *testing.T, dom, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `"[^>]*>([^<]*)<`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no element %s in the DOM", id)
	}
	return m[1]
}

// TestBrowserSmall: each cell a person sees has the verdict's colour.
func TestBrowserSmall(t *testing.T) {
	bin := chromium(t)
	dir := artifacts(t)
	path, _ := write(t, dir, "report-small.html", small())
	dom, _ := runChromium(t, bin, path, "", "--dump-dom")
	body := rows(t, dom)
	row := regexp.MustCompile(`<tr class="acct" data-a="222222222222">(.*?)</tr>`).FindStringSubmatch(body)
	if row == nil {
		t.Fatalf("no row for 222222222222:\n%s", dom)
	}
	cells := regexp.MustCompile(`class="c (v-[a-z]+)"`).FindAllStringSubmatch(row[1], -1)
	var got []string
	for _, c := range cells {
		got = append(got, c[1])
	}
	if strings.Join(got, " ") != "v-fresh v-stale v-none" {
		t.Errorf("cells of 222222222222: %v, want fresh, stale, none", got)
	}
	for id, want := range map[string]string{"n-accounts": "2", "n-fresh": "1", "n-stale": "1", "n-never": "1",
		"n-none": "3", "n-incidents": "1", "n-findings": "1", "cov-missing": "1", "cov-org": "3", "ready": "ready"} {
		if got := text(t, dom, id); got != want {
			t.Errorf("%s shows %q, want %q", id, got, want)
		}
	}
	if n := strings.Count(body, `<tr class="ou">`); n != 2 {
		t.Errorf("%d OU groups, want 2", n)
	}
	if !strings.Contains(dom, "new &lt;/script&gt;&lt;b&gt;") {
		t.Error("the account name is not shown as text")
	}
}

// large is n accounts in 20 OUs over every Region of the aws partition:
// every 7th account has a stale Region, every 50th never started.
func large(n int) (Input, int) {
	regions := awsid.Regions("aws")
	in := Input{At: at, Regions: regions}
	stale := 0
	for i := range n {
		a := Account{ID: fmt.Sprintf("%012d", 100000000000+i), Name: fmt.Sprintf("account-%05d", i),
			OU: fmt.Sprintf("ou-%02d", i%20), Status: "enabled"}
		for j, r := range regions {
			switch {
			case i%50 == 0 && j == 0:
				a.Cells = append(a.Cells, Cell{Region: r, Verdict: Never})
			case i%7 == 0 && j == 1:
				a.Cells = append(a.Cells, Cell{Region: r, Newest: at.Add(-5 * time.Hour), Verdict: Stale})
				stale++
			case j < 17:
				a.Cells = append(a.Cells, Cell{Region: r, Newest: at.Add(-time.Duration(i%60) * time.Minute), Verdict: Fresh})
			}
		}
		in.Accounts = append(in.Accounts, a)
	}
	return in, stale
}

// TestBrowserTenThousand measures the page at 10,000 accounts: its size,
// the time until its script has drawn the first page and set its handlers
// (performance.now(), from navigation start), and keeps a screenshot.
func TestBrowserTenThousand(t *testing.T) {
	bin := chromium(t)
	dir := artifacts(t)
	in, stale := large(10000)
	path, size := write(t, dir, "report-10000.html", in)
	if size > maxPageBytes {
		t.Errorf("page is %d bytes, budget %d", size, maxPageBytes)
	}
	dom, wall := runChromium(t, bin, path, "", "--dump-dom")
	ms, err := strconv.Atoi(regexp.MustCompile(`id="ready" hidden="" data-ms="(\d+)"`).FindStringSubmatch(dom + `id="ready" hidden="" data-ms="-1"`)[1])
	if err != nil || ms < 0 {
		t.Fatalf("the page never became ready:\n%.2000s", dom)
	}
	if time.Duration(ms)*time.Millisecond > maxInteractive {
		t.Errorf("interactive after %d ms, budget %v", ms, maxInteractive)
	}
	if got := text(t, dom, "n-accounts"); got != "10000" {
		t.Errorf("accounts shown %s", got)
	}
	if got := text(t, dom, "n-stale"); got != strconv.Itoa(stale) {
		t.Errorf("stale cells shown %s, want %d", got, stale)
	}
	if got := text(t, dom, "n-never"); got != "200" {
		t.Errorf("never-started cells shown %s, want 200", got)
	}
	body := rows(t, dom)
	if n := strings.Count(body, `<tr class="acct"`); n != 200 {
		t.Errorf("%d rows drawn, want one page of 200", n)
	}
	if n := strings.Count(body, `class="c v-stale"`); n == 0 {
		t.Error("no stale cell drawn on the first page")
	}
	// Filters and sorting, through the URL's fragment as a shared link
	// would set them.
	problems := 0
	for i := range 10000 {
		if i%7 == 0 || i%50 == 0 {
			problems++
		}
	}
	for frag, want := range map[string]string{
		"#problems=1":                  fmt.Sprintf("%d of 10000 accounts match", problems),
		"#q=account-00007":             "1 of 10000 accounts match",
		"#q=ou-03&sort=problems&dir=1": "500 of 10000 accounts match",
	} {
		dom, _ := runChromium(t, bin, path, frag, "--dump-dom")
		if got := text(t, dom, "shown"); got != want {
			t.Errorf("%s: %q, want %q", frag, got, want)
		}
		if frag == "#q=ou-03&sort=problems&dir=1" {
			first := regexp.MustCompile(`<tr class="acct" data-a="(\d+)">.*?<td>(\d+)</td><td class="c`).FindStringSubmatch(rows(t, dom))
			if first == nil || first[2] == "0" {
				t.Errorf("sorted by problems, the first row has none: %v", first)
			}
		}
	}
	shot := filepath.Join(dir, "report-10000.png")
	runChromium(t, bin, path, "", "--screenshot="+shot)
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Errorf("no screenshot: %v", err)
	}
	t.Logf("10,000 accounts × %d Regions: page %d bytes (%.2f MB), interactive after %d ms (performance.now at ready), chromium run %v; screenshot %s",
		len(in.Regions), size, float64(size)/(1<<20), ms, wall.Round(time.Millisecond), shot)
}
