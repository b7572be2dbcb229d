package buildcheck

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The size rule: no product function over maxFuncLines lines and no product
// file over maxFileLines lines, unless docs/architecture.md's section
// "Exceptions to the size rule" lists it with its reason (at most
// maxExceptions rows). Product code is the non-test, non-generated Go under
// productDirs.
const (
	maxFuncLines  = 100
	maxFileLines  = 600
	maxExceptions = 3
	exceptionsDoc = "docs/architecture.md"
	exceptionsSec = "## Exceptions to the size rule"
)

var productDirs = []string{"shared", "functions", "cmd", "infra", "internal"}

// sizeViolation names a file ("path") or a function ("path Func", methods as
// "path Type.Method") over its limit.
type sizeViolation struct {
	name  string
	lines int
}

// TestSizeRule fails on a product file or function over its limit that is
// not an exception, on an exception that no longer violates, and on an
// exception list longer than maxExceptions or without reasons.
func TestSizeRule(t *testing.T) {
	repo := filepath.Join("..", "..")
	exceptions, err := readExceptions(filepath.Join(repo, exceptionsDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(exceptions) > maxExceptions {
		t.Errorf("%s lists %d exceptions, at most %d allowed", exceptionsDoc, len(exceptions), maxExceptions)
	}
	found, err := sizeViolations(repo)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, v := range found {
		seen[v.name] = true
		if _, ok := exceptions[v.name]; !ok {
			t.Errorf("%s: %d lines (limit: functions %d, files %d); split it, or list it with its reason in %s's %q",
				v.name, v.lines, maxFuncLines, maxFileLines, exceptionsDoc, exceptionsSec)
		}
	}
	for name, reason := range exceptions {
		if reason == "" {
			t.Errorf("exception %s has no reason", name)
		}
		if !seen[name] {
			t.Errorf("exception %s is within the limits now: remove it from %s", name, exceptionsDoc)
		}
	}
}

// readExceptions parses the exceptions section's table: rows
// "| `path` | `Func` or — | reason |".
func readExceptions(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") {
			in = line == exceptionsSec
			continue
		}
		if !in || !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			return nil, fmt.Errorf("%s: exception row %q: want 3 cells (file, function, reason)", path, line)
		}
		file, fn := strings.Trim(strings.TrimSpace(cells[0]), "`"), strings.Trim(strings.TrimSpace(cells[1]), "`")
		if file == "file" || strings.HasPrefix(file, "-") { // header and rule
			continue
		}
		name := file
		if fn != "" && fn != "—" && fn != "-" {
			name += " " + fn
		}
		out[name] = strings.TrimSpace(cells[2])
	}
	return out, sc.Err()
}

// sizeViolations lists every product file and function over its limit.
func sizeViolations(repo string) ([]sizeViolation, error) {
	var out []sizeViolation
	for _, dir := range productDirs {
		err := filepath.WalkDir(filepath.Join(repo, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if n := d.Name(); n == "testdata" || n == "node_modules" || n == "cdk.out" || strings.HasPrefix(n, ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			vs, err := fileViolations(repo, path)
			out = append(out, vs...)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func fileViolations(repo, path string) ([]sizeViolation, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	rel, err := filepath.Rel(repo, path)
	if err != nil {
		return nil, err
	}
	rel = filepath.ToSlash(rel)
	var out []sizeViolation
	if n := fset.File(f.Pos()).LineCount(); n > maxFileLines {
		out = append(out, sizeViolation{rel, n})
	}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok {
			continue
		}
		n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
		if n > maxFuncLines {
			out = append(out, sizeViolation{rel + " " + funcName(fn), n})
		}
	}
	return out, nil
}

// funcName is "Func" or "Type.Method".
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if g, ok := t.(*ast.IndexExpr); ok {
		t = g.X
	}
	if g, ok := t.(*ast.IndexListExpr); ok {
		t = g.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}
