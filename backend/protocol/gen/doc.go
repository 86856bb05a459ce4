package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/invopop/jsonschema"

	"switchboard/backend/protocol"
)

// The generated reference sits between these markers at the end of
// docs/protocol.md; everything above them is written by hand.
const (
	beginMarker = "<!-- generated: reference (go generate ./backend/protocol/); do not edit below -->"
	endMarker   = "<!-- end generated -->"
)

// spliceReference replaces the region between the markers, or appends one.
func spliceReference(doc []byte, ref string) ([]byte, error) {
	region := beginMarker + "\n\n" + ref + "\n" + endMarker + "\n"
	i := bytes.Index(doc, []byte(beginMarker))
	if i < 0 {
		return append(append(bytes.TrimRight(doc, "\n"), "\n\n"...), region...), nil
	}
	j := bytes.Index(doc[i:], []byte(endMarker))
	if j < 0 {
		return nil, fmt.Errorf("%s: %q without %q", docFile, beginMarker, endMarker)
	}
	rest := doc[i+j+len(endMarker):]
	rest = bytes.TrimLeft(rest, "\n")
	out := append([]byte{}, doc[:i]...)
	out = append(out, region...)
	if len(rest) > 0 {
		out = append(append(out, '\n'), rest...)
	}
	return out, nil
}

func anchor(name string) string { return "type-" + strings.ToLower(name) }

// docWriter renders schemas as Markdown for the reference.
type docWriter struct {
	defs map[string]*jsonschema.Schema
	b    strings.Builder
}

func (w *docWriter) p(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

// typeOf renders a schema as a short type: a link to a type, a list, a map.
func (w *docWriter) typeOf(s *jsonschema.Schema) string {
	switch {
	case s == nil:
		return "–"
	case s.Ref != "":
		name := strings.TrimPrefix(s.Ref, "#/$defs/")
		return fmt.Sprintf("[%s](#%s)", name, anchor(name))
	case len(s.OneOf) > 0:
		return w.alts(s.OneOf, " or ")
	case len(s.AnyOf) == 2 && s.AnyOf[1].Type == "null":
		return w.typeOf(s.AnyOf[0]) + " or null"
	case len(s.AnyOf) > 0:
		return w.alts(s.AnyOf, " or ")
	case s.Const != nil:
		return fmt.Sprintf("`%q`", s.Const)
	case s.Type == "array":
		return "list of " + w.typeOf(s.Items)
	case s.Type == "object" && s.Properties == nil && s.AdditionalProperties != nil:
		return "map of string to " + w.typeOf(s.AdditionalProperties)
	case s.Type == "object" && s.Properties == nil:
		return "`{}`"
	case s.Type == "string" && s.Format == "date-time":
		return "time (RFC 3339)"
	case s.Type != "":
		return s.Type
	}
	return "any"
}

func (w *docWriter) alts(list []*jsonschema.Schema, sep string) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = w.typeOf(s)
	}
	return strings.Join(parts, sep)
}

// limitOf renders a field's bounds.
func limitOf(s *jsonschema.Schema) string {
	if len(s.AnyOf) > 0 {
		s = s.AnyOf[0]
	}
	var out []string
	if s.MinLength != nil && *s.MinLength > 0 {
		out = append(out, "not empty")
	}
	if n, ok := s.Extras["x-max-bytes"]; ok {
		out = append(out, fmt.Sprintf("at most %v bytes", n))
	} else if s.MaxLength != nil {
		out = append(out, fmt.Sprintf("at most %d characters", *s.MaxLength))
	}
	if s.MaxItems != nil {
		out = append(out, fmt.Sprintf("at most %d items", *s.MaxItems))
	}
	if s.Maximum != "" {
		out = append(out, "at most "+string(s.Maximum))
	}
	return strings.Join(out, ", ")
}

func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", "\\|")
}

func codeList(codes []protocol.Code) string {
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = "`" + string(c) + "`"
	}
	return strings.Join(parts, ", ")
}

