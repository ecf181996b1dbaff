package notify

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestREADMEPayload: the webhook payload the README documents has exactly
// the fields a Message is sent with.
func TestREADMEPayload(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- webhook payload")
	if !ok {
		t.Fatal("README has no webhook payload")
	}
	_, rest, _ = strings.Cut(rest, "```json\n")
	doc, _, _ := strings.Cut(rest, "```")
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatalf("README's payload does not parse: %v", err)
	}
	var m Message
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("README's payload is not a Message: %v", err)
	}
	var want []string
	rt := reflect.TypeOf(m)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		want = append(want, name)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("README documents %v; a Message has %v", keys, want)
	}
}
