// Command gen writes what is derived from backend/protocol, the one source
// of the relay protocol: the JSON Schema (docs/protocol.schema.json), the
// desktop UI's TypeScript types (frontend/src/lib/protocol.ts) and the
// reference at the end of docs/protocol.md. With -check it writes nothing
// and fails when a checked-in file differs from what it would write.
//
//	go generate ./backend/protocol/
//	go run ./backend/protocol/gen -check
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"switchboard/backend/protocol"
)

// The files it writes, relative to the repository root.
const (
	schemaFile = "docs/protocol.schema.json"
	tsFile     = "frontend/src/lib/protocol.ts"
	docFile    = "docs/protocol.md"
)

func main() {
	check := flag.Bool("check", false, "write nothing; fail when a generated file is stale")
	root := flag.String("root", "", "the repository root (default: found from the working directory)")
	flag.Parse()
	if *root == "" {
		r, err := findRoot()
		if err != nil {
			fail(err)
		}
		*root = r
	}
	files, err := generate(*root)
	if err != nil {
		fail(err)
	}
	stale := 0
	for _, name := range sortedKeys(files) {
		path := filepath.Join(*root, name)
		old, _ := os.ReadFile(path)
		if bytes.Equal(old, files[name]) {
			continue
		}
		if *check {
			fmt.Fprintf(os.Stderr, "protocol gen: %s is stale: run `go generate ./backend/protocol/` (or `make generate`)\n", name)
			stale++
			continue
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			fail(err)
		}
		fmt.Printf("protocol gen: wrote %s\n", name)
	}
	if stale > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "protocol gen:", err)
	os.Exit(2)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// generate returns every generated file's new content by path.
func generate(root string) (map[string][]byte, error) {
	s, err := buildSchema(root)
	if err != nil {
		return nil, err
	}
	schemaJSON, err := marshal(s)
	if err != nil {
		return nil, err
	}
	ts, err := typescript(root, s)
	if err != nil {
		return nil, err
	}
	oldDoc, err := os.ReadFile(filepath.Join(root, docFile))
	if err != nil {
		return nil, err
	}
	doc, err := spliceReference(oldDoc, reference(s))
	if err != nil {
		return nil, err
	}
	return map[string][]byte{schemaFile: schemaJSON, tsFile: ts, docFile: doc}, nil
}

// findRoot walks up from the working directory to go.mod (go generate runs
// in backend/protocol).
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

func withDir(dir string, f func() error) error {
	old, err := os.Getwd()
	if err != nil {
		return err
	}
	if err := os.Chdir(dir); err != nil {
		return err
	}
	defer os.Chdir(old)
	return f()
}

// codeDoc is an error code with the comment it is declared with.
type codeDoc struct {
	Name string // the Go constant
	Code protocol.Code
	Doc  string
}

// readCodes reads the error codes and their comments from the package's
// source, in declaration order.
func readCodes(root string) ([]codeDoc, error) {
	fset := token.NewFileSet()
	dir := filepath.Join(root, "backend/protocol")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []codeDoc
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for i, n := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					doc := vs.Comment.Text()
					if doc == "" {
						doc = vs.Doc.Text()
					}
					if doc == "" && len(g.Specs) == 1 {
						doc = g.Doc.Text()
					}
					if doc == "" {
						doc = protocol.CodeDocs[protocol.Code(v)]
					}
					doc = strings.Join(strings.Fields(doc), " ")
					if k := n.Name + ": "; strings.HasPrefix(doc, k) {
						doc = doc[len(k):]
					}
					if doc == "" {
						return nil, fmt.Errorf("error code %s has no comment", n.Name)
					}
					out = append(out, codeDoc{Name: n.Name, Code: protocol.Code(v), Doc: doc})
				}
			}
		}
	}
	return out, nil
}
