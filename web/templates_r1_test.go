package web_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"kurir/moderation"
)

// TestReasonTemplatesMatchServer: the console shows each reason template
// in the moderator's language with the wording the server gives the
// person affected in theirs, and sends its name; so every template the
// console offers is one the server knows, worded alike in every language.
// (The console sends the name only while the facts still start with the
// template's text, which needs the two to agree.)
func TestReasonTemplatesMatchServer(t *testing.T) {
	const prefix = "console.tpl."
	dismissals := []string{"no_violation", "in_context", "duplicate"} // reasons for a dismissal, not facts of an action
	for _, lang := range moderation.Languages {
		b, err := os.ReadFile("static/i18n/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var cat map[string]string
		if err := json.Unmarshal(b, &cat); err != nil {
			t.Fatal(err)
		}
		var console []string
		for k, text := range cat {
			name, ok := strings.CutPrefix(k, prefix)
			if !ok || slices.Contains(dismissals, name) {
				continue
			}
			console = append(console, name)
			if !slices.Contains(moderation.Templates(), name) {
				t.Errorf("%s: the console's template %q is not the server's", lang, name)
				continue
			}
			if got := moderation.TemplateText(name, lang, nil); got != text {
				t.Errorf("%s: template %q reads %q in the console and %q in statements", lang, name, text, got)
			}
		}
		slices.Sort(console)
		if !slices.Equal(console, moderation.Templates()) {
			t.Errorf("%s: the console offers %v, the server knows %v", lang, console, moderation.Templates())
		}
	}
}
