package slackserver

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEveryMethodHasItsReference checks the implemented methods and Slack's references match.
func TestEveryMethodHasItsReference(t *testing.T) {
	for name := range apiMethods {
		if _, ok := methodSpecs[name]; !ok {
			t.Errorf("%s is implemented but has no reference in methods_gen.go", name)
		}
	}
	for name := range methodSpecs {
		if _, ok := apiMethods[name]; !ok {
			t.Errorf("%s has a reference but is not implemented", name)
		}
	}
}

// TestErrorCodesAreDocumented checks every literal error code the handlers answer with is
// one Slack documents for some method (or for all), so the server invents no codes.
func TestErrorCodesAreDocumented(t *testing.T) {
	fset := token.NewFileSet()
	paths, _ := filepath.Glob("*.go")
	var all []string
	for _, s := range methodSpecs {
		all = append(all, s.errors...)
	}
	// Codes that belong to the response_url endpoint rather than a Web API method.
	responseURLCodes := []string{"invalid_url", "expired_url", "used_url", "invalid_payload"}
	found := 0
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "errCode" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok {
				return true
			}
			code, _ := strconv.Unquote(lit.Value)
			found++
			if !slices.Contains(all, code) && !slices.Contains(genericErrors, code) && !slices.Contains(responseURLCodes, code) {
				t.Errorf("%s: error code %q is not documented by Slack", fset.Position(lit.Pos()), code)
			}
			return true
		})
	}
	if found < 30 {
		t.Fatalf("only %d error codes found; the scan is broken", found)
	}
}
