package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/backend/protocol"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The schema and the reference are checked in; a change to backend/protocol
// without `go generate` fails here as well as in make check-generated (which
// also covers the TypeScript, made with node).
func TestCheckedInSchemaAndReferenceAreCurrent(t *testing.T) {
	r := root(t)
	s, err := buildSchema(r)
	if err != nil {
		t.Fatal(err)
	}
	want, err := marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(r, schemaFile))
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go generate ./backend/protocol/", schemaFile)
	}
	doc, _ := os.ReadFile(filepath.Join(r, docFile))
	fresh, err := spliceReference(doc, reference(s))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, fresh) {
		t.Errorf("the reference in %s is stale: run go generate ./backend/protocol/", docFile)
	}
}

// decoded is the generated schema as a client reads it.
func decoded(t *testing.T) map[string]any {
	t.Helper()
	s, err := buildSchema(root(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func field(t *testing.T, m map[string]any, typ, name string) map[string]any {
	t.Helper()
	def, ok := m["$defs"].(map[string]any)[typ].(map[string]any)
	if !ok {
		t.Fatalf("no definition %s", typ)
	}
	f, ok := def["properties"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("%s has no field %s", typ, name)
	}
	return f
}

func TestSchemaCarriesTheLimitsTheRelayEnforces(t *testing.T) {
	m := decoded(t)
	cases := []struct {
		typ, field, key string
		want            float64
	}{
		{"ChatStart", "name", "maxLength", protocol.MaxName},
		{"ChatStart", "name", "minLength", 1},
		{"ChatStart", "email", "x-max-bytes", protocol.MaxEmail},
		{"ChatStart", "question", "maxLength", protocol.MaxQuestion},
		{"MessageSend", "text", "x-max-bytes", protocol.MaxText},
		{"TransferStart", "comment", "maxLength", protocol.MaxComment},
		{"RequestCreate", "title", "maxLength", protocol.MaxTitle},
		{"QuickReply", "text", "maxLength", protocol.MaxQuickReplyText},
		{"RequestList", "limit", "maximum", protocol.MaxRequestList},
	}
	for _, c := range cases {
		if got := field(t, m, c.typ, c.field)[c.key]; got != c.want {
			t.Errorf("%s.%s %s = %v, want %v", c.typ, c.field, c.key, got, c.want)
		}
	}
	if got := m["x-max-frame-bytes"]; got != float64(protocol.MaxFrameBytes) {
		t.Errorf("x-max-frame-bytes = %v", got)
	}
}

func TestSchemaNamesEveryCommandsTypesAndErrors(t *testing.T) {
	m := decoded(t)
	cmds := m["x-commands"].([]any)
	if len(cmds) != len(protocol.Commands) {
		t.Fatalf("%d commands in the schema, %d in the registry", len(cmds), len(protocol.Commands))
	}
	defs := m["$defs"].(map[string]any)
	for i, raw := range cmds {
		c := raw.(map[string]any)
		spec := protocol.Commands[i]
		if c["name"] != spec.Name {
			t.Errorf("command %d: %v, want %s", i, c["name"], spec.Name)
		}
		for _, key := range []string{"data", "reply"} {
			s, ok := c[key].(map[string]any)
			if !ok {
				continue
			}
			if ref, ok := s["$ref"].(string); ok && defs[strings.TrimPrefix(ref, "#/$defs/")] == nil {
				t.Errorf("%s %s: %s names no definition", spec.Name, key, ref)
			}
		}
	}
	transfer := cmds[0].(map[string]any)
	for _, raw := range cmds {
		if c := raw.(map[string]any); c["name"] == protocol.CmdTransferStart {
			transfer = c
		}
	}
	if !strings.Contains(jsonOf(t, transfer["errors"]), `"transfer_pending"`) {
		t.Errorf("transfer.start does not list transfer_pending: %s", jsonOf(t, transfer["errors"]))
	}
}

func jsonOf(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReferenceReplacesOnlyItsRegion(t *testing.T) {
	hand := "# Title\n\nProse a person wrote.\n"
	once, err := spliceReference([]byte(hand), "## Reference\n\nv1\n")
	if err != nil {
		t.Fatal(err)
	}
	twice, err := spliceReference(once, "## Reference\n\nv2\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(twice), hand) || strings.Contains(string(twice), "v1") || !strings.Contains(string(twice), "v2") {
		t.Errorf("after two runs:\n%s", twice)
	}
	if strings.Count(string(twice), beginMarker) != 1 {
		t.Errorf("the region appears %d times", strings.Count(string(twice), beginMarker))
	}
	if _, err := spliceReference([]byte(hand+beginMarker+"\nno end\n"), "x"); err == nil {
		t.Error("a region without its end marker was accepted")
	}
}
