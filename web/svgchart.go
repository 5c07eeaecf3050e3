package web

import (
	"encoding/xml"
	"html/template"
	"strconv"
	"strings"
	"unicode/utf8"
)

// bar is one bar of a barChart.
type bar struct {
	Label string // what the bar counts
	Value int64  // its length; below zero counts as zero
	// Text is printed beside the bar: the value as the reader should see
	// it (localised digits, a share, a band). Empty prints Value.
	Text string
	// Band marks Value as only the top of a range (a count published as
	// "1-9"): the bar is drawn hollow and dashed, so it does not read as
	// exact.
	Band bool
}

// barChart is a horizontal bar chart: a row per bar, the longest bar the
// largest value, the value printed beside each bar.
type barChart struct {
	Title string // the chart's accessible name
	Desc  string // what it shows; the bars are appended to it
	Bars  []bar
	RTL   bool // bars grow from the right, labels set right to left
	// Compact puts each label beside its bar instead of above it: for many
	// bars with short labels, such as the days of a month.
	Compact bool
}

// Geometry, in CSS pixels. A chart is as wide as its container (bar
// lengths are percentages of it) and grows down by a row per bar, so its
// text keeps the page's size on a phone instead of shrinking with a
// viewBox.
const (
	chartRow        = 46 // a label line above a bar
	chartCompactRow = 26 // a label beside a bar
	chartBarH       = 14
	chartFontSize   = 14
	// chartMinWidth is the narrowest a chart is expected to be drawn (a
	// phone, less the page's margins): labels and values must fit beside
	// the longest bar at that width.
	chartMinWidth = 300
	chartInk      = "#1b1f24" // the page's text colour, 16:1 on white
	chartBarFill  = "#1a5fb4" // the app's primary colour, 6:1 on white
	chartZeroFill = "#6e7781" // 4.6:1 on white
)

// textWidth is a generous estimate of how wide text is drawn, in pixels.
func textWidth(s string) int { return utf8.RuneCountInString(s) * chartFontSize * 62 / 100 }

// svg draws the chart as an SVG element for inlining in HTML; it is also a
// well-formed XML document on its own. Every text is escaped, and the
// chart loads nothing, not even a font.
func (c barChart) svg() template.HTML {
	var maxVal int64
	widestText, widestLabel := 0, 0
	texts := make([]string, len(c.Bars))
	for i, b := range c.Bars {
		maxVal = max(maxVal, b.Value)
		texts[i] = b.Text
		if texts[i] == "" {
			texts[i] = strconv.FormatInt(max(b.Value, 0), 10)
		}
		widestText = max(widestText, textWidth(texts[i]))
		widestLabel = max(widestLabel, textWidth(b.Label))
	}
	row, off := chartRow, 0 // off: where bars start, in pixels from the label's edge
	if c.Compact {
		row, off = chartCompactRow, widestLabel+10
	}
	// The longest bar leaves room for its value (and a compact label).
	room := float64(off+widestText+14) / chartMinWidth
	longest := min(max(1-room, 0.3), 0.85)

	var s strings.Builder
	dir, start := "ltr", "0"
	if c.RTL {
		dir, start = "rtl", "100%"
	}
	s.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="100%" height="` +
		strconv.Itoa(len(c.Bars)*row+4) + `" direction="` + dir +
		`" font-family="system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans Arabic', sans-serif" font-size="` +
		strconv.Itoa(chartFontSize) + `" fill="` + chartInk + `"><title>`)
	escape(&s, c.Title)
	s.WriteString(`</title><desc>`)
	parts := make([]string, len(c.Bars))
	for i, b := range c.Bars {
		parts[i] = b.Label + ": " + texts[i]
	}
	escape(&s, strings.TrimSpace(c.Desc+" "+strings.Join(parts, "; ")))
	s.WriteString(`</desc>`)

	px := strconv.Itoa
	pct := func(f float64) string { return strconv.FormatFloat(f*100, 'f', 2, 64) + "%" }
	for i, b := range c.Bars {
		y := i * row
		labelY, barY, valueY := y+16, y+22, y+34
		if c.Compact {
			labelY, barY, valueY = y+17, y+5, y+17
		}
		frac := 0.0
		if maxVal > 0 && b.Value > 0 {
			frac = float64(b.Value) / float64(maxVal) * longest
		}
		switch {
		case c.Compact:
			// Flush against the bar, so numbers line up by their last digit.
			lx := px(off - 10)
			if c.RTL {
				lx = "100%"
			}
			s.WriteString(`<g class="bar"><text x="` + lx + `" text-anchor="end"`)
			if c.RTL {
				s.WriteString(` transform="translate(` + px(10-off) + ` 0)"`)
			}
		default:
			s.WriteString(`<g class="bar"><text x="` + start + `"`)
			if c.RTL {
				s.WriteString(` dx="-2"`) // room for the overhang of Arabic marks
			}
		}
		s.WriteString(` y="` + px(labelY) + `">`)
		escape(&s, b.Label)
		s.WriteString(`</text>`)

		// The bar starts off pixels in from the label's edge and grows
		// towards the other. Right to left, a bar is placed by its left
		// end, a percentage, and moved off pixels left.
		var x, shift, width string
		switch {
		case frac == 0:
			// A zero is a thin grey mark, so the row does not look empty.
			x, width = px(off), "3"
			if c.RTL {
				x, shift = "100%", px(-off-3)
			}
		case c.RTL:
			x, width = pct(1-frac), pct(frac)
			if off > 0 {
				shift = px(-off)
			}
		default:
			x, width = px(off), pct(frac)
		}
		s.WriteString(`<rect x="` + x + `" y="` + px(barY) + `" width="` + width + `" height="` + px(chartBarH) + `"`)
		if shift != "" {
			s.WriteString(` transform="translate(` + shift + ` 0)"`)
		}
		switch {
		case frac == 0:
			s.WriteString(` fill="` + chartZeroFill + `"/>`)
		case b.Band:
			s.WriteString(` rx="2" fill="` + chartBarFill + `" fill-opacity="0.18" stroke="` + chartBarFill + `" stroke-dasharray="4 3"/>`)
		default:
			s.WriteString(` rx="2" fill="` + chartBarFill + `"/>`)
		}

		// The value sits just past the bar's end.
		vx, dx := pct(frac), px(off+8)
		if c.RTL {
			vx, dx = pct(1-frac), px(-off-8)
		}
		s.WriteString(`<text class="value" x="` + vx + `" dx="` + dx + `" y="` + px(valueY) + `" font-weight="600">`)
		escape(&s, texts[i])
		s.WriteString(`</text></g>`)
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) // every text in it went through escape
}

// escape writes text escaped for XML character data and attribute values
// (invalid characters become U+FFFD).
func escape(s *strings.Builder, text string) {
	xml.EscapeText(s, []byte(text))
}
