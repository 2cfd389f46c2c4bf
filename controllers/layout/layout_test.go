package layout

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/tenantops/tenant-operator/"

// TestWingsStayApart reads the imports of every package under controllers/ (tests left out) and
// checks the layering: neither reconciler imports the other or the operator level, and no leaf
// package imports a reconciler or the operator level.
func TestWingsStayApart(t *testing.T) {
	const root = module + "controllers"
	wings := map[string]bool{root + "/tenant": true, root + "/regioncell": true}
	imports := map[string]map[string]bool{} // package -> what it imports from this module
	for _, path := range controllerSources(t) {
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		pkg := root
		if dir := filepath.ToSlash(filepath.Dir(path)); dir != ".." {
			pkg = root + "/" + strings.TrimPrefix(dir, "../")
		}
		if imports[pkg] == nil {
			imports[pkg] = map[string]bool{}
		}
		for _, spec := range f.Imports {
			if p, _ := strconv.Unquote(spec.Path.Value); strings.HasPrefix(p, module) {
				imports[pkg][p] = true
			}
		}
	}
	for w := range wings {
		if imports[w] == nil {
			t.Fatalf("no package %s: the layout this test checks has moved", w)
		}
	}
	for pkg, imported := range imports {
		for p := range imported {
			switch {
			case pkg == root:
			case p == root:
				t.Errorf("%s imports the operator level %s: only main and the tests compose it", pkg, p)
			case wings[pkg] && wings[p]:
				t.Errorf("%s imports %s: the reconcilers talk to each other only through the API server", pkg, p)
			case !wings[pkg] && wings[p]:
				t.Errorf("leaf package %s imports the reconciler %s", pkg, p)
			}
		}
	}
}

// controllerSources are the non-test Go files of the controllers and the packages under them.
func controllerSources(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
