package web

import (
	"encoding/xml"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// chartDoc is what a chart says when read as XML.
type chartDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2000/svg svg"`
	Role    string   `xml:"role,attr"`
	Height  string   `xml:"height,attr"`
	Dir     string   `xml:"direction,attr"`
	Title   string   `xml:"title"`
	Desc    string   `xml:"desc"`
	Bars    []struct {
		Texts []struct {
			Class string `xml:"class,attr"`
			X     string `xml:"x,attr"`
			Text  string `xml:",chardata"`
		} `xml:"text"`
		Rect struct {
			X         string `xml:"x,attr"`
			Width     string `xml:"width,attr"`
			Dasharray string `xml:"stroke-dasharray,attr"`
		} `xml:"rect"`
	} `xml:"g"`
}

func parseChart(t *testing.T, c barChart) chartDoc {
	t.Helper()
	svg := string(c.svg())
	var doc chartDoc
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, svg)
	}
	if len(doc.Bars) != len(c.Bars) {
		t.Fatalf("%d bars drawn, want %d", len(doc.Bars), len(c.Bars))
	}
	return doc
}

// percent reads a width such as "42.50%".
func percent(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || !strings.HasSuffix(s, "%") {
		t.Fatalf("width %q is not a percentage", s)
	}
	return f
}

func TestBarChart(t *testing.T) {
	doc := parseChart(t, barChart{Title: "Actions by kind", Desc: "Counted per day.", Bars: []bar{
		{Label: "Takedown", Value: 50, Text: "50"},
		{Label: "Removed", Value: 25},
		{Label: "Banned", Value: 0, Text: "0"},
	}})
	if doc.Role != "img" || doc.Title != "Actions by kind" || doc.Dir != "ltr" {
		t.Errorf("role %q, title %q, direction %q", doc.Role, doc.Title, doc.Dir)
	}
	if want := "Counted per day. Takedown: 50; Removed: 25; Banned: 0"; doc.Desc != want {
		t.Errorf("desc = %q, want %q", doc.Desc, want)
	}
	if doc.Height != strconv.Itoa(3*chartRow+4) {
		t.Errorf("height %s for 3 bars", doc.Height)
	}
	long, half := percent(t, doc.Bars[0].Rect.Width), percent(t, doc.Bars[1].Rect.Width)
	if long < 50 || long > 85 || math.Abs(half-long/2) > 0.01 {
		t.Errorf("bars of 50 and 25 are %v%% and %v%% wide", long, half)
	}
	for i, want := range [][2]string{{"Takedown", "50"}, {"Removed", "25"}, {"Banned", "0"}} {
		g := doc.Bars[i]
		if len(g.Texts) != 2 || g.Texts[0].Text != want[0] || g.Texts[1].Text != want[1] || g.Texts[1].Class != "value" {
			t.Errorf("bar %d says %+v, want label %q and value %q", i, g.Texts, want[0], want[1])
		}
	}
	// Zero is a mark, not a bar, with its value at the start.
	if doc.Bars[2].Rect.Width != "3" || doc.Bars[2].Texts[1].X != "0.00%" {
		t.Errorf("zero bar: %+v", doc.Bars[2])
	}
}

func TestBarChartEscapesLabels(t *testing.T) {
	hostile := `</text><script>alert("x")</script> & <a href='y'>`
	c := barChart{Title: `Title <b>&</b>`, Bars: []bar{{Label: hostile, Value: 3, Text: `3 "<i>"`}, {Label: "bad \x00 byte", Value: 1}}}
	svg := string(c.svg())
	if strings.Contains(svg, "<script") || strings.Contains(svg, "<b>") || strings.Contains(svg, "<i>") || strings.Contains(svg, "\x00") {
		t.Fatalf("unescaped markup in %s", svg)
	}
	doc := parseChart(t, c)
	if doc.Title != `Title <b>&</b>` || doc.Bars[0].Texts[0].Text != hostile || doc.Bars[0].Texts[1].Text != `3 "<i>"` {
		t.Errorf("texts did not survive escaping: %q %q %q", doc.Title, doc.Bars[0].Texts[0].Text, doc.Bars[0].Texts[1].Text)
	}
}