// reference is the generated part of docs/protocol.md.
func reference(s *Schema) string {
	w := &docWriter{defs: s.Defs}
	w.p("## Reference\n\n")
	w.p("Generated from `backend/protocol` (the registry in `registry.go`, the types and their comments, the limits in `limits.go`); ")
	w.p("the same source gives the JSON Schema [`protocol.schema.json`](protocol.schema.json) and the desktop UI's `frontend/src/lib/protocol.ts`. ")
	w.p("Protocol version %d. A client's frame is at most %d bytes; a command id at most %d bytes.\n\n", protocol.Version, protocol.MaxFrameBytes, protocol.MaxIDLen)

	w.p("<a id=\"reference-frames\"></a>\n### Frames\n\n")
	for _, name := range []string{"CommandFrame", "ReplyFrame", "EventFrame", "Error"} {
		w.typeTable(name)
	}

	w.p("<a id=\"reference-commands\"></a>\n### Commands\n\n")
	w.p("Every command may also answer %s; a command before hello answers `hello_first`, an unknown name `unknown_command`. ", codeList(s.Common))
	w.p("Data and reply link to their types below; – means no data (send none, or `{}`).\n\n")
	for _, group := range []struct{ role, title string }{{"", "Either role"}, {protocol.RoleAgent, "Agents"}, {protocol.RoleVisitor, "Visitors"}} {
		w.p("%s:\n\n| command | data | reply | may answer | what it does |\n| --- | --- | --- | --- | --- |\n", group.title)
		for _, c := range s.Commands {
			if c.Role != group.role {
				continue
			}
			w.p("| `%s` | %s | %s | %s | %s |\n", c.Name, w.typeOf(c.Data), w.typeOf(c.Reply), codeList(c.Errors), cell(c.Doc))
		}
		w.p("\n")
	}

	w.p("<a id=\"reference-events\"></a>\n### Events\n\n| event | data | frame has | to | what it says |\n| --- | --- | --- | --- | --- |\n")
	for _, e := range s.Events {
		var has []string
		if e.Session {
			has = append(has, "`session`")
		}
		if e.Seq {
			has = append(has, "`seq`")
		}
		w.p("| `%s` | %s | %s | %s | %s |\n", e.Name, w.typeOf(e.Data), strings.Join(has, ", "), cell(e.To), cell(e.Doc))
	}
	w.p("\n")

	w.p("<a id=\"reference-types\"></a>\n### Types\n\n")
	w.p("Fields marked required are always present in what the relay sends, and must be sent in commands. ")
	w.p("A list is never `null`: `[]` when empty (a map: `{}`).\n\n")
	names := make([]string, 0, len(s.Defs))
	for name, d := range s.Defs {
		if d.Properties != nil && !strings.HasSuffix(name, "Frame") && name != "Error" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		w.typeTable(name)
	}
	for _, name := range sortedKeys(s.Defs) {
		if d := s.Defs[name]; d.Type == "object" && d.Properties == nil {
			w.p("<a id=\"%s\"></a>\n#### %s\n\n%s Its data is `{}`.\n\n", anchor(name), name, cell(d.Description))
		}
	}

	w.p("### Value sets\n\n| name | values |\n| --- | --- |\n")
	for _, name := range sortedKeys(s.Defs) {
		d := s.Defs[name]
		if len(d.Enum) == 0 || name == "Code" {
			continue
		}
		vals := make([]string, len(d.Enum))
		for i, v := range d.Enum {
			vals[i] = fmt.Sprintf("`%v`", v)
		}
		w.p("| <a id=\"%s\"></a>%s | %s |\n", anchor(name), name, strings.Join(vals, ", "))
	}
	w.p("\n")

	w.p("<a id=\"%s\"></a>\n### Error codes\n\n| code | meaning |\n| --- | --- |\n", anchor("Code"))
	desc, _ := s.Defs["Code"].Extras["x-enum-descriptions"].(map[string]string)
	for _, c := range s.Defs["Code"].Enum {
		w.p("| `%v` | %s |\n", c, cell(desc[c.(string)]))
	}
	return w.b.String()
}

// typeTable renders one object type: its description and a row per field.
func (w *docWriter) typeTable(name string) {
	d := w.defs[name]
	w.p("<a id=\"%s\"></a>\n#### %s\n\n", anchor(name), name)
	if d.Description != "" {
		w.p("%s\n\n", cell(d.Description))
	}
	w.p("| field | type | required | limit | meaning |\n| --- | --- | --- | --- | --- |\n")
	for pair := d.Properties.Oldest(); pair != nil; pair = pair.Next() {
		req := ""
		for _, r := range d.Required {
			if r == pair.Key {
				req = "yes"
			}
		}
		f := pair.Value
		w.p("| `%s` | %s | %s | %s | %s |\n", pair.Key, w.typeOf(f), req, limitOf(f), cell(f.Description))
	}
	w.p("\n")
}
