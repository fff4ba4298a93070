package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// figure is one measured value next to the baseline measured in the same run.
type figure struct {
	Section  string  `json:"section"`
	Metric   string  `json:"metric"`
	Unit     string  `json:"unit"`
	Value    float64 `json:"value"`
	Baseline float64 `json:"baseline,omitempty"`
	// Ratio is Value / Baseline; 0 when there is no baseline.
	Ratio float64 `json:"ratio,omitempty"`
}

func newFigure(section, metric, unit string, value, baseline float64) figure {
	f := figure{Section: section, Metric: metric, Unit: unit, Value: value, Baseline: baseline}
	if baseline != 0 {
		f.Ratio = value / baseline
	}
	return f
}

// verdict is a figure held against a limit: a budget or a must-be-zero check.
type verdict struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit,omitempty"`
	Pass  bool    `json:"pass"`
}

// report is everything the bench prints, and what -json writes.
type report struct {
	Clusters   int        `json:"clusters"`
	GOMAXPROCS int        `json:"gomaxprocs"`
	Conns      int        `json:"conns"`
	DurationS  float64    `json:"duration_s"`
	Rounds     int        `json:"rounds"`
	Reps       int        `json:"reps"`
	Target     string     `json:"target_cluster"`
	Sections   []section  `json:"-"`
	Figures    []figure   `json:"figures"`
	Verdicts   []verdict  `json:"verdicts"`
	Raw        rawFigures `json:"raw"`
	// Notes say why figures are missing: a step that failed without stopping the bench.
	Notes []string `json:"notes,omitempty"`
}

// section names a group of figures and says what its baseline is.
type section struct {
	name, title string
}

// rawFigures are the measurements the figures derive from.
type rawFigures struct {
	Binary1     *procStats  `json:"binary_1,omitempty"`
	BinaryN     *procStats  `json:"binary_n,omitempty"`
	BinaryRuns1 []procStats `json:"binary_1_runs,omitempty"`
	BinaryRunsN []procStats `json:"binary_n_runs,omitempty"`
	Listeners1  *procStats  `json:"listeners_1"`
	ListenersN  *procStats  `json:"listeners_n"`
	Fleet1      *procStats  `json:"fleet_1"`
	FleetN      *procStats  `json:"fleet_n"`
	// Tunnels are the measurements of the tunnel sections (tunnels.go).
	Tunnels *tunnelFigures `json:"tunnels,omitempty"`
}

func (r *report) print(w io.Writer) {
	rows := [][4]string{}
	width := [4]int{len("metric"), len("value"), len("baseline"), len("ratio")}
	for _, f := range r.Figures {
		row := [4]string{f.Metric, formatValue(f.Value, f.Unit), "-", "-"}
		if f.Baseline != 0 {
			row[2] = formatValue(f.Baseline, f.Unit)
			row[3] = fmt.Sprintf("%.2fx", f.Ratio)
		}
		rows = append(rows, row)
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cells [4]string) {
		var b strings.Builder
		for i, c := range cells {
			if i > 0 {
				b.WriteString(" | ")
			}
			pad := width[i] - len([]rune(c))
			if i == 0 {
				b.WriteString(c + strings.Repeat(" ", pad))
			} else {
				b.WriteString(strings.Repeat(" ", pad) + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	for _, s := range r.Sections {
		if !r.hasSection(s.name) {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", s.title)
		line([4]string{"metric", "value", "baseline", "ratio"})
		fmt.Fprintln(w, strings.Repeat("-", width[0]+width[1]+width[2]+width[3]+9))
		for i, f := range r.Figures {
			if f.Section == s.name {
				line(rows[i])
			}
		}
	}
	fmt.Fprintln(w)
	for _, v := range r.Verdicts {
		fmt.Fprintln(w, v.String())
	}
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note   "+n)
	}
}

func (r *report) hasSection(name string) bool {
	for _, f := range r.Figures {
		if f.Section == name {
			return true
		}
	}
	return false
}

func (v verdict) String() string {
	if v.Unit != "" {
		word := "PASS"
		if !v.Pass {
			word = "OVER"
		}
		return fmt.Sprintf("budget %s <= %s: %s (%s, %.2fx budget)", v.Name, formatValue(v.Limit, v.Unit), word,
			formatValue(v.Value, v.Unit), v.Value/v.Limit)
	}
	word := "PASS"
	if !v.Pass {
		word = "FAIL"
	}
	return fmt.Sprintf("check  %s: %s (%g)", v.Name, word, v.Value)
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "KiB":
		return fmt.Sprintf("%.1f KiB", v)
	case "MiB":
		return fmt.Sprintf("%.1f MiB", v)
	case "ms":
		return fmt.Sprintf("%.3f ms", v)
	case "s":
		return fmt.Sprintf("%.2f s", v)
	case "":
		return fmt.Sprintf("%.2f", v)
	default:
		if v >= 100 {
			return fmt.Sprintf("%s %s", thousands(math.Round(v)), unit)
		}
		return fmt.Sprintf("%.1f %s", v, unit)
	}
}

// thousands formats 12345 as 12,345.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
