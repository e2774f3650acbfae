package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/scenario"
	"github.com/tollgate-dev/tollgate/model"
)

// demoBundle is the built-in demo organisation (a scenario file: its steps make the
// pending requests after setup; its expectations are checked by the tests).
//
//go:embed demo.yaml
var demoBundle []byte

func (c *cli) demo(args []string) int {
	const synopsis = "demo [-o text|json]"
	const text = `Loads the built-in demo organisation (15 data sources over 3 domains and 2 servers,
10 users in groups, the seed policies and policies of every circumstance and action
type, a manual WRITE grant, pending requests) and prints the policies applied to each
data source, the user x data source matrix of effective grants, and the reasons
behind a few interesting cells.`
	fs := newFlags("demo")
	out := outputFlag(fs)
	pos, err := c.parse(fs, synopsis, text, args)
	if err != nil {
		return exitParse(err)
	}
	if len(pos) > 0 {
		return c.usageError("demo", "demo takes no arguments, got %q", pos)
	}
	if err := checkOutput(*out); err != nil {
		return c.usageError("demo", "%v", err)
	}
	s, err := scenario.Parse(demoBundle)
	if err != nil {
		return c.inputError("demo", fmt.Errorf("the built-in demo bundle: %w", err))
	}
	s.File = "demo.yaml"
	l, err := setup(s)
	if err != nil {
		return c.inputError("demo", err)
	}
	return c.report(l, *out)
}

func (c *cli) eval(args []string) int {
	const synopsis = "eval BUNDLE [-o text|json]"
	const text = `Loads a bundle — a file, or a directory whose *.yaml, *.yml and *.json files are
fragments of one bundle — and prints what demo prints for it. A bundle's steps, if
any, run after setup; its expect section is ignored (use check for that).`
	fs := newFlags("eval")
	out := outputFlag(fs)
	pos, err := c.parse(fs, synopsis, text, args)
	if err != nil {
		return exitParse(err)
	}
	if len(pos) != 1 {
		return c.usageError("eval", "name exactly one bundle file or directory")
	}
	if err := checkOutput(*out); err != nil {
		return c.usageError("eval", "%v", err)
	}
	l, err := load(pos[0])
	if err != nil {
		return c.inputError("eval", err)
	}
	return c.report(l, *out)
}

func (c *cli) decide(args []string) int {
	const synopsis = "decide BUNDLE --user ID --data-source ID [--level READ|WRITE] [-o text|json]"
	const text = `Prints one user's decision on one data source with its reasons. Exit status 1
when the user does not hold --level (default READ) there.`
	fs := newFlags("decide")
	out := outputFlag(fs)
	user := fs.Int64("user", 0, "profile id of the user (required)")
	ds := fs.Int64("data-source", 0, "data source id (required)")
	level := fs.String("level", "READ", "the level that must be held: READ or WRITE")
	pos, err := c.parse(fs, synopsis, text, args)
	if err != nil {
		return exitParse(err)
	}
	switch {
	case len(pos) != 1:
		return c.usageError("decide", "name exactly one bundle file or directory")
	case *user == 0 || *ds == 0:
		return c.usageError("decide", "--user and --data-source are required")
	case *level != "READ" && *level != "WRITE":
		return c.usageError("decide", "--level must be READ or WRITE, got %q", *level)
	}
	if err := checkOutput(*out); err != nil {
		return c.usageError("decide", "%v", err)
	}
	l, err := load(pos[0])
	if err != nil {
		return c.inputError("decide", err)
	}
	snap := l.e.Snapshot()
	if _, ok := snap.User(*user); !ok {
		return c.inputError("decide", fmt.Errorf("no user %d in %s", *user, pos[0]))
	}
	if _, ok := snap.DataSource(*ds); !ok {
		return c.inputError("decide", fmt.Errorf("no data source %d in %s", *ds, pos[0]))
	}
	cell := newCell(snap, *user, *ds)
	if *out == "json" {
		if err := writeJSON(c.stdout, cell); err != nil {
			return c.inputError("decide", err)
		}
	} else {
		writeCell(c.stdout, snap, cell, "")
	}
	want := engine.LevelRead
	if *level == "WRITE" {
		want = engine.LevelWrite
	}
	if cell.grant < want {
		return exitFail
	}
	return exitOK
}

// ---- the report ----

// cellJSON is one decision in JSON output.
type cellJSON struct {
	User         int64    `json:"user"`
	DataSource   int64    `json:"dataSource"`
	Grant        string   `json:"grant"`
	Read         string   `json:"read"`
	Write        string   `json:"write"`
	Discoverable bool     `json:"discoverable"`
	Reasons      []string `json:"reasons"`
	grant        engine.Level
	d            engine.Decision
}

