package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The go_* and process_* families, with the names, help texts and values
// client_golang's Go and process collectors (v1.25, default options)
// exported, so that dashboards and the load bench read them as before.

// goCollector reports the Go runtime: goroutines, threads, GC pauses and
// the memstats-like sizes, read from runtime/metrics (no stop of the
// world, unlike runtime.ReadMemStats).
type goCollector struct {
	mu      sync.Mutex // guards samples
	samples []rtmetrics.Sample
	index   map[string]int // runtime/metrics name: index in samples
}

// goMemstat is one go_memstats_* family: value adds up runtime/metrics
// values read through get.
type goMemstat struct {
	desc  *Desc
	value func(get func(name string) uint64) float64
}

func goDesc(name, help string, t Type) *Desc {
	return &Desc{Name: name, Help: help, Type: t}
}

var (
	descGoroutines = goDesc("go_goroutines", "Number of goroutines that currently exist.", Gauge)
	descThreads    = goDesc("go_threads", "Number of OS threads created.", Gauge)
	descGCDuration = goDesc("go_gc_duration_seconds", "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.", Summary)
	descLastGC     = goDesc("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", Gauge)
	descGoInfo     = &Desc{Name: "go_info", Help: "Information about the Go environment.", Type: Gauge, Labels: []string{"version"}}
	descGOGC       = goDesc("go_gc_gogc_percent", "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function. Sourced from /gc/gogc:percent.", Gauge)
	descMemLimit   = goDesc("go_gc_gomemlimit_bytes", "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes.", Gauge)
	descMaxProcs   = goDesc("go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute user-level Go code simultaneously. Sourced from /sched/gomaxprocs:threads.", Gauge)
)

// goScalars are the runtime/metrics values exported as they are.
var goScalars = []struct {
	desc *Desc
	name string
}{
	{descGOGC, "/gc/gogc:percent"},
	{descMemLimit, "/gc/gomemlimit:bytes"},
	{descMaxProcs, "/sched/gomaxprocs:threads"},
}

// sum adds up runtime/metrics values.
func sum(names ...string) func(get func(string) uint64) float64 {
	return func(get func(string) uint64) float64 {
		var n uint64
		for _, name := range names {
			n += get(name)
		}
		return float64(n)
	}
}

const (
	rmHeapObjects  = "/memory/classes/heap/objects:bytes"
	rmHeapUnused   = "/memory/classes/heap/unused:bytes"
	rmHeapReleased = "/memory/classes/heap/released:bytes"
	rmHeapFree     = "/memory/classes/heap/free:bytes"
	rmHeapStacks   = "/memory/classes/heap/stacks:bytes"
	rmTinyAllocs   = "/gc/heap/tiny/allocs:objects"
	rmMSpanInuse   = "/memory/classes/metadata/mspan/inuse:bytes"
	rmMCacheInuse  = "/memory/classes/metadata/mcache/inuse:bytes"
	memstatsPrefix = "go_memstats_"
)

// goMemstats are the go_memstats_* families, computed from runtime/metrics
// as client_golang did (its help texts say how).
var goMemstats = []goMemstat{
	{goDesc(memstatsPrefix+"alloc_bytes", "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.", Gauge),
		sum(rmHeapObjects)},
	{goDesc(memstatsPrefix+"alloc_bytes_total", "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.", Counter),
		sum("/gc/heap/allocs:bytes")},
	{goDesc(memstatsPrefix+"sys_bytes", "Number of bytes obtained from system. Equals to /memory/classes/total:byte.", Gauge),
		sum("/memory/classes/total:bytes")},
	{goDesc(memstatsPrefix+"mallocs_total", "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.", Counter),
		sum("/gc/heap/allocs:objects", rmTinyAllocs)},
	{goDesc(memstatsPrefix+"frees_total", "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.", Counter),
		sum("/gc/heap/frees:objects", rmTinyAllocs)},
	{goDesc(memstatsPrefix+"heap_alloc_bytes", "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.", Gauge),
		sum(rmHeapObjects)},
	{goDesc(memstatsPrefix+"heap_sys_bytes", "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", Gauge),
		sum(rmHeapObjects, rmHeapUnused, rmHeapReleased, rmHeapFree)},
	{goDesc(memstatsPrefix+"heap_idle_bytes", "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", Gauge),
		sum(rmHeapReleased, rmHeapFree)},
	{goDesc(memstatsPrefix+"heap_inuse_bytes", "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", Gauge),
		sum(rmHeapObjects, rmHeapUnused)},
	{goDesc(memstatsPrefix+"heap_released_bytes", "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.", Gauge),
		sum(rmHeapReleased)},
	{goDesc(memstatsPrefix+"heap_objects", "Number of currently allocated objects. Equals to /gc/heap/objects:objects.", Gauge),
		sum("/gc/heap/objects:objects")},
	{goDesc(memstatsPrefix+"stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.", Gauge),
		sum(rmHeapStacks)},
	{goDesc(memstatsPrefix+"stack_sys_bytes", "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.", Gauge),
		sum(rmHeapStacks, "/memory/classes/os-stacks:bytes")},
	{goDesc(memstatsPrefix+"mspan_inuse_bytes", "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.", Gauge),
		sum(rmMSpanInuse)},
	{goDesc(memstatsPrefix+"mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.", Gauge),
		sum(rmMSpanInuse, "/memory/classes/metadata/mspan/free:bytes")},
	{goDesc(memstatsPrefix+"mcache_inuse_bytes", "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.", Gauge),
		sum(rmMCacheInuse)},
	{goDesc(memstatsPrefix+"mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.", Gauge),
		sum(rmMCacheInuse, "/memory/classes/metadata/mcache/free:bytes")},
	{goDesc(memstatsPrefix+"buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.", Gauge),
		sum("/memory/classes/profiling/buckets:bytes")},
	{goDesc(memstatsPrefix+"gc_sys_bytes", "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.", Gauge),
		sum("/memory/classes/metadata/other:bytes")},
	{goDesc(memstatsPrefix+"other_sys_bytes", "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.", Gauge),
		sum("/memory/classes/other:bytes")},
	{goDesc(memstatsPrefix+"next_gc_bytes", "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.", Gauge),
		sum("/gc/heap/goal:bytes")},
}

