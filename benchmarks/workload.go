package benchmarks

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// Config sizes a workload. Generate with the same Config always yields the same
// Workload. Zero fields take the defaults documented on each.
type Config struct {
	// Seed selects the workload.
	Seed int64
	// DataSources is the number of data sources (ids 1..DataSources).
	DataSources int
	// Policies is the number of global policies. It also sizes the tag vocabulary
	// (max(Policies, 16) leaf tags): policy i targets leaf tag i or a parent of it.
	Policies int
	// Users is the number of users (ids 1..Users).
	Users int
	// Groups is the number of groups (ids 1..Groups); 0 means max(10, Users/20).
	Groups int
	// Domains is the number of domains; 0 means 3 + DataSources/50,000, at most 40.
	Domains int
	// Servers is the number of database servers; 0 means 2 + DataSources/100,000,
	// at most 20.
	Servers int
	// Start is the beginning of the year over which data sources were created;
	// zero means 2025-01-01T00:00:00Z.
	Start time.Time
}

// Workload is a generated directory, catalog and policy set, ready to load into an
// engine. Its values are shared with the engine it is loaded into and must not be
// modified afterwards.
type Workload struct {
	// Config is the configuration with every default filled in.
	Config Config
	// Groups are the groups, ids 1..len(Groups).
	Groups []model.Group
	// Users are the users, ids 1..len(Users).
	Users []model.User
	// DataSources are the data sources, ids 1..len(DataSources).
	DataSources []model.DataSource
	// Policies are the global policies in creation order (v2 dialect, unique keys);
	// an engine loaded empty gives them ids 1..len(Policies).
	Policies []*model.Policy

	vocab         []string // leaf tags, depth 4
	domains       []model.Domain
	servers       []string
	ownerSelected []string // keys of the owner-selected policies
}

// Request is one (user, data source) pair to decide.
type Request struct {
	UserID       int64
	DataSourceID int64
}

// PolicyKind names the shape of a generated policy.
type PolicyKind uint8

// The policy kinds, in the order of their share of the generated policies.
const (
	// KindTag: entitlements (groups) on a tags circumstance.
	KindTag PolicyKind = iota
	// KindColumnTag: entitlements (groups) on a columnTags circumstance.
	KindColumnTag
	// KindAttribute: entitlements on user attributes (and sometimes a group).
	KindAttribute
	// KindAdvanced: entitlements with an advanced DSL expression.
	KindAdvanced
	// KindWrite: entitlements granting WRITE.
	KindWrite
	// KindAnyone: the anyone action type.
	KindAnyone
	// KindApproval: the approval action type.
	KindApproval
	// KindManual: the manual action type.
	KindManual
	// KindRegex: a tag AND a columnRegex circumstance.
	KindRegex
	// KindTime: a tag AND a time circumstance.
	KindTime
	// KindDomain: a tag AND a domains circumstance.
	KindDomain
	// KindServer: a tag AND a server circumstance.
	KindServer
	// KindTagOrColumnTag: a tag OR a column tag (circumstanceOperator any).
	KindTagOrColumnTag
	// KindData: a data policy (type data).
	KindData
	// KindOwnerSelected: an owner-selected circumstance.
	KindOwnerSelected
	numKinds
)

var kindNames = [numKinds]string{
	"tag", "columnTag", "attribute", "advanced", "write", "anyone", "approval",
	"manual", "regex", "time", "domain", "server", "tagOrColumnTag", "data", "ownerSelected",
}

// String returns the kind's name.
func (k PolicyKind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "PolicyKind(" + strconv.Itoa(int(k)) + ")"
}

// kindPerMille is each kind's share of the policies, in thousandths.
var kindPerMille = [numKinds]int{
	KindTag: 380, KindColumnTag: 200, KindAttribute: 50, KindAdvanced: 25, KindWrite: 60,
	KindAnyone: 45, KindApproval: 50, KindManual: 25, KindRegex: 35, KindTime: 30,
	KindDomain: 30, KindServer: 25, KindTagOrColumnTag: 20, KindData: 15, KindOwnerSelected: 10,
}

