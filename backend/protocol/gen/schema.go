package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/invopop/jsonschema"

	"switchboard/backend/protocol"
)

// schemaVersion is JSON Schema's dialect.
const schemaVersion = "https://json-schema.org/draft/2020-12/schema"

// Schema is the generated document: the wire types under $defs, the frames,
// and the registry (x-commands, x-events) that ties names to types.
type Schema struct {
	Version     string                        `json:"$schema"`
	ID          string                        `json:"$id"`
	Title       string                        `json:"title"`
	Description string                        `json:"description"`
	Protocol    int                           `json:"x-protocol-version"`
	FrameBytes  int                           `json:"x-max-frame-bytes"`
	Common      []protocol.Code               `json:"x-common-errors"`
	Commands    []CommandEntry                `json:"x-commands"`
	Events      []EventEntry                  `json:"x-events"`
	AnyOf       []*jsonschema.Schema          `json:"anyOf"`
	Defs        map[string]*jsonschema.Schema `json:"$defs"`
}

// CommandEntry is one command of the registry as the schema states it.
type CommandEntry struct {
	Name   string             `json:"name"`
	Role   string             `json:"role,omitempty"`
	Data   *jsonschema.Schema `json:"data,omitempty"`
	Reply  *jsonschema.Schema `json:"reply"`
	Errors []protocol.Code    `json:"errors"`
	Doc    string             `json:"description"`
}

// EventEntry is one event of the registry.
type EventEntry struct {
	Name    string             `json:"name"`
	Data    *jsonschema.Schema `json:"data"`
	Session bool               `json:"session,omitempty"`
	Seq     bool               `json:"seq,omitempty"`
	To      string             `json:"to"`
	Doc     string             `json:"description"`
}

func ref(name string) *jsonschema.Schema { return &jsonschema.Schema{Ref: "#/$defs/" + name} }

func uptr(n int) *uint64 { v := uint64(n); return &v }

// builder reflects the registry's types into one set of definitions.
type builder struct {
	r    *jsonschema.Reflector
	defs map[string]*jsonschema.Schema
}

func newBuilder(root string) (*builder, error) {
	r := &jsonschema.Reflector{Anonymous: true}
	// Doc comments become descriptions. The walk starts at the repository
	// root so that the package's import path is switchboard/backend/protocol.
	if err := withDir(root, func() error { return r.AddGoComments("switchboard", "backend/protocol", jsonschema.WithFullComment()) }); err != nil {
		return nil, err
	}
	return &builder{r: r, defs: map[string]*jsonschema.Schema{}}, nil
}

// of returns a reference to v's type (or, for a list, a list of
// references), adding the definitions it needs.
func (b *builder) of(v any) *jsonschema.Schema {
	if alts, ok := v.(protocol.OneOf); ok {
		s := &jsonschema.Schema{}
		for _, a := range alts {
			s.OneOf = append(s.OneOf, b.of(a))
		}
		return s
	}
	s := b.r.Reflect(v)
	for name, d := range s.Definitions {
		if b.defs[name] == nil { // keep what enums and limits changed
			b.defs[name] = d
		}
	}
	s.Definitions, s.Version = nil, ""
	return s
}

// typeName is the definition name of a registry value's type.
func typeName(v any) string { return reflect.TypeOf(v).Name() }

// property finds a field of a definition by JSON name.
func (b *builder) property(v any, field string) (*jsonschema.Schema, error) {
	d := b.defs[typeName(v)]
	if d == nil {
		return nil, fmt.Errorf("no definition %s", typeName(v))
	}
	p, ok := d.Properties.Get(field)
	if !ok {
		return nil, fmt.Errorf("%s has no field %s", typeName(v), field)
	}
	return p, nil
}

// applyEnums adds a definition per value set and points its fields at it.
func (b *builder) applyEnums() error {
	for _, e := range protocol.Enums {
		vals := make([]any, len(e.Values))
		for i, v := range e.Values {
			vals[i] = v
		}
		b.defs[e.Name] = &jsonschema.Schema{Type: "string", Enum: vals}
		for i, f := range append(append([]protocol.FieldRef{}, e.Fields...), e.OrEmpty...) {
			b.of(f.Type)
			p, err := b.property(f.Type, f.Field)
			if err != nil {
				return fmt.Errorf("enum %s: %w", e.Name, err)
			}
			if p.Type == "array" {
				p = p.Items
			}
			p.Type = ""
			if i < len(e.Fields) {
				p.Ref = "#/$defs/" + e.Name
			} else {
				p.AnyOf = []*jsonschema.Schema{ref(e.Name), {Type: "string", Const: ""}}
			}
		}
	}
	return nil
}

// applyLimits writes the relay's bounds into the fields they bound.
func (b *builder) applyLimits() error {
	for _, l := range protocol.Limits {
		b.of(l.Type)
		p, err := b.property(l.Type, l.Field)
		if err != nil {
			return fmt.Errorf("limit: %w", err)
		}
		switch l.Unit {
		case "characters":
			p.MaxLength = uptr(l.Max)
		case "bytes":
			// maxLength counts characters, which are never more than bytes:
			// it holds, and x-max-bytes states the real bound.
			p.MaxLength = uptr(l.Max)
			setExtra(p, "x-max-bytes", l.Max)
		case "items":
			p.MaxItems = uptr(l.Max)
		case "value":
			p.Maximum = json.Number(fmt.Sprint(l.Max))
		default:
			return fmt.Errorf("limit on %s.%s: unknown unit %q", typeName(l.Type), l.Field, l.Unit)
		}
		if l.Required {
			p.MinLength = uptr(1)
		}
	}
	return nil
}