// goMetricNames lists every runtime/metrics name the collector reads.
var goMetricNames = []string{
	"/gc/gogc:percent", "/gc/gomemlimit:bytes", "/sched/gomaxprocs:threads",
	"/gc/heap/allocs:bytes", "/gc/heap/allocs:objects", "/gc/heap/frees:objects", rmTinyAllocs,
	"/gc/heap/objects:objects", "/gc/heap/goal:bytes", "/memory/classes/total:bytes",
	rmHeapObjects, rmHeapUnused, rmHeapReleased, rmHeapFree, rmHeapStacks, "/memory/classes/os-stacks:bytes",
	rmMSpanInuse, "/memory/classes/metadata/mspan/free:bytes", rmMCacheInuse, "/memory/classes/metadata/mcache/free:bytes",
	"/memory/classes/profiling/buckets:bytes", "/memory/classes/metadata/other:bytes", "/memory/classes/other:bytes",
}

func newGoCollector() *goCollector {
	c := &goCollector{index: map[string]int{}}
	for i, name := range goMetricNames {
		c.samples = append(c.samples, rtmetrics.Sample{Name: name})
		c.index[name] = i
	}
	return c
}

func (c *goCollector) Describe() []*Desc {
	ds := []*Desc{descGoroutines, descThreads, descGCDuration, descLastGC, descGoInfo}
	for _, s := range goScalars {
		ds = append(ds, s.desc)
	}
	for _, m := range goMemstats {
		ds = append(ds, m.desc)
	}
	return ds
}

func (c *goCollector) Collect(s *Scrape) {
	s.Add(descGoroutines, float64(runtime.NumGoroutine()))
	threads, _ := runtime.ThreadCreateProfile(nil)
	s.Add(descThreads, float64(threads))

	var gc debug.GCStats
	gc.PauseQuantiles = make([]time.Duration, 5) // min, 25 %, 50 %, 75 %, max
	debug.ReadGCStats(&gc)
	x := Series{Sum: gc.PauseTotal.Seconds(), Count: uint64(gc.NumGC)}
	for i, q := range gc.PauseQuantiles {
		x.Quantiles = append(x.Quantiles, Quantile{Quantile: float64(i) / 4, Value: q.Seconds()})
	}
	s.AddSeries(descGCDuration, x)
	s.Add(descLastGC, float64(gc.LastGC.UnixNano())/1e9)
	s.Add(descGoInfo, 1, runtime.Version())

	c.mu.Lock()
	defer c.mu.Unlock()
	rtmetrics.Read(c.samples)
	get := func(name string) uint64 {
		if v := c.samples[c.index[name]].Value; v.Kind() == rtmetrics.KindUint64 {
			return v.Uint64()
		}
		return 0 // not in this Go release
	}
	for _, sc := range goScalars {
		s.Add(sc.desc, float64(get(sc.name)))
	}
	for _, m := range goMemstats {
		s.Add(m.desc, m.value(get))
	}
}

// processCollector reports the process from /proc/self (Linux).
type processCollector struct{}

// canCollectProcess reports whether /proc/self can be read here.
func canCollectProcess() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

func procDesc(name, help string, t Type) *Desc {
	return &Desc{Name: "process_" + name, Help: help, Type: t}
}

var (
	descCPU      = procDesc("cpu_seconds_total", "Total user and system CPU time spent in seconds.", Counter)
	descOpenFDs  = procDesc("open_fds", "Number of open file descriptors.", Gauge)
	descMaxFDs   = procDesc("max_fds", "Maximum number of open file descriptors.", Gauge)
	descVSize    = procDesc("virtual_memory_bytes", "Virtual memory size in bytes.", Gauge)
	descMaxVSize = procDesc("virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", Gauge)
	descRSS      = procDesc("resident_memory_bytes", "Resident memory size in bytes.", Gauge)
	descStart    = procDesc("start_time_seconds", "Start time of the process since unix epoch in seconds.", Gauge)
	descNetIn    = procDesc("network_receive_bytes_total", "Number of bytes received by the process over the network.", Counter)
	descNetOut   = procDesc("network_transmit_bytes_total", "Number of bytes sent by the process over the network.", Counter)
)

