package metrics

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A strict reader of the text exposition format 0.0.4 as /metrics must
// write it, for the tests: it is what Prometheus and promtool read, with
// the agent's own promises on top (families sorted by name, one HELP and
// one TYPE each, HELP before TYPE, label pairs sorted by name, series
// sorted, values in the shortest form). It stands in for client_golang's
// expfmt parser, which the module no longer requires.

type parsedFamily struct {
	name, help, typ string
	samples         []parsedSample
}

type parsedSample struct {
	name   string // with the suffix (_bucket, _sum, _count)
	labels []labelPair
	value  float64
}

type labelPair struct{ name, value string }

// label returns the value of the label name, and whether it is there.
func (s parsedSample) label(name string) (string, bool) {
	for _, l := range s.labels {
		if l.name == name {
			return l.value, true
		}
	}
	return "", false
}

// parseExposition reads text, failing on anything the format or the
// agent's promises forbid.
func parseExposition(text string) ([]parsedFamily, error) {
	if text == "" {
		return nil, nil
	}
	if !strings.HasSuffix(text, "\n") {
		return nil, fmt.Errorf("the last line does not end with a line feed")
	}
	var fams []parsedFamily
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for n := 0; n < len(lines); n++ {
		line := lines[n]
		where := fmt.Sprintf("line %d %q", n+1, line)
		switch {
		case strings.HasPrefix(line, "# HELP "):
			name, help, ok := strings.Cut(line[len("# HELP "):], " ")
			if !ok || !validName(name, true) {
				return nil, fmt.Errorf("%s: HELP without a valid name and a text", where)
			}
			h, err := unescape(help, false)
			if err != nil {
				return nil, fmt.Errorf("%s: HELP: %w", where, err)
			}
			if len(fams) > 0 && fams[len(fams)-1].name >= name {
				return nil, fmt.Errorf("%s: family %s after %s: not sorted, or a second HELP", where, name, fams[len(fams)-1].name)
			}
			n++
			if n == len(lines) {
				return nil, fmt.Errorf("%s: no TYPE line after HELP", where)
			}
			typ, ok := strings.CutPrefix(lines[n], "# TYPE "+name+" ")
			if !ok || !slices.Contains([]string{"counter", "gauge", "histogram", "summary"}, typ) {
				return nil, fmt.Errorf("line %d %q: want # TYPE %s <counter|gauge|histogram|summary> after its HELP", n+1, lines[n], name)
			}
			fams = append(fams, parsedFamily{name: name, help: h, typ: typ})
		case strings.HasPrefix(line, "#"):
			return nil, fmt.Errorf("%s: a comment other than HELP before TYPE", where)
		default:
			if len(fams) == 0 {
				return nil, fmt.Errorf("%s: a sample before any HELP and TYPE", where)
			}
			s, err := parseSample(line)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			f := &fams[len(fams)-1]
			if err := f.fits(s); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			f.samples = append(f.samples, s)
		}
	}
	for _, f := range fams {
		if err := f.check(); err != nil {
			return nil, fmt.Errorf("family %s: %w", f.name, err)
		}
	}
	return fams, nil
}

// fits checks that s belongs to f, with the labels its type reserves.
func (f *parsedFamily) fits(s parsedSample) error {
	suffix, ok := strings.CutPrefix(s.name, f.name)
	if !ok {
		return fmt.Errorf("sample %s in family %s", s.name, f.name)
	}
	want := map[string][]string{"counter": {""}, "gauge": {""}, "histogram": {"_bucket", "_sum", "_count"}, "summary": {"", "_sum", "_count"}}[f.typ]
	if !slices.Contains(want, suffix) {
		return fmt.Errorf("sample %s in %s %s", s.name, f.typ, f.name)
	}
	reserved := map[string]string{"histogram": "le", "summary": "quantile"}[f.typ]
	_, has := s.label(reserved)
	if reserved != "" && has != (suffix == "_bucket" || f.typ == "summary" && suffix == "") {
		return fmt.Errorf("label %s where it does not belong, or missing", reserved)
	}
	for i, l := range s.labels {
		last := i == len(s.labels)-1
		if l.name == "le" || l.name == "quantile" {
			if l.name != reserved || !last {
				return fmt.Errorf("label %s in a %s, or not last", l.name, f.typ)
			}
			continue
		}
		if i > 0 && s.labels[i-1].name >= l.name {
			return fmt.Errorf("labels %s and %s not sorted by name (or twice)", s.labels[i-1].name, l.name)
		}
	}
	return nil
}