func newCell(snap *engine.Snapshot, user, ds int64) cellJSON {
	d := snap.Decide(user, ds)
	c := cellJSON{User: user, DataSource: ds, Grant: d.Grant.String(), Read: d.Read.String(),
		Write: d.Write.String(), Discoverable: d.Discoverable, Reasons: []string{}, grant: d.Grant, d: d}
	for _, r := range d.Reasons() {
		c.Reasons = append(c.Reasons, scenario.FormatReason(r))
	}
	return c
}

type appliedJSON struct {
	ID   int64  `json:"id"`
	Key  string `json:"policyKey"`
	Type string `json:"type"`
}

type dataSourceJSON struct {
	ID            int64         `json:"id"`
	Name          string        `json:"name"`
	Server        string        `json:"server,omitempty"`
	Domains       []string      `json:"domains"`
	Tags          []string      `json:"tags"`
	Owners        []int64       `json:"owners"`
	Applied       []appliedJSON `json:"applied"`
	Indeterminate string        `json:"indeterminate,omitempty"`
}

type userJSON struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Groups      []string `json:"groups"`
	Permissions []string `json:"permissions"`
}

type reportJSON struct {
	Name        string           `json:"name"`
	Now         time.Time        `json:"now"`
	DataSources []dataSourceJSON `json:"dataSources"`
	Users       []userJSON       `json:"users"`
	Decisions   []cellJSON       `json:"decisions"`
	Highlights  []cellJSON       `json:"highlights"`
}