// Random streams: each entity is generated from its own stream and index, so an
// entity does not depend on how many others there are.
const (
	streamGroup uint64 = iota + 1
	streamUser
	streamPolicy
	streamDataSource
	streamRequest
)

// rng is a small PCG-based generator that does not allocate.
type rng struct{ p rand.PCG }

func newRNG(seed int64, stream uint64, index int64) rng {
	return rng{p: *rand.NewPCG(uint64(seed), stream<<48^uint64(index))}
}

// intn returns a value in [0, n); n must be > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.p.Uint64(), uint64(n))
	return int(hi)
}

// permille reports true with probability n/1000.
func (r *rng) permille(n int) bool { return r.intn(1000) < n }

// Vocabulary of the hierarchical tags: root.l2.l3.l4 (l4 gets a numeric suffix once
// the 12*16*16*16 combinations run out).
var (
	tagRoots = [...]string{"PII", "PHI", "Finance", "HR", "Sales", "Marketing", "Legal",
		"Engineering", "Security", "Customer", "Product", "Operations"}
	tagL2 = [16]string{"Contact", "Identity", "Account", "Payment", "Health", "Employment",
		"Location", "Behavior", "Device", "Transaction", "Contract", "Research", "Support",
		"Risk", "Audit", "Inventory"}
	tagL3 = [16]string{"Personal", "Business", "Internal", "External", "Primary", "Secondary",
		"Historical", "Current", "Regional", "Global", "Derived", "Raw", "Aggregated",
		"Sensitive", "Restricted", "Public"}
	tagL4 = [16]string{"Email", "Phone", "Address", "Name", "BirthDate", "NationalID",
		"CardNumber", "IBAN", "Salary", "Diagnosis", "IPAddress", "Coordinates", "Score",
		"Notes", "Identifier", "Amount"}
)

// leafTag returns vocabulary tag k (depth 4).
func leafTag(k int) string {
	nr := len(tagRoots)
	s := tagRoots[k%nr] + "." + tagL2[(k/nr)%16] + "." + tagL3[(k/(nr*16))%16] + "."
	c := k / (nr * 16 * 16)
	s += tagL4[c%16]
	if c >= 16 {
		s += strconv.Itoa(c / 16)
	}
	return s
}

// ancestor strips up trailing segments from tag (never below depth 1). The result
// shares tag's memory.
func ancestor(tag string, up int) string {
	for ; up > 0; up-- {
		i := len(tag) - 1
		for i >= 0 && tag[i] != '.' {
			i--
		}
		if i < 0 {
			return tag
		}
		tag = tag[:i]
	}
	return tag
}

var (
	columnNames = [...]string{"email", "phone", "ssn", "first_name", "last_name",
		"birth_date", "address", "city", "zip", "country", "customer_id", "account_id",
		"order_id", "amount", "currency", "card_number", "iban", "salary", "department",
		"diagnosis", "ip_address", "latitude", "longitude", "created_at", "updated_at",
		"status", "score", "notes", "product_id", "quantity", "price", "region",
		"employee_id", "manager_id", "title", "contract_id", "risk_score", "device_id",
		"session_id", "event_type"}
	columnRegexes = [...]string{"^email", "ssn$", "phone", "_id$", "^(first|last)_name$",
		"card", "^birth", "salary|iban"}
	databases   = [...]string{"analytics", "sales", "hr", "finance", "crm", "warehouse"}
	schemas     = [...]string{"public", "staging", "raw", "curated"}
	domainNames = [...]string{"Marketing", "Finance", "Human Resources", "Sales",
		"Engineering", "Legal", "Operations", "Research", "Support", "Security"}

	attrDepartment = [...]string{"Finance", "Sales", "Marketing", "Engineering", "HR",
		"Legal", "Operations", "Research"}
	attrClearance = [...]string{"Public", "Internal", "Confidential", "Restricted"}
	attrRegion    = [...]string{"NA", "EMEA", "APAC", "LATAM"}
	attrCountry   = [...]string{"US", "CA", "DE", "FR", "GB", "JP", "IN", "BR"}

	permGovernance = []model.Permission{model.Governance, model.CreateDataSource}
	permUserAdmin  = []model.Permission{model.UserAdmin}
	permAudit      = []model.Permission{model.Audit}
	permCreate     = []model.Permission{model.CreateDataSource}

	descriptions = [...]string{
		"Access is limited to the teams that own this data.",
		"Regulated data: access needs a reason.",
		"Shared with the analysts of the region.",
		"Write access for the pipeline operators.",
	}
	dataActions = json.RawMessage(`{"rules":[{"type":"masking","config":{"fields":[{"name":"email"}],"type":"Consistent Value"}}]}`)
)

