package metrics

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// maxLabels is the most labels a counterVec takes: its series are keyed
// by a fixed array so that finding a seen one does not allocate.
const maxLabels = 3

type labelKey [maxLabels]string

// counterVec is a counter family with labels, counted in place. Every
// series it has seen is exposed, from 0 on.
type counterVec struct {
	desc *Desc
	mu   sync.RWMutex
	m    map[labelKey]*atomic.Uint64
}

func newCounterVec(name, help string, labels ...string) *counterVec {
	if len(labels) > maxLabels {
		panic("metrics: counterVec " + name + " has more than maxLabels labels")
	}
	return &counterVec{desc: &Desc{Name: namespace + "_" + name, Help: help, Type: Counter, Labels: labels},
		m: map[labelKey]*atomic.Uint64{}}
}

// with returns the series of values (one per label), creating it at 0.
// A wrong number of values is a programmer error and panics.
func (v *counterVec) with(values ...string) *atomic.Uint64 {
	if len(values) != len(v.desc.Labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", v.desc.Name, len(v.desc.Labels), len(values)))
	}
	var k labelKey
	copy(k[:], values)
	v.mu.RLock()
	c := v.m[k]
	v.mu.RUnlock()
	if c != nil {
		return c
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c = v.m[k]; c == nil {
		c = new(atomic.Uint64)
		v.m[k] = c
	}
	return c
}

// inc adds one to the series of values.
func (v *counterVec) inc(values ...string) { v.with(values...).Add(1) }

func (v *counterVec) Describe() []*Desc { return []*Desc{v.desc} }

func (v *counterVec) Collect(s *Scrape) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	n := len(v.desc.Labels)
	for k, c := range v.m {
		s.Add(v.desc, float64(c.Load()), k[:n]...)
	}
}

// histogram is a histogram without labels. Observations are rare (one
// per sortie), so a mutex keeps the buckets, sum and count of a scrape
// consistent.
type histogram struct {
	desc   *Desc
	bounds []float64 // upper bounds, increasing, without +Inf

	mu     sync.Mutex
	counts []uint64 // per bound, not cumulative
	count  uint64
	sum    float64
}

// newHistogram checks bounds: increasing, no NaN; a last +Inf is dropped
// (the +Inf bucket is always there).
func newHistogram(name, help string, bounds []float64) (*histogram, error) {
	if n := len(bounds); n > 0 && math.IsInf(bounds[n-1], 1) {
		bounds = bounds[:n-1]
	}
	for i, b := range bounds {
		if math.IsNaN(b) || i > 0 && b <= bounds[i-1] {
			return nil, fmt.Errorf("histogram %s_%s: buckets %v not strictly increasing", namespace, name, bounds)
		}
	}
	return &histogram{desc: &Desc{Name: namespace + "_" + name, Help: help, Type: Histogram},
		bounds: slices.Clone(bounds), counts: make([]uint64, len(bounds))}, nil
}

// observe counts v in the first bucket whose upper bound is at least v.
func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v)
	h.mu.Lock()
	defer h.mu.Unlock()
	if i < len(h.counts) {
		h.counts[i]++
	}
	h.count++
	h.sum += v
}

func (h *histogram) Describe() []*Desc { return []*Desc{h.desc} }

func (h *histogram) Collect(s *Scrape) {
	h.mu.Lock()
	defer h.mu.Unlock()
	x := Series{Buckets: make([]Bucket, len(h.bounds)), Count: h.count, Sum: h.sum}
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		x.Buckets[i] = Bucket{UpperBound: b, Count: cum}
	}
	s.AddSeries(h.desc, x)
}

// valueFunc is a counter or gauge without labels read at each scrape.
type valueFunc struct {
	desc *Desc
	f    func() float64
}

func gaugeFunc(name, help string, f func() float64) Collector {
	return valueFunc{&Desc{Name: namespace + "_" + name, Help: help, Type: Gauge}, f}
}

func counterFunc(name, help string, f func() float64) Collector {
	return valueFunc{&Desc{Name: namespace + "_" + name, Help: help, Type: Counter}, f}
}

func (v valueFunc) Describe() []*Desc { return []*Desc{v.desc} }
func (v valueFunc) Collect(s *Scrape) { s.Add(v.desc, v.f()) }

// constant is one series that never changes, such as build_info.
type constant struct {
	desc        *Desc
	v           float64
	labelValues []string
}

func (c constant) Describe() []*Desc { return []*Desc{c.desc} }
func (c constant) Collect(s *Scrape) { s.Add(c.desc, c.v, c.labelValues...) }
