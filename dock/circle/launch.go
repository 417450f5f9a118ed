package circle

import (
	"math"
	"slices"
	"sync"
	"time"
)

// LaunchEstimator keeps the last N measured launch times (dispatch to
// take-off) and estimates the launch time as their Quantile (nearest
// rank), falling back to the configured value until MinSamples were
// measured. It is safe for concurrent use; the zero value is not usable,
// use NewLaunchEstimator.
type LaunchEstimator struct {
	mu         sync.Mutex
	configured time.Duration
	n          int
	minSamples int
	quantile   float64
	samples    []time.Duration // ring, oldest first
}

// LaunchOptions configure a LaunchEstimator. Zero fields take the defaults
// named.
type LaunchOptions struct {
	Configured time.Duration // used until MinSamples; required
	N          int           // window size; 0 means 20
	MinSamples int           // 0 means 5
	Quantile   float64       // in (0, 1]; 0 means 0.9
}

// NewLaunchEstimator returns an estimator seeded with samples (e.g. those
// persisted before a restart, oldest first; only the last N are kept).
func NewLaunchEstimator(opts LaunchOptions, samples ...time.Duration) *LaunchEstimator {
	if opts.N <= 0 {
		opts.N = 20
	}
	if opts.MinSamples <= 0 {
		opts.MinSamples = 5
	}
	if !(opts.Quantile > 0 && opts.Quantile <= 1) {
		opts.Quantile = 0.9
	}
	e := &LaunchEstimator{configured: opts.Configured, n: opts.N, minSamples: min(opts.MinSamples, opts.N), quantile: opts.Quantile}
	for _, s := range samples {
		e.Add(s)
	}
	return e
}

// Add records one measured launch time; non-positive values are ignored.
func (e *LaunchEstimator) Add(d time.Duration) {
	if d <= 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.samples = append(e.samples, d)
	if len(e.samples) > e.n {
		e.samples = slices.Delete(e.samples, 0, len(e.samples)-e.n)
	}
}

// Samples returns a copy of the kept samples, oldest first, for persisting.
func (e *LaunchEstimator) Samples() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.samples)
}

// Estimate returns the launch time to plan with: the configured value with
// fewer than MinSamples measurements, else the Quantile of the kept ones
// (nearest rank: the smallest sample at or above that fraction).
func (e *LaunchEstimator) Estimate() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.samples) < e.minSamples {
		return e.configured
	}
	s := slices.Clone(e.samples)
	slices.Sort(s)
	rank := int(math.Ceil(float64(len(s))*e.quantile-1e-9)) - 1
	return s[min(max(rank, 0), len(s)-1)]
}