func setExtra(s *jsonschema.Schema, k string, v any) {
	if s.Extras == nil {
		s.Extras = map[string]any{}
	}
	s.Extras[k] = v
}

// frames adds the envelopes: the command, reply and event frames and the
// error.
func (b *builder) frames(codes []codeDoc) {
	names := func(list []string) []any {
		out := []any{}
		for _, n := range list {
			if !slices.Contains(out, any(n)) {
				out = append(out, n)
			}
		}
		return out
	}
	var cmds, evs []string
	for _, c := range protocol.Commands {
		cmds = append(cmds, c.Name)
	}
	for _, e := range protocol.Events {
		evs = append(evs, e.Name)
	}
	codeVals := make([]any, len(codes))
	codeDesc := map[string]string{}
	for i, c := range codes {
		codeVals[i] = string(c.Code)
		codeDesc[string(c.Code)] = c.Doc
	}
	b.defs["Code"] = &jsonschema.Schema{Type: "string", Enum: codeVals,
		Description: "A stable, machine-readable error code. Codes are never renamed."}
	setExtra(b.defs["Code"], "x-enum-descriptions", codeDesc)
	b.defs["CommandName"] = &jsonschema.Schema{Type: "string", Enum: names(cmds)}
	b.defs["EventName"] = &jsonschema.Schema{Type: "string", Enum: names(evs)}
	b.defs["Error"] = object("A refusal with a stable code and a human message.",
		[]string{"code", "message"}, "code", ref("Code"), "message", &jsonschema.Schema{Type: "string"})
	id := &jsonschema.Schema{Type: "string", MinLength: uptr(1), MaxLength: uptr(protocol.MaxIDLen),
		Description: "chosen by the client, at most " + fmt.Sprint(protocol.MaxIDLen) + " bytes; the reply names it"}
	setExtra(id, "x-max-bytes", protocol.MaxIDLen)
	b.defs["CommandFrame"] = object("A frame from a client: a command. data is the command's payload (see x-commands).",
		[]string{"id", "cmd"}, "id", id, "cmd", ref("CommandName"), "data", &jsonschema.Schema{})
	b.defs["ReplyFrame"] = object("The relay's answer to one command, exactly once. ok: data is the command's reply (see x-commands); not ok: error says why.",
		[]string{"re", "ok"}, "re", &jsonschema.Schema{Type: "string", Description: "the command's id (empty when it could not be read)"},
		"ok", &jsonschema.Schema{Type: "boolean"}, "data", &jsonschema.Schema{}, "error", ref("Error"))
	b.defs["EventFrame"] = object("A frame the relay pushes unasked. data is the event's payload (see x-events).",
		[]string{"ev"}, "ev", ref("EventName"),
		"session", &jsonschema.Schema{Type: "string", Description: "the session it belongs to, where it belongs to one"},
		"seq", &jsonschema.Schema{Type: "integer", Minimum: "1", Description: "the entry's number in the session's log (entry events)"},
		"data", &jsonschema.Schema{})
}

// object is a closed object schema from name, schema pairs.
func object(desc string, required []string, kv ...any) *jsonschema.Schema {
	props := jsonschema.NewProperties()
	for i := 0; i < len(kv); i += 2 {
		props.Set(kv[i].(string), kv[i+1].(*jsonschema.Schema))
	}
	return &jsonschema.Schema{Type: "object", Description: desc, Properties: props, Required: required,
		AdditionalProperties: jsonschema.FalseSchema}
}

// buildSchema reflects the whole registry.
func buildSchema(root string) (*Schema, error) {
	b, err := newBuilder(root)
	if err != nil {
		return nil, err
	}
	codes, err := readCodes(root)
	if err != nil {
		return nil, err
	}
	out := &Schema{
		Version: schemaVersion,
		ID:      "https://github.com/switchboard/switchboard/docs/protocol.schema.json",
		Title:   fmt.Sprintf("Switchboard relay protocol, version %d", protocol.Version),
		Description: "JSON text frames over one websocket at /ws. A frame is a CommandFrame (client to relay), " +
			"a ReplyFrame or an EventFrame (relay to client). x-commands names each command's payload, reply and the error codes it may answer " +
			"(besides x-common-errors); x-events each event's payload. Generated from backend/protocol: do not edit.",
		Protocol:   protocol.Version,
		FrameBytes: protocol.MaxFrameBytes,
		Common:     protocol.CommonErrors,
		AnyOf:      []*jsonschema.Schema{ref("CommandFrame"), ref("ReplyFrame"), ref("EventFrame")},
	}
	for _, c := range protocol.Commands {
		e := CommandEntry{Name: c.Name, Role: c.Role, Reply: b.of(c.Reply), Errors: c.Errors, Doc: c.Doc}
		if e.Errors == nil {
			e.Errors = []protocol.Code{}
		}
		if c.Data != nil {
			e.Data = b.of(c.Data)
		}
		out.Commands = append(out.Commands, e)
	}
	for _, ev := range protocol.Events {
		out.Events = append(out.Events, EventEntry{Name: ev.Name, Data: b.of(ev.Data), Session: ev.Session, Seq: ev.Seq, To: ev.To, Doc: ev.Doc})
	}
	if err := b.applyEnums(); err != nil {
		return nil, err
	}
	if err := b.applyLimits(); err != nil {
		return nil, err
	}
	b.frames(codes)
	for name, d := range b.defs {
		if d.Description == "" && d.Type == "object" {
			return nil, fmt.Errorf("%s has no doc comment: %+v", name, d)
		}
	}
	out.Defs = b.defs
	return out, nil
}

func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
