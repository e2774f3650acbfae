// Command peers runs one decision workload through Tollgate, OPA (three encodings)
// and cedar-go in the same process and prints the machine it runs on, then ns/op,
// allocs/op and each engine's ratio to Tollgate.
//
// The workload: N policies of the form "users in group g_i may read data sources
// tagged t_i or a child tag of t_i", for N in 10, 100, 1000 and 10000, over one
// catalog, one directory and one sample of (user, data source) requests. Before
// timing, every engine must give the same answer as a plain Go reference on every
// request of the sample; any disagreement is printed and the command exits 1.
//
// Usage:
//
//	go -C benchmarks/peers run . [-sizes 10,100,1000,10000] [-rounds 5] [-benchtime 300ms] [-json] [-quick]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	sizes     []int
	rounds    int
	benchtime time.Duration
	json      bool
	engines   []string
	// cpuprofile names the file the measurements' CPU profile goes to ("": none).
	cpuprofile string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("peers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "10,100,1000,10000", "comma-separated policy counts")
	rounds := fs.Int("rounds", 5, "interleaved rounds; the median is reported")
	benchtime := fs.Duration("benchtime", 300*time.Millisecond, "target time of one measurement")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	quick := fs.Bool("quick", false, "CI mode: sizes 10,100, one round, 20ms measurements")
	only := fs.String("engines", "", "comma-separated engines to run (default all)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measurements (not of building the engines) to this file")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	o := options{rounds: *rounds, benchtime: *benchtime, json: *asJSON, cpuprofile: *cpuprofile}
	if *quick {
		*sizes, o.rounds, o.benchtime = "10,100", 1, 20*time.Millisecond
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > defaultSpec.maxPolicies {
			return o, fmt.Errorf("-sizes: %q is not a policy count in 1..%d", s, defaultSpec.maxPolicies)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.rounds < 1 {
		return o, fmt.Errorf("-rounds must be at least 1")
	}
	if *only != "" {
		o.engines = strings.Split(*only, ",")
	}
	return o, nil
}

// result is one engine at one policy count.
type result struct {
	Engine      string  `json:"engine"`
	Policies    int     `json:"policies"`
	NsPerOp     float64 `json:"nsPerOp"`
	AllocsPerOp float64 `json:"allocsPerOp"`
	// ratio is NsPerOp over Tollgate's at the same count (0 when Tollgate did not run).
	ratio float64
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "peers:", err)
		return 2
	}
	kinds := engines
	if o.engines != nil {
		kinds = nil
		for _, k := range engines {
			if slices.Contains(o.engines, k.name) {
				kinds = append(kinds, k)
			}
		}
	}
	w := newWorkload(defaultSpec)
	fmt.Fprintln(stderr, machine())
	logf := func(format string, a ...any) {
		if !o.json {
			fmt.Fprintf(stderr, format+"\n", a...)
		}
	}
	logf("workload: %d data sources, %d users, %d requests; sizes %v; %d rounds of %v on %d CPUs (GOMAXPROCS %d)",
		len(w.dsTags), len(w.userGroups), len(w.reqs), o.sizes, o.rounds, o.benchtime, runtime.NumCPU(), runtime.GOMAXPROCS(0))

	// Build every engine at every size, then check them all before timing anything.
	built := map[int][]decider{}
	for _, n := range o.sizes {
		for _, k := range kinds {
			start := time.Now()
			d, err := k.build(w, n)
			if err != nil {
				fmt.Fprintf(stderr, "peers: %s with %d policies: %v\n", k.name, n, err)
				return 1
			}
			logf("built %-11s policies=%-5d in %v", k.name, n, time.Since(start).Round(time.Millisecond))
			built[n] = append(built[n], d)
		}
		if bad := differential(w, n, kinds, built[n]); len(bad) > 0 {
			fmt.Fprintf(stderr, "peers: engines disagree with %d policies (%d requests); first ones:\n", n, len(bad))
			for _, line := range bad[:min(len(bad), 10)] {
				fmt.Fprintln(stderr, "  "+line)
			}
			return 1
		}
		allowed := 0
		for _, r := range w.reqs {
			if w.reference(n, r) {
				allowed++
			}
		}
		logf("policies=%d: all engines agree on %d requests (%d allowed)", n, len(w.reqs), allowed)
	}

	// Interleaved rounds: in each round every size and every engine is measured once,
	// the engine order rotating from round to round.
	samples := map[[2]int][]measurement{}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "peers: -cpuprofile:", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				fmt.Fprintln(stderr, "peers: -cpuprofile:", err)
			}
		}()
	}
	for round := range o.rounds {
		for _, n := range o.sizes {
			for j := range kinds {
				e := (j + round) % len(kinds)
				m, err := measure(built[n][e], w, n, o.benchtime)
				if err != nil {
					fmt.Fprintf(stderr, "peers: %s with %d policies: %v\n", kinds[e].name, n, err)
					return 1
				}
				samples[[2]int{n, e}] = append(samples[[2]int{n, e}], m)
			}
		}
		logf("round %d of %d done", round+1, o.rounds)
	}

	var results []result
	for _, n := range o.sizes {
		var base float64
		for e, k := range kinds {
			ns, allocs := median(samples[[2]int{n, e}])
			r := result{Engine: k.name, Policies: n, NsPerOp: ns, AllocsPerOp: allocs}
			if k.name == "tollgate" {
				base = ns
			}
			results = append(results, r)
		}
		for i := range results {
			if results[i].Policies == n && base > 0 {
				results[i].ratio = results[i].NsPerOp / base
			}
		}
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			if err := enc.Encode(r); err != nil {
				fmt.Fprintln(stderr, "peers:", err)
				return 1
			}
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\tpolicies\tns/op\tallocs/op\tx tollgate\t")
	for _, r := range results {
		ratio := "-"
		if r.ratio > 0 {
			ratio = strconv.FormatFloat(r.ratio, 'f', 1, 64)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", r.Engine, r.Policies,
			strconv.FormatFloat(r.NsPerOp, 'f', 0, 64), strconv.FormatFloat(r.AllocsPerOp, 'f', 1, 64), ratio)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintln(stderr, "peers:", err)
		return 1
	}
	return 0
}

