package main

import (
	"fmt"
	"math"
	"os"
	"strings"
)

// series is one line of a plot.
type series struct {
	Name   string
	X, Y   []float64
	Colour string
}

// plot is a line chart with labelled axes, written as a standalone SVG.
type plot struct {
	Title, XLabel, YLabel string
	LogX                  bool
	Series                []series
	// HLine draws a dashed horizontal line (a target) when Name is set.
	HLine struct {
		Name string
		Y    float64
	}
}

const (
	svgW, svgH             = 720, 420
	padL, padR, padT, padB = 70, 180, 40, 55
	plotW, plotH           = svgW - padL - padR, svgH - padT - padB
)

func (p plot) svg() string {
	tx := func(x float64) float64 {
		if p.LogX {
			return math.Log10(math.Max(x, 1e-9))
		}
		return x
	}
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	for _, s := range p.Series {
		for i := range s.X {
			xmin, xmax = math.Min(xmin, tx(s.X[i])), math.Max(xmax, tx(s.X[i]))
			ymax = math.Max(ymax, s.Y[i])
		}
	}
	if p.HLine.Name != "" {
		ymax = math.Max(ymax, p.HLine.Y)
	}
	if math.IsInf(xmin, 0) {
		xmin, xmax = 0, 1
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	ystep := niceStep(ymax / 5)
	ymax = math.Max(ystep, math.Ceil(ymax/ystep)*ystep)
	px := func(x float64) float64 { return padL + (tx(x)-xmin)/(xmax-xmin)*plotW }
	py := func(y float64) float64 { return padT + plotH - y/ymax*plotH }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", padL, esc(p.Title))
	// Axes and grid.
	for y := 0.0; y <= ymax+ystep/2; y += ystep {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", padL, py(y), padL+plotW, py(y))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, py(y)+4, short(y))
	}
	var xticks []float64
	for _, s := range p.Series {
		xticks = append(xticks, s.X...)
	}
	seen := map[string]bool{}
	for _, x := range xticks {
		l := short(x)
		if seen[l] {
			continue
		}
		seen[l] = true
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#999"/>`+"\n", px(x), padT+plotH, px(x), padT+plotH+5)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", px(x), padT+plotH+18, l)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", padL, padT+plotH, padL+plotW, padT+plotH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", padL, padT, padL, padT+plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", padL+plotW/2, svgH-12, esc(p.XLabel))
	fmt.Fprintf(&b, `<text x="16" y="%d" text-anchor="middle" transform="rotate(-90 16 %d)">%s</text>`+"\n", padT+plotH/2, padT+plotH/2, esc(p.YLabel))
	if p.HLine.Name != "" {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#c00" stroke-dasharray="6 4"/>`+"\n", padL, py(p.HLine.Y), padL+plotW, py(p.HLine.Y))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="#c00">%s</text>`+"\n", padL+plotW+8, py(p.HLine.Y)+4, esc(p.HLine.Name))
	}
	for i, s := range p.Series {
		var pts []string
		for j := range s.X {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(s.X[j]), py(s.Y[j])))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", s.Colour, strings.Join(pts, " "))
		for j := range s.X {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", px(s.X[j]), py(s.Y[j]), s.Colour)
		}
		ly := padT + 10 + i*18
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>`+"\n", padL+plotW+8, ly, padL+plotW+28, ly, s.Colour)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", padL+plotW+32, ly+4, esc(s.Name))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func (p plot) write(path string) error {
	if err := os.WriteFile(path, []byte(p.svg()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// niceStep rounds a raw step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func short(v float64) string {
	switch {
	case v >= 1000 && math.Mod(v, 1000) == 0:
		return fmt.Sprintf("%.0fk", v/1000)
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
