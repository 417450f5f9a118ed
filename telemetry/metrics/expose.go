package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// This file is the registry and the Prometheus text exposition format
// 0.0.4 (issue 20: the agent links no Prometheus client library, which
// cost 2.4 MB of resident memory for what a few hundred lines do). It
// writes what client_golang's promhttp wrote for the same families: sorted
// by name, series sorted by their label values, label pairs by label
// name, values formatted as strconv's 'g' with the shortest exact digits.

// ContentType is the Content-Type of a /metrics reply: the Prometheus
// text format 0.0.4.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Type is a metric family's type, as its # TYPE line names it.
type Type uint8

// The family types the agent exports.
const (
	Counter Type = iota + 1
	Gauge
	Histogram
	Summary
)

func (t Type) String() string {
	switch t {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	case Histogram:
		return "histogram"
	case Summary:
		return "summary"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Desc describes one metric family: its full name, HELP text, type, and
// the names of its labels in the order a collector passes their values.
// Register checks it.
type Desc struct {
	Name   string
	Help   string
	Type   Type
	Labels []string
}

// Bucket is one histogram bucket: observations at most UpperBound,
// counted cumulatively.
type Bucket struct {
	UpperBound float64
	Count      uint64
}

// Quantile is one quantile of a summary.
type Quantile struct {
	Quantile, Value float64
}

// Series is one time series of a family at a scrape. A counter or gauge
// has a Value; a histogram its Buckets (the +Inf bucket is Count, not
// listed), Sum and Count; a summary its Quantiles, Sum and Count.
type Series struct {
	LabelValues []string // in the order of Desc.Labels
	Value       float64
	Buckets     []Bucket
	Quantiles   []Quantile
	Sum         float64
	Count       uint64
}

// Family is one metric family as a scrape exposes it: series sorted, never
// empty.
type Family struct {
	*Desc
	Series []Series
}

// Collector reports metric families. Collect is called on every scrape
// from the HTTP goroutine, so it must be safe for concurrent use and quick.
type Collector interface {
	// Describe lists every family Collect may report.
	Describe() []*Desc
	// Collect reports the current series through s.
	Collect(s *Scrape)
}

// Scrape receives the series collectors report during one Gather.
type Scrape struct {
	series map[*Desc][]Series
	errs   []error
}

// Add reports a counter or gauge series of d.
func (s *Scrape) Add(d *Desc, v float64, labelValues ...string) {
	s.AddSeries(d, Series{LabelValues: slices.Clone(labelValues), Value: v})
}

// AddSeries reports one series of d (of any type); Gather checks it
// against d.
func (s *Scrape) AddSeries(d *Desc, x Series) {
	s.series[d] = append(s.series[d], x)
}

// Error reports that a collector could not read some of its values; the
// scrape goes on without them and the error is logged.
func (s *Scrape) Error(err error) { s.errs = append(s.errs, err) }

// Registry holds collectors and gathers their families. Its zero value is
// not usable: see NewRegistry.
type Registry struct {
	mu         sync.Mutex
	collectors []registered
	names      map[string]bool
}

type registered struct {
	c     Collector
	descs map[*Desc]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{names: map[string]bool{}}
}

// Register adds c after checking its families: valid names and labels, a
// type and a help text, no name registered before. The error names every
// problem; nothing of c is registered then.
func (r *Registry) Register(c Collector) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	descs := map[*Desc]bool{}
	seen := map[string]bool{}
	var errs []error
	for _, d := range c.Describe() {
		if err := d.check(); err != nil {
			errs = append(errs, err)
			continue
		}
		if r.names[d.Name] || seen[d.Name] {
			errs = append(errs, fmt.Errorf("metric %s registered twice", d.Name))
			continue
		}
		seen[d.Name] = true
		descs[d] = true
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for name := range seen {
		r.names[name] = true
	}
	r.collectors = append(r.collectors, registered{c: c, descs: descs})
	return nil
}

// check reports what is wrong with d.
func (d *Desc) check() error {
	if d == nil {
		return errors.New("nil metric description")
	}
	if !validName(d.Name, true) {
		return fmt.Errorf("metric name %q is not valid", d.Name)
	}
	if d.Type < Counter || d.Type > Summary {
		return fmt.Errorf("metric %s: no type", d.Name)
	}
	if d.Help == "" {
		return fmt.Errorf("metric %s: no help text", d.Name)
	}
	seen := map[string]bool{}
	for _, l := range d.Labels {
		switch {
		case !validName(l, false) || strings.HasPrefix(l, "__"):
			return fmt.Errorf("metric %s: label name %q is not valid", d.Name, l)
		case seen[l]:
			return fmt.Errorf("metric %s: label %s twice", d.Name, l)
		case l == "le" && d.Type == Histogram, l == "quantile" && d.Type == Summary:
			return fmt.Errorf("metric %s: label %s is reserved for its type", d.Name, l)
		}
		seen[l] = true
	}
	return nil
}

// validName reports whether s is a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)
// or, with metric false, a label name (the same without colons).
func validName(s string, metric bool) bool {
	if s == "" {
		return false
	}
	for i, c := range []byte(s) {
		ok := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' || metric && c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// Gather collects every registered collector and returns the families,
// sorted by name, each with its series sorted and at least one. A series
// that does not fit its family (a family its collector did not describe,
// the wrong number of label values, a label value not UTF-8, a second
// series with the same label values) is left out and named in the error, which joins those and the
// collectors' own errors; the families are complete but for those.
func (r *Registry) Gather() ([]Family, error) {
	r.mu.Lock()
	cs := slices.Clone(r.collectors)
	r.mu.Unlock()
	var fams []Family
	var errs []error
	for _, rc := range cs {
		s := &Scrape{series: map[*Desc][]Series{}}
		rc.c.Collect(s)
		errs = append(errs, s.errs...)
		for d, series := range s.series {
			if !rc.descs[d] {
				errs = append(errs, fmt.Errorf("metric %s collected but not described by its collector", d.Name))
				continue
			}
			f := Family{Desc: d}
			for _, x := range series {
				if len(x.LabelValues) != len(d.Labels) {
					errs = append(errs, fmt.Errorf("metric %s: %d label values for %d labels %v", d.Name, len(x.LabelValues), len(d.Labels), d.Labels))
					continue
				}
				if i := slices.IndexFunc(x.LabelValues, func(v string) bool { return !utf8.ValidString(v) }); i >= 0 {
					errs = append(errs, fmt.Errorf("metric %s: label %s: value %q not UTF-8", d.Name, d.Labels[i], x.LabelValues[i]))
					continue
				}
				f.Series = append(f.Series, x)
			}
			order := d.labelOrder()
			slices.SortStableFunc(f.Series, func(a, b Series) int { return compareSeries(order, a, b) })
			f.Series = slices.CompactFunc(f.Series, func(a, b Series) bool {
				if compareSeries(order, a, b) == 0 {
					errs = append(errs, fmt.Errorf("metric %s%s collected twice", d.Name, labelText(d, a.LabelValues)))
					return true
				}
				return false
			})
			if len(f.Series) > 0 {
				fams = append(fams, f)
			}
		}
	}
	slices.SortFunc(fams, func(a, b Family) int { return strings.Compare(a.Name, b.Name) })
	return fams, errors.Join(errs...)
}

// labelOrder is the indexes of d.Labels sorted by label name: the order
// label pairs are written in and series compared by.
func (d *Desc) labelOrder() []int {
	order := make([]int, len(d.Labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(d.Labels[a], d.Labels[b]) })
	return order
}

func compareSeries(order []int, a, b Series) int {
	for _, i := range order {
		if c := strings.Compare(a.LabelValues[i], b.LabelValues[i]); c != 0 {
			return c
		}
	}
	return 0
}

// labelText is {name="value",...} for an error message.
func labelText(d *Desc, values []string) string {
	var b bytes.Buffer
	writeLabels(&b, d, d.labelOrder(), values, "", 0)
	return b.String()
}

// WriteText writes fams in the text exposition format 0.0.4.
func WriteText(w io.Writer, fams []Family) error {
	var b bytes.Buffer
	for _, f := range fams {
		b.WriteString("# HELP ")
		b.WriteString(f.Name)
		b.WriteByte(' ')
		escapeHelp(&b, f.Help)
		b.WriteString("\n# TYPE ")
		b.WriteString(f.Name)
		b.WriteByte(' ')
		b.WriteString(f.Type.String())
		b.WriteByte('\n')
		order := f.labelOrder()
		for _, x := range f.Series {
			switch f.Type {
			case Histogram:
				for _, bk := range x.Buckets {
					writeSample(&b, f, "_bucket", order, x.LabelValues, "le", bk.UpperBound, float64(bk.Count))
				}
				writeSample(&b, f, "_bucket", order, x.LabelValues, "le", math.Inf(1), float64(x.Count))
				writeSample(&b, f, "_sum", order, x.LabelValues, "", 0, x.Sum)
				writeSample(&b, f, "_count", order, x.LabelValues, "", 0, float64(x.Count))
			case Summary:
				for _, q := range x.Quantiles {
					writeSample(&b, f, "", order, x.LabelValues, "quantile", q.Quantile, q.Value)
				}
				writeSample(&b, f, "_sum", order, x.LabelValues, "", 0, x.Sum)
				writeSample(&b, f, "_count", order, x.LabelValues, "", 0, float64(x.Count))
			default:
				writeSample(&b, f, "", order, x.LabelValues, "", 0, x.Value)
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeSample writes one line: name+suffix, the labels (and extra, a
// histogram's le or a summary's quantile, last), the value.
func writeSample(b *bytes.Buffer, f Family, suffix string, order []int, values []string, extra string, extraValue, v float64) {
	b.WriteString(f.Name)
	b.WriteString(suffix)
	writeLabels(b, f.Desc, order, values, extra, extraValue)
	b.WriteByte(' ')
	b.Write(appendFloat(b.AvailableBuffer(), v))
	b.WriteByte('\n')
}

func writeLabels(b *bytes.Buffer, d *Desc, order []int, values []string, extra string, extraValue float64) {
	if len(order) == 0 && extra == "" {
		return
	}
	b.WriteByte('{')
	for n, i := range order {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.Labels[i])
		b.WriteString(`="`)
		escapeLabelValue(b, values[i])
		b.WriteByte('"')
	}
	if extra != "" {
		if len(order) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(extra)
		b.WriteString(`="`)
		b.Write(appendFloat(b.AvailableBuffer(), extraValue))
		b.WriteByte('"')
	}
	b.WriteByte('}')
}

// appendFloat formats v as the Prometheus text format has it: +Inf, -Inf,
// NaN, else the shortest decimal that reads back as v, with an exponent
// from 1e21 up and below 1e-4 (strconv's 'g'); large integers such as
// 1e+06 are written with an exponent too, as client_golang did.
func appendFloat(dst []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(dst, '1')
	case v == 0: // and -0
		return append(dst, '0')
	case v == -1:
		return append(dst, "-1"...)
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "+Inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-Inf"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// escapeHelp escapes a HELP text: backslash and line feed. A double
// quote stays as it is in HELP (format 0.0.4).
func escapeHelp(b *bytes.Buffer, s string) { escape(b, s, false) }

// escapeLabelValue escapes a label value: backslash, line feed and double
// quote.
func escapeLabelValue(b *bytes.Buffer, s string) { escape(b, s, true) }

func escape(b *bytes.Buffer, s string, quote bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '"' && quote:
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
}

// Handler serves the families of r in the text format. A collector's
// error is logged on log and the rest served (a scrape never fails for
// one unreadable value).
func (r *Registry) Handler(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fams, err := r.Gather()
		if err != nil {
			log.Warn("metrics collection", "err", err)
		}
		var b bytes.Buffer
		if err := WriteText(&b, fams); err != nil {
			// A bytes.Buffer does not fail; this is for the linters.
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		if _, err := w.Write(b.Bytes()); err != nil {
			log.Debug("write /metrics reply", "err", err)
		}
	})
}