// differential compares every engine with the reference on every request and
// returns a line per disagreement.
func differential(w *workload, n int, kinds []engineKind, ds []decider) []string {
	var bad []string
	for i, req := range w.reqs {
		want := w.reference(n, req)
		for e, d := range ds {
			got, err := d.decide(i)
			if err != nil || got != want {
				bad = append(bad, fmt.Sprintf("policies=%d request %d (user u%d groups %v, data source ds%d tags %v): %s says %v (err %v), reference %v",
					n, i, req[0], w.userGroups[req[0]], req[1], w.dsTags[req[1]], kinds[e].name, got, err, want))
			}
		}
	}
	return bad
}

type measurement struct{ ns, allocs float64 }

var sink bool

// measure times d over the sample like testing.B: it grows the iteration count
// until one run takes at least target, checking every answer against the reference.
func measure(d decider, w *workload, n int, target time.Duration) (measurement, error) {
	want := make([]bool, len(w.reqs))
	for i, r := range w.reqs {
		want[i] = w.reference(n, r)
	}
	runtime.GC()
	iters := 1
	for {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		for i := range iters {
			j := i % len(want)
			got, err := d.decide(j)
			if err != nil {
				return measurement{}, err
			}
			if got != want[j] {
				return measurement{}, fmt.Errorf("request %d: got %v, want %v", j, got, want[j])
			}
			sink = got
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		if elapsed >= target || iters >= 1e9 {
			return measurement{
				ns:     float64(elapsed.Nanoseconds()) / float64(iters),
				allocs: float64(after.Mallocs-before.Mallocs) / float64(iters),
			}, nil
		}
		per := max(elapsed.Nanoseconds()/int64(iters), 1)
		next := int(1.2 * float64(target.Nanoseconds()) / float64(per))
		iters = max(min(next, iters*100), iters+1)
	}
}

// median returns the median ns/op and allocs/op of the samples.
func median(ms []measurement) (float64, float64) {
	ns := make([]float64, len(ms))
	allocs := make([]float64, len(ms))
	for i, m := range ms {
		ns[i], allocs[i] = m.ns, m.allocs
	}
	slices.Sort(ns)
	slices.Sort(allocs)
	mid := func(s []float64) float64 {
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return mid(ns), mid(allocs)
}
