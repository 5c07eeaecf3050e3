package web_test

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestColourContrast checks the app's colours against WCAG 2.2 AA: 4.5:1
// for text. It reads the colour variables of style.css and checks every
// rule that sets both a text colour and a background from them, and every
// text colour the app uses on every surface text is shown on (the page,
// the chat list, the history, one's own bubbles), where the text colour is
// inherited rather than set next to its background.
func TestColourContrast(t *testing.T) {
	css, err := os.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	root := regexp.MustCompile(`(?s):root\s*\{(.*?)\}`).FindSubmatch(css)
	if root == nil {
		t.Fatal("style.css has no :root block")
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;`).FindAllStringSubmatch(string(root[1]), -1) {
		vars[m[1]] = m[2]
	}
	if len(vars) < 10 {
		t.Fatalf("found only %d colour variables in :root: %v", len(vars), vars)
	}
	type pair struct{ fg, bg, where string }
	var pairs []pair
	for _, fg := range []string{"text", "muted", "primary", "danger"} {
		for _, bg := range []string{"bg", "side", "chat", "own"} {
			pairs = append(pairs, pair{fg, bg, "text on a surface"})
		}
	}
	// Rules that set both: buttons, badges, the banner, the selected chat.
	rule := regexp.MustCompile(`(?s)([^{}]+)\{([^{}]*)\}`)
	colour := regexp.MustCompile(`(?:^|[;\s])color:\s*var\(--([a-z-]+)\)`)
	background := regexp.MustCompile(`background(?:-color)?:\s*var\(--([a-z-]+)\)`)
	for _, m := range rule.FindAllStringSubmatch(string(css), -1) {
		fg, bg := colour.FindStringSubmatch(m[2]), background.FindStringSubmatch(m[2])
		if fg != nil && bg != nil {
			pairs = append(pairs, pair{fg[1], bg[1], strings.TrimSpace(m[1])})
		}
	}
	checked := 0
	for _, p := range pairs {
		fg, okf := vars[p.fg]
		bg, okb := vars[p.bg]
		if !okf || !okb {
			t.Errorf("%s: var(--%s) on var(--%s): not a colour variable of :root", p.where, p.fg, p.bg)
			continue
		}
		checked++
		if r := contrast(t, fg, bg); r < 4.5 {
			t.Errorf("%s: --%s %s on --%s %s has contrast %.2f:1, below AA's 4.5:1", p.where, p.fg, fg, p.bg, bg, r)
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d colour pairs", checked)
	}
	// The focus ring must stand out from what it surrounds (3:1 for
	// non-text contrast).
	for _, bg := range []string{"bg", "side", "chat", "own"} {
		if r := contrast(t, vars["focus"], vars[bg]); r < 3 {
			t.Errorf("the focus ring on --%s has contrast %.2f:1, below 3:1", bg, r)
		}
	}
}

// contrast is the WCAG contrast ratio of two #rrggbb colours.
func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func luminance(t *testing.T, hex string) float64 {
	var c [3]float64
	for i := range c {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatalf("colour %s: %v", hex, err)
		}
		s := float64(v) / 255
		if s <= 0.04045 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func TestContrastFormula(t *testing.T) {
	// The extremes and a known pair: WCAG's own examples.
	for _, c := range []struct {
		a, b string
		want float64
	}{{"#000000", "#ffffff", 21}, {"#ffffff", "#ffffff", 1}, {"#767676", "#ffffff", 4.54}} {
		if got := contrast(t, c.a, c.b); math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %s, want %v", c.a, c.b, fmt.Sprintf("%.2f", got), c.want)
		}
	}
}
