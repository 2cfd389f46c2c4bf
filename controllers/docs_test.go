package controllers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEveryStalledReasonIsDocumented reads the controllers' source for every reason a condition
// can be Stalled or refused with and checks docs/operations.md says what it means and what to do.
// A Stalled condition is a request for a person to act; the table is where they look. (The file
// was once emptied by accident and nothing noticed.)
func TestEveryStalledReasonIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	reasons := stalledReasons(t)
	if len(reasons) < 10 {
		t.Fatalf("found only %d Stalled reasons in the source (%v): the scan no longer sees the calls", len(reasons), reasons)
	}
	for _, r := range reasons {
		if !strings.Contains(string(doc), "`"+r+"`") {
			t.Errorf("reason %s can stall a condition but docs/operations.md does not name it (as `%s`)", r, r)
		}
	}
}

// stalledReasons are the reasons passed, as literals or package constants, to stalled, refused and
// refusedSide in the package's non-test files.
func stalledReasons(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	var parsed []*ast.File
	consts := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
		ast.Inspect(af, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
			return true
		})
	}
	// The reason's position among each function's arguments.
	reasonArg := map[string]int{"stalled": 1, "refused": 2, "refusedSide": 2}
	var out []string
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fn, ok := call.Fun.(*ast.Ident)
			if !ok {
				return true
			}
			i, ok := reasonArg[fn.Name]
			if !ok || len(call.Args) <= i {
				return true
			}
			reason := ""
			switch a := call.Args[i].(type) {
			case *ast.BasicLit:
				reason, _ = strconv.Unquote(a.Value)
			case *ast.Ident:
				reason = consts[a.Name]
			}
			if reason != "" && !slices.Contains(out, reason) {
				out = append(out, reason)
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}
