package protocol

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// sent are the zero values of every type the relay sends that holds a list
// or a map; TestEveryListTypeIsChecked keeps the set complete.
var sent = []any{
	FileRules{},
	AgentWelcome{}, ChannelInfo{}, QueueEvent{}, ChannelsEvent{}, PresenceEvent{}, Dashboard{Channels: []ChannelFigures{{}}},
	QuickReplies{}, RequestDetail{}, RequestListReply{}, SessionLogReply{},
}

// notSent hold lists but only travel from clients (Hello), are encoded
// inside another (the figures), or never travel (the registry's own).
var notSent = map[string]bool{"Hello": true, "ChannelFigures": true, "Figures": true, "CommandSpec": true, "Enum": true}

func TestEmptyListsEncodeAsArrays(t *testing.T) {
	for _, v := range sent {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "null") {
			t.Errorf("%T: %s", v, b)
		}
	}
}

// TestEveryListTypeIsChecked: a new type with a list field must be added to
// sent (and given a MarshalJSON in lists.go) or to notSent.
func TestEveryListTypeIsChecked(t *testing.T) {
	known := map[string]bool{}
	for _, v := range sent {
		known[reflect.TypeOf(v).Name()] = true
	}
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range pkgs["protocol"].Files {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok || !ts.Name.IsExported() { // unexported types never go on the wire
				return false
			}
			for _, fl := range st.Fields.List {
				switch fl.Type.(type) {
				case *ast.ArrayType, *ast.MapType:
					if !known[ts.Name.Name] && !notSent[ts.Name.Name] {
						t.Errorf("%s has a list or map field: add it to sent (with a MarshalJSON in lists.go) or to notSent", ts.Name.Name)
					}
				}
			}
			return false
		})
	}
}