func TestBarChartExtremes(t *testing.T) {
	t.Run("all zero", func(t *testing.T) {
		doc := parseChart(t, barChart{Title: "Nothing", Bars: []bar{{Label: "a"}, {Label: "b"}}})
		for _, g := range doc.Bars {
			if g.Rect.Width != "3" || g.Texts[1].Text != "0" {
				t.Errorf("zero bar drawn as %+v", g)
			}
		}
	})
	t.Run("no bars", func(t *testing.T) {
		doc := parseChart(t, barChart{Title: "Empty"})
		if doc.Height != "4" {
			t.Errorf("height %s", doc.Height)
		}
	})
	t.Run("huge", func(t *testing.T) {
		doc := parseChart(t, barChart{Title: "Huge", Bars: []bar{{Label: "max", Value: math.MaxInt64}, {Label: "one", Value: 1}, {Label: "negative", Value: -5}}})
		w := percent(t, doc.Bars[0].Rect.Width)
		// The value printed beside it is 19 digits: the bar leaves room.
		if w < 30 || w > 60 {
			t.Errorf("the longest bar, beside a 19-digit value, is %v%% wide", w)
		}
		if doc.Bars[0].Texts[1].Text != "9223372036854775807" || doc.Bars[2].Texts[1].Text != "0" || doc.Bars[2].Rect.Width != "3" {
			t.Errorf("huge chart: %+v", doc.Bars)
		}
		if one := percent(t, doc.Bars[1].Rect.Width); one != 0 && one > 0.01 {
			t.Errorf("1 of MaxInt64 is %v%% wide", one)
		}
	})
	t.Run("right to left", func(t *testing.T) {
		doc := parseChart(t, barChart{Title: "RTL", RTL: true, Bars: []bar{{Label: "أ", Value: 10}, {Label: "ب", Value: 5, Band: true, Text: "١-٩"}}})
		if doc.Dir != "rtl" || doc.Bars[0].Texts[0].X != "100%" {
			t.Errorf("direction %q, label at %q", doc.Dir, doc.Bars[0].Texts[0].X)
		}
		// A bar ends at the right edge: x + width = 100%.
		for _, g := range doc.Bars {
			if x, w := percent(t, g.Rect.X), percent(t, g.Rect.Width); math.Abs(x+w-100) > 0.02 {
				t.Errorf("bar at %v%% of width %v%% does not end at the right edge", x, w)
			}
		}
		if doc.Bars[1].Rect.Dasharray == "" || doc.Bars[0].Rect.Dasharray != "" {
			t.Error("only the band is dashed")
		}
	})
}

func TestBarChartCompact(t *testing.T) {
	doc := parseChart(t, barChart{Title: "Per day", Compact: true, Bars: []bar{{Label: "1", Value: 4}, {Label: "30", Value: 2}}})
	if doc.Height != strconv.Itoa(2*chartCompactRow+4) {
		t.Errorf("height %s for 2 compact rows", doc.Height)
	}
	// The bars start past the widest label, on the label's line.
	off, err := strconv.Atoi(doc.Bars[0].Rect.X)
	if err != nil || off < textWidth("30") || off > 40 {
		t.Fatalf("bars start at %q, want past the labels", doc.Bars[0].Rect.X)
	}
	if dx := doc.Bars[0].Texts[1]; dx.X != doc.Bars[0].Rect.Width {
		t.Errorf("the value is at %s, the bar ends at %s", dx.X, doc.Bars[0].Rect.Width)
	}
	rtl := string(barChart{Title: "RTL", Compact: true, RTL: true, Bars: []bar{{Label: "١", Value: 4}}}.svg())
	if !strings.Contains(rtl, `transform="translate(-`) {
		t.Errorf("a right-to-left compact bar is not moved past its label: %s", rtl)
	}
}

func TestBarChartLoadsNothing(t *testing.T) {
	svg := string(barChart{Title: "t", Bars: []bar{{Label: "a", Value: 1}}}.svg())
	if regexp.MustCompile(`(?i)href|url\(|@import|<style|<script|<image|<foreignObject`).MatchString(svg) {
		t.Errorf("the chart refers to something outside itself: %s", svg)
	}
}