// check looks at a family's samples together: series sorted and unique;
// a histogram's buckets increasing up to +Inf, cumulative, +Inf equal to
// _count, then _sum and _count.
func (f *parsedFamily) check() error {
	if len(f.samples) == 0 {
		return fmt.Errorf("no samples")
	}
	var prev string
	first := true
	for i := 0; i < len(f.samples); {
		s := f.samples[i]
		key := seriesKey(s.labels)
		if !first && key <= prev {
			return fmt.Errorf("series %s after %s: not sorted, or twice", key, prev)
		}
		first, prev = false, key
		switch f.typ {
		case "counter", "gauge":
			i++
		case "histogram", "summary":
			j := i
			for j < len(f.samples) && seriesKey(f.samples[j].labels) == key && f.samples[j].name != f.name+"_sum" {
				j++
			}
			if j+1 >= len(f.samples) || f.samples[j].name != f.name+"_sum" || f.samples[j+1].name != f.name+"_count" ||
				seriesKey(f.samples[j+1].labels) != key {
				return fmt.Errorf("series %s: want its %s then _sum and _count", key, map[string]string{"histogram": "buckets", "summary": "quantiles"}[f.typ])
			}
			if err := checkBuckets(f.typ, f.samples[i:j], f.samples[j+1].value); err != nil {
				return fmt.Errorf("series %s: %w", key, err)
			}
			i = j + 2
		}
	}
	return nil
}

func checkBuckets(typ string, bs []parsedSample, count float64) error {
	reserved := map[string]string{"histogram": "le", "summary": "quantile"}[typ]
	prevBound, prevCount := math.Inf(-1), 0.0
	for _, b := range bs {
		v, _ := b.label(reserved)
		bound, err := parseValue(v)
		if err != nil {
			return fmt.Errorf("%s=%q: %w", reserved, v, err)
		}
		if bound <= prevBound {
			return fmt.Errorf("%s %v after %v", reserved, bound, prevBound)
		}
		if typ == "histogram" && b.value < prevCount {
			return fmt.Errorf("bucket le=%v counts %v, less than the bucket below (%v): not cumulative", bound, b.value, prevCount)
		}
		prevBound, prevCount = bound, b.value
	}
	if typ == "histogram" && (!math.IsInf(prevBound, 1) || prevCount != count) {
		return fmt.Errorf("the last bucket is le=%v with %v, want le=+Inf with the _count %v", prevBound, prevCount, count)
	}
	return nil
}

// seriesKey orders series as the exposition must: by label values, in
// label name order, the reserved le and quantile left out.
func seriesKey(labels []labelPair) string {
	var b strings.Builder
	for _, l := range labels {
		if l.name != "le" && l.name != "quantile" {
			b.WriteString(l.value)
			b.WriteByte(0)
		}
	}
	return b.String()
}

// parseSample reads name{label="value",...} value.
func parseSample(line string) (parsedSample, error) {
	var s parsedSample
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value")
	}
	s.name = line[:i]
	if !validName(s.name, true) {
		return s, fmt.Errorf("metric name %q not valid", s.name)
	}
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			eq := strings.IndexByte(rest, '=')
			if eq < 0 || !validName(rest[:eq], false) || !strings.HasPrefix(rest[eq+1:], `"`) {
				return s, fmt.Errorf("label pair %q: want name=\"value\"", rest)
			}
			name := rest[:eq]
			rest = rest[eq+2:]
			end := closingQuote(rest)
			if end < 0 {
				return s, fmt.Errorf("label %s: value not closed", name)
			}
			v, err := unescape(rest[:end], true)
			if err != nil {
				return s, fmt.Errorf("label %s: %w", name, err)
			}
			s.labels = append(s.labels, labelPair{name, v})
			rest = rest[end+1:]
			if r, ok := strings.CutPrefix(rest, ","); ok {
				rest = r
				continue
			}
			if r, ok := strings.CutPrefix(rest, "}"); ok {
				rest = r
				break
			}
			return s, fmt.Errorf("after label %s: want , or }", name)
		}
		if len(s.labels) == 0 {
			return s, fmt.Errorf("empty braces")
		}
	}
	v, ok := strings.CutPrefix(rest, " ")
	if !ok || strings.Contains(v, " ") {
		return s, fmt.Errorf("want one space then the value, and no timestamp")
	}
	var err error
	if s.value, err = parseValue(v); err != nil {
		return s, err
	}
	return s, nil
}

// parseValue reads a value and checks it is in the shortest form.
func parseValue(v string) (float64, error) {
	var f float64
	switch v {
	case "+Inf":
		f = math.Inf(1)
	case "-Inf":
		f = math.Inf(-1)
	case "NaN":
		return math.NaN(), nil
	default:
		var err error
		if f, err = strconv.ParseFloat(v, 64); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, fmt.Errorf("value %q is not a number", v)
		}
	}
	if canon := string(appendFloat(nil, f)); canon != v {
		return 0, fmt.Errorf("value %q written as %q would be", v, canon)
	}
	return f, nil
}

// closingQuote is the index of the first " not escaped in s, or -1.
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// unescape reads \\ and \n, and \" in a label value; any other
// backslash, a raw line feed, or a raw quote in a label value fails.
func unescape(s string, label bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			return "", fmt.Errorf("raw line feed")
		case c == '"' && label:
			return "", fmt.Errorf("raw double quote")
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", fmt.Errorf("backslash at the end")
		}
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case '"':
			if !label {
				return "", fmt.Errorf(`\" in a HELP text (0.0.4 writes the quote as it is)`)
			}
			b.WriteByte('"')
		default:
			return "", fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return b.String(), nil
}