func buildReport(l *loaded) (*reportJSON, error) {
	snap := l.e.Snapshot()
	r := &reportJSON{Name: l.s.Name, Now: l.e.Now().UTC()}
	for _, id := range snap.DataSourceIDs() {
		ds, _ := snap.DataSource(id)
		dj := dataSourceJSON{ID: id, Name: ds.Name, Server: ds.Server, Tags: nonNil(ds.Tags),
			Owners: nonNil(ds.Owners), Domains: []string{}, Applied: []appliedJSON{}}
		for _, d := range ds.Domains {
			dj.Domains = append(dj.Domains, cmpOr(d.Name, d.ID))
		}
		ps, err := snap.AppliedPolicies(id)
		if err != nil {
			return nil, fmt.Errorf("data source %d: %w", id, err)
		}
		for _, p := range ps {
			dj.Applied = append(dj.Applied, appliedJSON{ID: p.ID, Key: p.Key, Type: string(p.Type)})
		}
		if err := snap.Indeterminate(id); err != nil {
			dj.Indeterminate = err.Error()
		}
		r.DataSources = append(r.DataSources, dj)
	}
	for _, id := range snap.UserIDs() {
		u, _ := snap.User(id)
		uj := userJSON{ID: id, Name: u.Name, Groups: nonNil(u.Groups), Permissions: []string{}}
		for _, p := range u.Permissions {
			uj.Permissions = append(uj.Permissions, string(p))
		}
		r.Users = append(r.Users, uj)
	}
	for _, u := range r.Users {
		for _, ds := range r.DataSources {
			r.Decisions = append(r.Decisions, newCell(snap, u.ID, ds.ID))
		}
	}
	r.Highlights = highlights(r.Decisions)
	return r, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// highlights picks the first cell of each interesting kind, in matrix order.
func highlights(cells []cellJSON) []cellJSON {
	kinds := []func(c *cellJSON) bool{
		func(c *cellJSON) bool { return c.d.Read == engine.StateOwner },
		func(c *cellJSON) bool {
			return c.grant == engine.LevelWrite && hasReason(c, engine.ReasonRecord, model.Write)
		},
		func(c *cellJSON) bool { return c.grant == engine.LevelWrite && !hasReason(c, engine.ReasonRecord, "") },
		func(c *cellJSON) bool { return c.d.Read == engine.StatePending || c.d.Write == engine.StatePending },
		func(c *cellJSON) bool { return c.d.Read == engine.StateRequestable },
		func(c *cellJSON) bool { return c.grant == engine.LevelRead && c.d.Write == engine.StateEligible },
		func(c *cellJSON) bool { return c.grant == engine.LevelNone && c.d.Discoverable },
		func(c *cellJSON) bool { return hasReason(c, engine.ReasonIndeterminate, "") },
		func(c *cellJSON) bool { return c.grant == engine.LevelNone && !c.d.Discoverable },
	}
	var out []cellJSON
	taken := map[[2]int64]bool{}
	for _, k := range kinds {
		for i := range cells {
			c := &cells[i]
			if k(c) && !taken[[2]int64{c.User, c.DataSource}] {
				taken[[2]int64{c.User, c.DataSource}] = true
				out = append(out, *c)
				break
			}
		}
	}
	return out
}

func hasReason(c *cellJSON, kind engine.ReasonKind, level model.AccessGrant) bool {
	for _, r := range c.d.Reasons() {
		if r.Kind == kind && (level == "" || r.Level == level) {
			return true
		}
	}
	return false
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) report(l *loaded, format string) int {
	r, err := buildReport(l)
	if err != nil {
		return c.inputError("eval", err)
	}
	if format == "json" {
		if err := writeJSON(c.stdout, r); err != nil {
			return c.inputError("eval", err)
		}
		return exitOK
	}
	writeReport(c.stdout, l.e.Snapshot(), r, l.s.Description)
	return exitOK
}

// cellText renders a matrix cell: the grant and markers for the level above it.
func cellText(c *cellJSON) string {
	var m strings.Builder
	if c.d.Read == engine.StateOwner {
		m.WriteString("o")
	}
	next := c.d.Read
	if c.grant >= engine.LevelRead {
		next = c.d.Write
	}
	if c.grant < engine.LevelWrite {
		switch next {
		case engine.StatePending:
			m.WriteString("*")
		case engine.StateRequestable:
			m.WriteString("?")
		case engine.StateEligible:
			m.WriteString("+")
		}
	}
	return c.Grant + m.String()
}

func writeReport(w io.Writer, snap *engine.Snapshot, r *reportJSON, description string) {
	fmt.Fprintf(w, "%s (clock %s)\n", r.Name, r.Now.Format(time.RFC3339))
	if d := strings.TrimSpace(description); d != "" {
		for _, line := range strings.Split(d, "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}

	fmt.Fprintf(w, "\nPolicies applied to each data source\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  id\tdata source\tserver\tdomains\tapplied policies")
	for _, ds := range r.DataSources {
		keys := make([]string, 0, len(ds.Applied))
		for _, p := range ds.Applied {
			k := p.Key
			if p.Type == string(model.PolicyData) {
				k += " (data)"
			}
			keys = append(keys, k)
		}
		applied := strings.Join(keys, ", ")
		if applied == "" {
			applied = "-"
		}
		if ds.Indeterminate != "" {
			applied += "  [INDETERMINATE: " + ds.Indeterminate + "]"
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", ds.ID, ds.Name, cmpOr(ds.Server, "-"),
			cmpOr(strings.Join(ds.Domains, ","), "-"), applied)
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nEffective grants (rows: users, columns: data source ids)\n")
	fmt.Fprintf(w, "  NONE / READ / WRITE; markers: o owner, * request pending, ? may request (approval),\n")
	fmt.Fprintf(w, "  + eligible to subscribe now — for the level above the grant\n\n")
	tw = tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	header := []string{"user"}
	for _, ds := range r.DataSources {
		header = append(header, strconv.FormatInt(ds.ID, 10))
	}
	width := len("user")
	for _, u := range r.Users {
		width = max(width, len(fmt.Sprintf("%d %s", u.ID, u.Name)))
	}
	header[0] = fmt.Sprintf("%-*s", width, "user")
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	i := 0
	for _, u := range r.Users {
		row := []string{fmt.Sprintf("%-*s", width, fmt.Sprintf("%d %s", u.ID, u.Name))}
		for range r.DataSources {
			row = append(row, cellText(&r.Decisions[i]))
			i++
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	_ = tw.Flush()

	if len(r.Highlights) > 0 {
		fmt.Fprintf(w, "\nWhy (a few interesting cells)\n")
		for i := range r.Highlights {
			fmt.Fprintln(w)
			writeCell(w, snap, r.Highlights[i], "  ")
		}
	}
}

func writeCell(w io.Writer, snap *engine.Snapshot, c cellJSON, indent string) {
	uname, dsname := "", ""
	if u, ok := snap.User(c.User); ok {
		uname = u.Name
	}
	if ds, ok := snap.DataSource(c.DataSource); ok {
		dsname = ds.Name
	}
	fmt.Fprintf(w, "%suser %d %s on data source %d %s: %s (read %s, write %s, discoverable %t)\n",
		indent, c.User, uname, c.DataSource, dsname, c.Grant, c.Read, c.Write, c.Discoverable)
	reasons := slices.Clone(c.Reasons)
	if len(reasons) == 0 {
		reasons = []string{"no reasons given"}
	}
	for _, r := range reasons {
		fmt.Fprintf(w, "%s  - %s\n", indent, r)
	}
}
