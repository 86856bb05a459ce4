package protocol

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// namesDeclared reads this package's source for string constants whose
// names start with prefix (CmdX, EvX), so a name added without a registry
// entry is seen even when nothing uses it yet.
func namesDeclared(t *testing.T, prefix string) map[string]string {
	t.Helper()
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range pkgs["protocol"].Files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, prefix) || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						out[n.Name] = v
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s constants found", prefix)
	}
	return out
}

func TestRegistryCoversEveryCommand(t *testing.T) {
	inRegistry := map[string]bool{}
	for _, c := range Commands {
		inRegistry[c.Name] = true
	}
	for name, value := range namesDeclared(t, "Cmd") {
		if !inRegistry[value] {
			t.Errorf("%s (%q) has no entry in Commands", name, value)
		}
		if !Known(value) {
			t.Errorf("%s (%q) is not Known", name, value)
		}
	}
}

func TestRegistryCoversEveryEvent(t *testing.T) {
	inRegistry := map[string]bool{}
	for _, e := range Events {
		inRegistry[e.Name] = true
	}
	for name, value := range namesDeclared(t, "Ev") {
		if !inRegistry[value] {
			t.Errorf("%s (%q) has no entry in Events", name, value)
		}
	}
}

func TestRegistryEntriesAreConsistent(t *testing.T) {
	declared := map[Code]bool{}
	for _, v := range namesDeclared(t, "Code") {
		declared[Code(v)] = true
	}
	seen := map[string]bool{}
	for _, c := range Commands {
		key := c.Role + " " + c.Name
		if seen[key] {
			t.Errorf("command %q for role %q is declared twice", c.Name, c.Role)
		}
		seen[key] = true
		if c.Reply == nil {
			t.Errorf("command %q has no reply type", c.Name)
		}
		for _, code := range append(c.Errors, CommonErrors...) {
			if !declared[code] {
				t.Errorf("command %q names an undeclared code %q", c.Name, code)
			}
		}
	}
	for _, e := range Events {
		if e.Data == nil {
			t.Errorf("event %q has no data type", e.Name)
		}
	}
}

func hasJSONField(typ any, name string) bool {
	t := reflect.TypeOf(typ)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && hasJSONField(reflect.New(f.Type).Elem().Interface(), name) {
			return true
		}
		if strings.Split(f.Tag.Get("json"), ",")[0] == name {
			return true
		}
	}
	return false
}

func TestLimitsAndEnumsNameRealFields(t *testing.T) {
	for _, l := range Limits {
		if !hasJSONField(l.Type, l.Field) {
			t.Errorf("limit on %T.%s: no such field", l.Type, l.Field)
		}
	}
	for _, e := range Enums {
		for _, f := range append(e.Fields, e.OrEmpty...) {
			if !hasJSONField(f.Type, f.Field) {
				t.Errorf("enum %s on %T.%s: no such field", e.Name, f.Type, f.Field)
			}
		}
	}
}
