package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

var smallSpec = spec{seed: 7, maxPolicies: 300, dataSources: 1500, users: 300, requests: 1000}

// TestDifferential builds every engine at small policy counts and checks that each
// answers every request of the sample as the reference does.
func TestDifferential(t *testing.T) {
	w := newWorkload(smallSpec)
	for _, n := range []int{10, 100, 300} {
		var ds []decider
		for _, k := range engines {
			d, err := k.build(w, n)
			if err != nil {
				t.Fatalf("%s with %d policies: %v", k.name, n, err)
			}
			ds = append(ds, d)
		}
		if bad := differential(w, n, engines, ds); len(bad) > 0 {
			t.Fatalf("%d disagreements, first: %s", len(bad), bad[0])
		}
		allowed := 0
		for _, r := range w.reqs {
			if w.reference(n, r) {
				allowed++
			}
		}
		t.Logf("policies=%d: %d of %d requests allowed", n, allowed, len(w.reqs))
		if allowed == 0 || allowed == len(w.reqs) {
			t.Fatalf("policies=%d: the sample must mix allows and denies, %d of %d allowed", n, allowed, len(w.reqs))
		}
	}
}

// flipped answers like d except on request 3.
type flipped struct{ d decider }

func (f flipped) decide(i int) (bool, error) {
	got, err := f.d.decide(i)
	return got != (i == 3), err
}

// TestDifferentialCatchesDisagreement is the negative control: an engine that
// gets one request wrong is reported.
func TestDifferentialCatchesDisagreement(t *testing.T) {
	w := newWorkload(spec{seed: 1, maxPolicies: 20, dataSources: 50, users: 20, requests: 10})
	d, err := newCedar(w, 20)
	if err != nil {
		t.Fatal(err)
	}
	bad := differential(w, 20, []engineKind{{name: "broken"}}, []decider{flipped{d}})
	if len(bad) != 1 {
		t.Fatalf("want exactly one disagreement, got %d: %v", len(bad), bad)
	}
}

func TestTagPrefixes(t *testing.T) {
	w := &workload{dsTags: [][]string{{"dom3.t5.c1", "dom3.t5", "dom4.t9"}}}
	got := w.tagPrefixes(0)
	want := []string{"dom3", "dom3.t5", "dom3.t5.c1", "dom4", "dom4.t9"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	for _, args := range [][]string{{"-sizes", "0"}, {"-sizes", "x"}, {"-sizes", "20000"}, {"-rounds", "0"}, {"-nope"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
	o, err := parseFlags([]string{"-quick"}, io.Discard)
	if err != nil || len(o.sizes) != 2 || o.rounds != 1 {
		t.Fatalf("quick: %+v %v", o, err)
	}
}

// TestRunJSON runs the command end to end at 10 policies with tiny measurements.
func TestRunJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the full catalog")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-sizes", "10", "-rounds", "1", "-benchtime", "1ms", "-json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var r struct {
			Engine      string   `json:"engine"`
			Policies    int      `json:"policies"`
			NsPerOp     float64  `json:"nsPerOp"`
			AllocsPerOp *float64 `json:"allocsPerOp"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		if r.Policies != 10 || r.NsPerOp <= 0 || r.AllocsPerOp == nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		seen[r.Engine] = true
	}
	for _, k := range engines {
		if !seen[k.name] {
			t.Errorf("no line for %s", k.name)
		}
	}
}