// one returns a one-element slice of arr[i] that cannot be appended to in place.
func one(arr []string, i int) []string { return arr[i : i+1 : i+1] }

// slab hands out small slices cut from large shared backing arrays, so a million
// data sources cost a few thousand allocations.
type slab[T any] struct {
	buf   []T
	chunk int
}

func (s *slab[T]) take(n int) []T {
	if n == 0 {
		return nil
	}
	if len(s.buf) < n {
		s.buf = make([]T, max(n, s.chunk))
	}
	out := s.buf[:n:n]
	s.buf = s.buf[n:]
	return out
}

// dsAlloc holds the slabs data sources are cut from.
type dsAlloc struct {
	strs    slab[string]
	cols    slab[model.Column]
	owners  slab[int64]
	domains slab[model.Domain]
}

func withDefaults(cfg Config) Config {
	if cfg.Groups == 0 {
		cfg.Groups = max(10, cfg.Users/20)
	}
	if cfg.Domains == 0 {
		cfg.Domains = min(3+cfg.DataSources/50_000, 40)
	}
	if cfg.Servers == 0 {
		cfg.Servers = min(2+cfg.DataSources/100_000, 20)
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return cfg
}

// Generate builds the workload of cfg. It is deterministic: the same cfg yields an
// equal Workload. A million data sources take well under a few seconds.
func Generate(cfg Config) *Workload {
	cfg = withDefaults(cfg)
	w := &Workload{Config: cfg}
	nv := max(cfg.Policies, 16)
	w.vocab = make([]string, nv)
	for k := range w.vocab {
		w.vocab[k] = leafTag(k)
	}
	w.domains = make([]model.Domain, cfg.Domains)
	for i := range w.domains {
		w.domains[i] = domain(i)
	}
	w.servers = make([]string, cfg.Servers)
	for i := range w.servers {
		w.servers[i] = "db" + strconv.Itoa(i+1) + ".corp.example.com"
	}

	w.Groups = make([]model.Group, cfg.Groups)
	for i := range w.Groups {
		w.Groups[i] = w.group(int64(i + 1))
	}

	w.Users = make([]model.User, cfg.Users)
	gs := &slab[string]{chunk: 4096}
	for i := range w.Users {
		w.Users[i] = w.user(int64(i+1), gs)
	}

	w.Policies = make([]*model.Policy, cfg.Policies)
	for i := range w.Policies {
		w.Policies[i] = w.policy(i)
		if w.Policies[i].OwnerSelected() {
			w.ownerSelected = append(w.ownerSelected, w.Policies[i].Key)
		}
	}

	w.DataSources = make([]model.DataSource, cfg.DataSources)
	names := idStrings("ds-", cfg.DataSources)
	a := &dsAlloc{
		strs:    slab[string]{chunk: 1 << 16},
		cols:    slab[model.Column]{chunk: 1 << 14},
		owners:  slab[int64]{chunk: 1 << 14},
		domains: slab[model.Domain]{chunk: 1 << 14},
	}
	for i := range w.DataSources {
		w.dataSource(&w.DataSources[i], int64(i+1), names[i], a)
	}
	return w
}

// idStrings returns prefix+"1" .. prefix+strconv(n), cut from one string.
func idStrings(prefix string, n int) []string {
	buf := make([]byte, 0, n*(len(prefix)+7))
	ends := make([]int, n)
	for i := range n {
		buf = append(buf, prefix...)
		buf = strconv.AppendInt(buf, int64(i+1), 10)
		ends[i] = len(buf)
	}
	all := string(buf)
	out := make([]string, n)
	start := 0
	for i, end := range ends {
		out[i] = all[start:end]
		start = end
	}
	return out
}

func groupName(i int) string { return "g" + strconv.Itoa(i) }

func (w *Workload) group(id int64) model.Group {
	r := newRNG(w.Config.Seed, streamGroup, id)
	g := model.Group{ID: id, Name: groupName(int(id))}
	switch r.intn(8) {
	case 0:
		g.Attributes = map[string][]string{"Region": one(attrRegion[:], r.intn(len(attrRegion)))}
	case 1:
		g.Attributes = map[string][]string{"Department": one(attrDepartment[:], r.intn(len(attrDepartment)))}
	}
	return g
}

func (w *Workload) user(id int64, gs *slab[string]) model.User {
	r := newRNG(w.Config.Seed, streamUser, id)
	s := strconv.FormatInt(id, 10)
	u := model.User{ID: id, Name: "user-" + s}
	switch p := r.intn(1000); {
	case p < 10:
		u.Permissions = permGovernance
	case p < 20:
		u.Permissions = permUserAdmin
	case p < 25:
		u.Permissions = permAudit
	case p < 75:
		u.Permissions = permCreate
	}
	ng := min(1+r.intn(5), w.Config.Groups)
	u.Groups = gs.take(ng)
	for j := 0; j < ng; {
		g := groupName(1 + r.intn(w.Config.Groups))
		dup := false
		for _, h := range u.Groups[:j] {
			dup = dup || h == g
		}
		if !dup {
			u.Groups[j] = g
			j++
		}
	}
	u.Attributes = map[string][]string{
		"Department": one(attrDepartment[:], r.intn(len(attrDepartment))),
		"Clearance":  one(attrClearance[:], r.intn(len(attrClearance))),
		"Region":     one(attrRegion[:], r.intn(len(attrRegion))),
	}
	if r.permille(300) {
		u.Attributes["Country"] = one(attrCountry[:], r.intn(len(attrCountry)))
	}
	if r.permille(100) {
		u.Attributes["AuthorizedDatabase"] = one(databases[:], r.intn(len(databases)))
	}
	return u
}

// kindOf picks a policy kind from a roll in [0, 1000).
func kindOf(roll int) PolicyKind {
	for k, n := range kindPerMille {
		if roll < n {
			return PolicyKind(k)
		}
		roll -= n
	}
	return KindTag
}

// policyTag is the tag policy i targets: vocabulary leaf i, often a parent, now
// and then a grandparent, and for a few policies (one in ~1000) a root.
func (w *Workload) policyTag(i int, r *rng) string {
	t := w.vocab[i%len(w.vocab)]
	switch p := r.intn(1000); {
	case i%997 == 3:
		return ancestor(t, 3)
	case p < 30:
		return ancestor(t, 2)
	case p < 230:
		return ancestor(t, 1)
	}
	return t
}

func (w *Workload) randomGroups(r *rng, n int) []string {
	out := make([]string, n)
	for j := range out {
		out[j] = groupName(1 + r.intn(w.Config.Groups))
	}
	return out
}

func (w *Workload) entitlements(r *rng) *model.Entitlements {
	ent := &model.Entitlements{Operator: model.Any, Groups: w.randomGroups(r, 1+r.intn(2))}
	if len(ent.Groups) == 2 && ent.Groups[0] == ent.Groups[1] {
		ent.Groups = ent.Groups[:1]
	}
	return ent
}

func (w *Workload) policy(i int) *model.Policy {
	r := newRNG(w.Config.Seed, streamPolicy, int64(i))
	kind := kindOf(r.intn(1000))
	p := &model.Policy{
		Key:                  fmt.Sprintf("policy-%d-%s", i+1, kind),
		Name:                 fmt.Sprintf("Policy %d (%s)", i+1, kind),
		Type:                 model.PolicySubscription,
		CircumstanceOperator: model.Any,
		Dialect:              model.DialectV2,
		Action: model.Action{
			Type:        model.ActionEntitlements,
			AccessGrant: model.Read,
		},
	}
	tag := w.policyTag(i, &r)
	tagC := model.Circumstance{Type: model.CircumstanceTags, Tag: tag}
	p.Circumstances = []model.Circumstance{tagC}
	all := func(c model.Circumstance) {
		p.Circumstances = append(p.Circumstances, c)
		p.CircumstanceOperator = model.All
	}
	a := &p.Action
	a.AutomaticSubscription = r.permille(750)
	switch kind {
	case KindTag:
		a.Entitlements = w.entitlements(&r)
	case KindColumnTag:
		p.Circumstances[0] = model.Circumstance{Type: model.CircumstanceColumnTags, ColumnTag: tag}
		a.Entitlements = w.entitlements(&r)
	case KindAttribute:
		a.Entitlements = &model.Entitlements{Operator: model.Any, Attributes: []model.Attribute{
			{Name: "Department", Value: attrDepartment[r.intn(len(attrDepartment))]},
		}}
		if r.permille(400) {
			a.Entitlements.Operator = model.All
			a.Entitlements.Attributes = append(a.Entitlements.Attributes,
				model.Attribute{Name: "Clearance", Value: attrClearance[2+r.intn(2)]})
		}
		if r.permille(300) {
			a.Entitlements.Groups = w.randomGroups(&r, 1)
		}
	case KindAdvanced:
		switch r.intn(3) {
		case 0:
			a.Advanced = fmt.Sprintf("@hasAttribute('Department', '%s') OR @isInGroups('%s')",
				attrDepartment[r.intn(len(attrDepartment))], groupName(1+r.intn(w.Config.Groups)))
		case 1:
			a.Advanced = fmt.Sprintf("@hasAttribute('Region', '%s') AND NOT @hasAttribute('Clearance', 'Public')",
				attrRegion[r.intn(len(attrRegion))])
		default:
			a.Advanced = "@hasAttribute('AuthorizedDatabase', '@database')"
			a.Entitlements = w.entitlements(&r)
		}
	case KindWrite:
		a.AccessGrant = model.Write
		a.AutomaticSubscription = r.permille(500)
		a.Entitlements = w.entitlements(&r)
	case KindAnyone:
		a.Type = model.ActionAnyone
	case KindApproval:
		a.Type = model.ActionApproval
		a.AutomaticSubscription = false
		a.Approvals = []model.Approval{{RequiredPermission: model.Owner}}
		if r.permille(300) {
			a.Approvals = append(a.Approvals, model.Approval{
				RequiredPermission: model.Governance, SpecificApproverRequired: r.permille(500)})
		}
	case KindManual:
		a.Type = model.ActionManual
		a.AutomaticSubscription = false
	case KindRegex:
		a.Entitlements = w.entitlements(&r)
		all(model.Circumstance{Type: model.CircumstanceColumnRegex,
			Regex: columnRegexes[r.intn(len(columnRegexes))], CaseInsensitive: r.permille(300)})
	case KindTime:
		a.Entitlements = w.entitlements(&r)
		start := w.Config.Start.AddDate(0, 0, r.intn(300))
		c := model.Circumstance{Type: model.CircumstanceTime, StartDate: start}
		if r.permille(600) {
			c.EndDate = start.AddDate(0, 0, 30+r.intn(150))
		}
		all(c)
	case KindDomain:
		a.Entitlements = w.entitlements(&r)
		d := w.domains[r.intn(len(w.domains))]
		switch r.intn(3) {
		case 0:
			d.Name = ""
		case 1:
			d.ID = ""
		}
		all(model.Circumstance{Type: model.CircumstanceDomains, Domains: []model.Domain{d}})
	case KindServer:
		a.Entitlements = w.entitlements(&r)
		all(model.Circumstance{Type: model.CircumstanceServer, Server: w.servers[r.intn(len(w.servers))]})
	case KindTagOrColumnTag:
		a.Entitlements = w.entitlements(&r)
		p.Circumstances = append(p.Circumstances,
			model.Circumstance{Type: model.CircumstanceColumnTags, ColumnTag: tag})
	case KindData:
		p.Type = model.PolicyData
		p.Action = model.Action{}
		p.DataActions = dataActions
	case KindOwnerSelected:
		p.Circumstances = []model.Circumstance{{Type: model.CircumstanceOwnerSelected}}
		a.Entitlements = w.entitlements(&r)
	}
	if p.Type == model.PolicySubscription {
		a.ShareResponsibility = r.permille(120)
		a.AllowDiscovery = r.permille(100)
		if r.permille(400) {
			a.Description = &descriptions[r.intn(len(descriptions))]
		}
	}
	if kind != KindOwnerSelected && r.permille(10) {
		p.Staged = true
	}
	if r.permille(30) {
		p.Certification = &model.Certification{
			Text:  "I certify that this policy meets the data handling standard.",
			Label: "Certified",
		}
	}
	return p
}

func domain(i int) model.Domain {
	name := domainNames[i%len(domainNames)]
	if i >= len(domainNames) {
		name += " " + strconv.Itoa(i/len(domainNames)+1)
	}
	return model.Domain{ID: "dom-" + strconv.Itoa(i+1), Name: name}
}

// dsTag draws a data-source or column tag: mostly a leaf, sometimes a shallower
// ancestor (depths 1-3).
func (w *Workload) dsTag(r *rng) string {
	t := w.vocab[r.intn(len(w.vocab))]
	switch p := r.intn(100); {
	case p < 3:
		return ancestor(t, 3)
	case p < 10:
		return ancestor(t, 2)
	case p < 20:
		return ancestor(t, 1)
	}
	return t
}

func (w *Workload) dataSource(ds *model.DataSource, id int64, name string, a *dsAlloc) {
	cfg := &w.Config
	r := newRNG(cfg.Seed, streamDataSource, id)
	*ds = model.DataSource{
		ID:        id,
		Name:      name,
		Server:    w.servers[r.intn(len(w.servers))],
		Database:  databases[r.intn(len(databases))],
		Schema:    schemas[r.intn(len(schemas))],
		Table:     name,
		CreatedAt: cfg.Start.Add(time.Duration(r.intn(365*24*3600)) * time.Second),
	}
	if cfg.Users > 0 {
		ds.Owners = a.owners.take(1 + r.intn(20)/19)
		for j := range ds.Owners {
			ds.Owners[j] = int64(1 + r.intn(cfg.Users))
		}
	}
	ds.Tags = a.strs.take(1 + r.intn(3))
	for j := range ds.Tags {
		t := w.dsTag(&r)
		for try := 0; try < 4 && slices.Contains(ds.Tags[:j], t); try++ {
			t = w.dsTag(&r)
		}
		ds.Tags[j] = t
	}
	ds.Columns = a.cols.take(2 + r.intn(5))
	first := r.intn(len(columnNames))
	step := 1 + r.intn(7)
	for j := range ds.Columns {
		c := &ds.Columns[j]
		c.Name = columnNames[(first+j*step)%len(columnNames)]
		if r.permille(300) {
			c.Tags = a.strs.take(1)
			c.Tags[0] = w.dsTag(&r)
		}
	}
	ds.Domains = a.domains.take(1 + r.intn(10)/9)
	d := r.intn(cfg.Domains)
	for j := range ds.Domains {
		ds.Domains[j] = w.domains[(d+j)%len(w.domains)]
	}
	if len(w.ownerSelected) > 0 && r.permille(20) {
		ds.SelectedPolicies = a.strs.take(1)
		ds.SelectedPolicies[0] = w.ownerSelected[r.intn(len(w.ownerSelected))]
	}
}

// NewDataSource returns a data source generated like the workload's own, with the
// given id (use ids above len(DataSources) to add new ones).
func (w *Workload) NewDataSource(id int64) model.DataSource {
	var ds model.DataSource
	w.dataSource(&ds, id, "ds-"+strconv.FormatInt(id, 10), &dsAlloc{})
	return ds
}

// Kind returns the kind of the workload's policy at index i.
func (w *Workload) Kind(i int) PolicyKind {
	r := newRNG(w.Config.Seed, streamPolicy, int64(i))
	return kindOf(r.intn(1000))
}

// Tag returns vocabulary tag k modulo the vocabulary size, stripped of up trailing
// segments (up 0 is a depth-4 leaf, up 3 its root).
func (w *Workload) Tag(k, up int) string {
	return ancestor(w.vocab[k%len(w.vocab)], up)
}

// Requests returns n uniformly drawn (user, data source) pairs, deterministic in
// seed. It returns nil when the workload has no users or no data sources.
func (w *Workload) Requests(n int, seed int64) []Request {
	if len(w.Users) == 0 || len(w.DataSources) == 0 {
		return nil
	}
	r := newRNG(seed, streamRequest, 0)
	out := make([]Request, n)
	for i := range out {
		out[i] = Request{
			UserID:       int64(1 + r.intn(len(w.Users))),
			DataSourceID: int64(1 + r.intn(len(w.DataSources))),
		}
	}
	return out
}

// loadBatch is how many groups, users or data sources Load puts in one write.
const loadBatch = 1 << 14

// LoadInBatches puts the workload into e as engine.SystemActor() through ordinary
// writes, as a service feeding an engine would: the groups and users in batches,
// each policy with CreatePolicy (in order), then the data sources in batches
// (loadBatch per write). It stops at the first error.
func (w *Workload) LoadInBatches(e *engine.Engine) error {
	if err := putBatches(w.Groups, func(list []*model.Group) error { return e.PutGroups(engine.SystemActor(), list) }); err != nil {
		return fmt.Errorf("benchmarks: groups: %w", err)
	}
	if err := putBatches(w.Users, func(list []*model.User) error { return e.PutUsers(engine.SystemActor(), list) }); err != nil {
		return fmt.Errorf("benchmarks: users: %w", err)
	}
	for _, p := range w.Policies {
		if _, _, err := e.CreatePolicy(engine.SystemActor(), p, engine.WriteOptions{}); err != nil {
			return fmt.Errorf("benchmarks: policy %q: %w", p.Key, err)
		}
	}
	if err := putBatches(w.DataSources, func(list []*model.DataSource) error { return e.PutDataSources(engine.SystemActor(), list) }); err != nil {
		return fmt.Errorf("benchmarks: data sources: %w", err)
	}
	return nil
}

// Bundle returns the workload as a bundle (without a state section): its groups,
// users and data sources (shared with the workload, not copied) and its policies
// encoded in the v2 dialect, in creation order.
func (w *Workload) Bundle() (*model.Bundle, error) {
	b := &model.Bundle{Name: "benchmarks-workload", Now: w.Config.Start,
		Groups: w.Groups, Users: w.Users, DataSources: w.DataSources}
	b.Policies = make([]json.RawMessage, len(w.Policies))
	for i, p := range w.Policies {
		raw, err := model.EncodePolicy(p, model.DialectV2)
		if err != nil {
			return nil, fmt.Errorf("benchmarks: policy %q: %w", p.Key, err)
		}
		b.Policies[i] = raw
	}
	return b, nil
}

// Load replaces e's state with the workload, as one engine.ApplyBundle of
// Workload.Bundle: the groups, users and data sources, and the policies created in
// order (ids 1..len(Policies)).
func (w *Workload) Load(e *engine.Engine) error {
	b, err := w.Bundle()
	if err != nil {
		return err
	}
	if err := e.ApplyBundle(b); err != nil {
		return fmt.Errorf("benchmarks: %w", err)
	}
	return nil
}

// putBatches calls put with pointers to the elements of all, loadBatch at a time.
func putBatches[T any](all []T, put func([]*T) error) error {
	for start := 0; start < len(all); start += loadBatch {
		ptrs := make([]*T, 0, min(len(all)-start, loadBatch))
		for i := start; i < min(start+loadBatch, len(all)); i++ {
			ptrs = append(ptrs, &all[i])
		}
		if err := put(ptrs); err != nil {
			return err
		}
	}
	return nil
}
