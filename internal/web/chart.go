package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/skillvault/skillvault/internal/store"
)

// point is one bar of a chart.
type point struct {
	Label string
	Value int64
}

// dailySeries sums events per day over n days from from, with empty days
// as zero, so the chart's time axis has no gaps.
func dailySeries(days []store.DayCount, from time.Time, n int) []point {
	sums := map[string]int64{}
	for _, d := range days {
		if d.Event != "view" { // views are not uses
			sums[d.Day] += d.Count
		}
	}
	out := make([]point, n)
	for i := range out {
		day := from.AddDate(0, 0, i)
		out[i] = point{day.Format(dayFormat), sums[day.Format("2006-01-02")]}
	}
	return out
}

// barChart draws a bar chart as inline SVG. It is decorative for screen
// readers (aria-hidden): the same figures stand in a table beside it.
func barChart(ps []point, title string, wide bool) template.HTML {
	w, h, pad := 320, 110, 22
	if wide {
		w, h = 960, 200
	}
	var peak int64
	for _, p := range ps {
		peak = max(peak, p.Value)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-hidden="true" focusable="false"><title>%s</title>`, w, h+pad, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<line class="axis" x1="0" y1="%d" x2="%d" y2="%d"/>`, h, w, h)
	if len(ps) > 0 {
		bw := float64(w) / float64(len(ps))
		for i, p := range ps {
			bh := 0.0
			if peak > 0 {
				bh = float64(p.Value) / float64(peak) * float64(h-16)
			}
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d</title></rect>`,
				float64(i)*bw+1, float64(h)-bh, max(bw-2, 1), bh, template.HTMLEscapeString(p.Label), p.Value)
		}
		fmt.Fprintf(&b, `<text x="0" y="%d">%s</text>`, h+18, template.HTMLEscapeString(ps[0].Label))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, w, h+18, template.HTMLEscapeString(ps[len(ps)-1].Label))
	}
	fmt.Fprintf(&b, `<text x="0" y="11">max %d per day</text></svg>`, peak)
	return template.HTML(b.String())
}

// hbarChart draws horizontal bars with labels, for rankings.
func hbarChart(ps []point, title string) template.HTML {
	const w, row = 460, 26
	var peak int64
	for _, p := range ps {
		peak = max(peak, p.Value)
	}
	h := max(len(ps)*row, row)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-hidden="true" focusable="false"><title>%s</title>`, w, h, template.HTMLEscapeString(title))
	for i, p := range ps {
		bw := 0.0
		if peak > 0 {
			bw = float64(p.Value) / float64(peak) * (w - 230)
		}
		y := i * row
		fmt.Fprintf(&b, `<text x="0" y="%d">%s</text>`, y+17, template.HTMLEscapeString(trim(p.Label, 24)))
		fmt.Fprintf(&b, `<rect class="bar" x="180" y="%d" width="%.1f" height="18"/>`, y+4, max(bw, 1))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%d</text>`, 186+bw, y+17, p.Value)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func trim(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
