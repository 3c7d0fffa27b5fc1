package elect

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
	"unicode"
)

// TestEveryCoreOptionHasAWithFunction fails when the core gains an option this package does not
// offer as With<Name> (WithTTL for ttl, WithConnectTimeout for connect_timeout).
func TestEveryCoreOptionHasAWithFunction(t *testing.T) {
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	offered := map[string]bool{}
	for _, f := range pkgs["elect"].Files {
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "With") {
				offered[snake(strings.TrimPrefix(fn.Name.Name, "With"))] = true
			}
		}
	}
	names := coreOptionNames()
	if len(names) < 8 {
		t.Fatalf("the core lists %d options: %v", len(names), names)
	}
	for _, name := range names {
		if !offered[name] {
			t.Errorf("no With function for the core's option %q", name)
		}
	}
}

// snake turns ConnectTimeout into connect_timeout and TTL into ttl.
func snake(camel string) string {
	var b strings.Builder
	runes := []rune(camel)
	for i, r := range runes {
		if i > 0 && unicode.IsUpper(r) && unicode.IsLower(runes[i-1]) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