func (processCollector) Describe() []*Desc {
	return []*Desc{descCPU, descOpenFDs, descMaxFDs, descVSize, descMaxVSize, descRSS, descStart, descNetIn, descNetOut}
}

// userHZ is the kernel's clock tick for /proc times (USER_HZ, 100 on
// every Linux architecture the agent runs on).
const userHZ = 100

func (processCollector) Collect(s *Scrape) {
	if st, err := readProcStat(); err == nil {
		s.Add(descCPU, float64(st.utime+st.stime)/userHZ)
		s.Add(descVSize, float64(st.vsize))
		s.Add(descRSS, float64(st.rss*uint64(os.Getpagesize())))
		if boot, err := bootTime(); err == nil {
			s.Add(descStart, float64(boot)+float64(st.starttime)/userHZ)
		} else {
			s.Error(err)
		}
	} else {
		s.Error(err)
	}
	if n, err := openFDs(); err == nil {
		s.Add(descOpenFDs, float64(n))
	} else {
		s.Error(err)
	}
	if files, as, err := limits(); err == nil {
		s.Add(descMaxFDs, float64(files))
		s.Add(descMaxVSize, float64(as))
	} else {
		s.Error(err)
	}
	if in, out, err := netOctets(); err == nil {
		s.Add(descNetIn, in)
		s.Add(descNetOut, out)
	} else {
		s.Error(err)
	}
}

type procStat struct {
	utime, stime, starttime, vsize, rss uint64
}

// readProcStat reads /proc/self/stat (proc(5)): the fields after the
// command name in parentheses, which may itself hold spaces and ')'.
func readProcStat() (procStat, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, errors.New("/proc/self/stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): field n is f[n-3].
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("/proc/self/stat: %d fields after the command, want 22 or more", len(f))
	}
	var st procStat
	for _, x := range []struct {
		to    *uint64
		field int
	}{{&st.utime, 14}, {&st.stime, 15}, {&st.starttime, 22}, {&st.vsize, 23}, {&st.rss, 24}} {
		v, err := strconv.ParseUint(f[x.field-3], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("/proc/self/stat field %d: %w", x.field, err)
		}
		*x.to = v
	}
	return st, nil
}

// bootTime is the btime line of /proc/stat: the boot, in seconds since
// the epoch.
func bootTime() (uint64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errors.New("/proc/stat: no btime line")
}

// openFDs counts the entries of /proc/self/fd (the directory's own
// descriptor included, as client_golang counted).
func openFDs() (int, error) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	return len(names), err
}

// limits reads the soft limits on open files and address space from
// /proc/self/limits; "unlimited" is the largest uint64.
func limits() (files, addressSpace uint64, err error) {
	b, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return 0, 0, err
	}
	return parseLimits(string(b))
}

func parseLimits(s string) (files, addressSpace uint64, err error) {
	var found int
	for line := range strings.Lines(s) {
		var to *uint64
		rest, ok := strings.CutPrefix(line, "Max open files")
		if ok {
			to = &files
		} else if rest, ok = strings.CutPrefix(line, "Max address space"); ok {
			to = &addressSpace
		} else {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, 0, fmt.Errorf("/proc/self/limits: %q has no soft limit", strings.TrimSpace(line))
		}
		if f[0] == "unlimited" {
			*to = math.MaxUint64
		} else if *to, err = strconv.ParseUint(f[0], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc/self/limits: %w", err)
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("/proc/self/limits: no open files or address space line")
	}
	return files, addressSpace, nil
}

// netOctets reads InOctets and OutOctets of the IpExt lines of
// /proc/self/net/netstat: the bytes of the network namespace the process
// is in, as client_golang's process collector reported them.
func netOctets() (in, out float64, err error) {
	b, err := os.ReadFile("/proc/self/net/netstat")
	if err != nil {
		return 0, 0, err
	}
	return parseNetstat(string(b))
}

func parseNetstat(s string) (in, out float64, err error) {
	var header []string
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "IpExt:" {
			continue
		}
		if header == nil {
			header = f
			continue
		}
		var found int
		for i, name := range header {
			if i >= len(f) || name != "InOctets" && name != "OutOctets" {
				continue
			}
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return 0, 0, fmt.Errorf("/proc/self/net/netstat IpExt %s: %w", name, err)
			}
			if name == "InOctets" {
				in = v
			} else {
				out = v
			}
			found++
		}
		if found != 2 {
			return 0, 0, errors.New("/proc/self/net/netstat: no IpExt InOctets and OutOctets")
		}
		return in, out, nil
	}
	return 0, 0, errors.New("/proc/self/net/netstat: no IpExt lines")
}
