package protocol

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The system-line example in docs/protocol.md decodes as the text says: a
// code with params and no sentence.
func TestSystemLineExampleInDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, `{"ev": "entry"`) {
			line = l
		}
	}
	var f struct {
		Ev   string `json:"ev"`
		Data Entry  `json:"data"`
	}
	if err := json.Unmarshal([]byte(line), &f); err != nil || f.Ev != EvEntry {
		t.Fatalf("example %q: %v", line, err)
	}
	e := f.Data
	if e.Note != "transfer_offered" || e.Text != "" || e.Params == nil || e.Params.By == nil || e.Params.By.Name != "Cecilia Ny" ||
		e.Params.From.ID != 1 || e.Params.To.Name != "Bertil Ek" || e.Params.Comment == "" {
		t.Fatalf("decoded: %+v %+v", e, e.Params)
	}
}
