// Package runbooks_test proves every kind, code and alarm the code can emit
// has its runbook page: a new one without a page fails here.
package runbooks_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// constStrings returns the string constants of the files in dir whose name
// matches name (and, if typ is set, whose declared type is typ).
func constStrings(t *testing.T, dir string, name *regexp.Regexp, typ string) []string {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				out = append(out, specStrings(g, name, typ)...)
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no constants %v in %s: the parser no longer finds them", name, dir)
	}
	return out
}

// specStrings returns the string values of g's constants named name (of
// type typ when typ is set).
func specStrings(g *ast.GenDecl, name *regexp.Regexp, typ string) []string {
	var out []string
	for _, s := range g.Specs {
		vs := s.(*ast.ValueSpec)
		if id, ok := vs.Type.(*ast.Ident); typ != "" && (!ok || id.Name != typ) {
			continue
		}
		for i, n := range vs.Names {
			if !name.MatchString(n.Name) || i >= len(vs.Values) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				out = append(out, v)
			}
		}
	}
	return out
}

// alarmNames returns the alarm ids of infra/stacks/alarms.go: a literal
// "XAlarm" as is, a suffix concatenated to a generated id as "*XAlarm".
func alarmNames(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../infra/stacks/alarms.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	suffix := map[*ast.BasicLit]bool{}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		if b, ok := n.(*ast.BinaryExpr); ok && b.Op == token.ADD {
			if lit, ok := b.Y.(*ast.BasicLit); ok {
				suffix[lit] = true
			}
		}
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		v, _ := strconv.Unquote(lit.Value)
		if regexp.MustCompile(`^[A-Za-z]+Alarm$`).MatchString(v) {
			if suffix[lit] {
				v = "*" + v
			}
			out = append(out, v)
		}
		return true
	})
	if len(out) == 0 {
		t.Fatal("no alarm ids found in alarms.go")
	}
	return out
}

// indexed returns the index's rows: first column (the name) → linked file.
func indexed(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| `([^`]+)` \\| \\[[^]]+\\]\\(([^)#]+)").FindAllStringSubmatch(string(b), -1)
	m := map[string]string{}
	for _, r := range rows {
		m[r[1]] = r[2]
	}
	return m
}

func TestEveryKindHasARunbook(t *testing.T) {
	index := indexed(t)
	sets := map[string][]string{
		"alert kind":    constStrings(t, filepath.Join("..", "..", "shared", "alert"), regexp.MustCompile(`^Kind`), ""),
		"incident kind": constStrings(t, filepath.Join("..", "..", "shared", "incident"), regexp.MustCompile(`^Kind`), ""),
		"finding code":  constStrings(t, filepath.Join("..", "..", "shared", "verifier"), regexp.MustCompile(`^Code`), "Code"),
		"alarm":         alarmNames(t),
	}
	for what, names := range sets {
		for _, n := range names {
			file, ok := index[n]
			if !ok {
				t.Errorf("%s %q has no row in docs/runbooks/README.md", what, n)
				continue
			}
			checkPage(t, file)
		}
	}
}

// TestEveryDiagnosisHasASection: each watchdog reason code is a section of
// the stale incident's runbook.
func TestEveryDiagnosisHasASection(t *testing.T) {
	b, err := os.ReadFile("stale.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range constStrings(t, filepath.Join("..", "..", "shared", "watchdog"), regexp.MustCompile(`^Reason`), "") {
		if !strings.Contains(string(b), "\n### `"+r+"`\n") {
			t.Errorf("diagnosis reason %q has no section in stale.md", r)
		}
	}
}

var required = []string{"## What it means", "## How to confirm", "## How to fix", "## How to close"}

func checkPage(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Clean(file))
	if err != nil {
		t.Errorf("runbook %s: %v", file, err)
		return
	}
	for _, h := range required {
		if !strings.Contains(string(b), "\n"+h+"\n") {
			t.Errorf("runbook %s has no %q section", file, h)
		}
	}
}

// TestLinksResolve: every relative link between runbooks points at a page.
func TestLinksResolve(t *testing.T) {
	pages, _ := filepath.Glob("*.md")
	link := regexp.MustCompile(`\]\(([a-z0-9-]+\.md)(#[^)]*)?\)`)
	for _, p := range pages {
		b, _ := os.ReadFile(p)
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			if _, err := os.Stat(m[1]); err != nil {
				t.Errorf("%s links to missing %s", p, m[1])
			}
		}
	}
}
