package layout

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
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	reasons := stalledReasons(t)
	if len(reasons) < 10 {
		t.Fatalf("found only %d Stalled reasons in the source (%v): the scan no longer sees the calls", len(reasons), reasons)
	}
	// One of each way a reason is given: a call of verdict.Stalled, and a placement decision.
	for _, known := range []string{"SubdomainTaken", "CellInOtherRegion"} {
		if !slices.Contains(reasons, known) {
			t.Errorf("the scan missed %s (found %v): it no longer sees every way a reason is given", known, reasons)
		}
	}
	for _, r := range reasons {
		if !strings.Contains(string(doc), "`"+r+"`") {
			t.Errorf("reason %s can stall a condition but docs/operations.md does not name it (as `%s`)", r, r)
		}
	}
}

// stalledReasons are the reasons passed, as literals or constants, to verdict.Stalled,
// verdict.Refused and verdict.RefusedSide, and given to placement decisions that stall
// (placement.Decision{Reason: ..., Stalled: true}), in the non-test files of the controllers and
// the packages under them.
func stalledReasons(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files := controllerSources(t)
	var parsed []*ast.File
	consts := map[string]string{}
	for _, f := range files {
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
	value := func(e ast.Expr) string {
		switch a := e.(type) {
		case *ast.BasicLit:
			s, _ := strconv.Unquote(a.Value)
			return s
		case *ast.Ident:
			return consts[a.Name]
		case *ast.SelectorExpr:
			return consts[a.Sel.Name]
		}
		return ""
	}
	// The reason's position among each function's arguments.
	reasonArg := map[string]int{"Stalled": 1, "Refused": 2, "RefusedSide": 2}
	var out []string
	add := func(reason string) {
		if reason != "" && !slices.Contains(out, reason) {
			out = append(out, reason)
		}
	}
	for _, af := range parsed {
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					if pkg, ok := fn.X.(*ast.Ident); ok && pkg.Name == "verdict" {
						name = fn.Sel.Name
					}
				}
				if i, ok := reasonArg[name]; ok && len(n.Args) > i {
					add(value(n.Args[i]))
				}
			case *ast.CompositeLit:
				var reason string
				stalls := false
				for _, e := range n.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					switch key, _ := kv.Key.(*ast.Ident); {
					case key == nil:
					case key.Name == "Reason":
						reason = value(kv.Value)
					case key.Name == "Stalled":
						if v, ok := kv.Value.(*ast.Ident); ok && v.Name == "true" {
							stalls = true
						}
					}
				}
				if stalls {
					add(reason)
				}
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}
