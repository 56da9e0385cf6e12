// Package metering turns the usage the seller's app reports into hourly
// records and sends them to AWS and Microsoft: never lost, never billed
// twice.
//
// Usage adds up per (subscription, dimension, UTC hour) in usage_hours.
// That row is the synchronisation point between ingestion and sealing:
// ingestion adds to it only while it is not sealed, sealing marks it
// sealed and reads its total in the same statement, so a late event either
// counts in its hour or, marked late, in the current one — never in both,
// never in neither. A sealed hour becomes exactly one metering record,
// sent identically until the marketplace gives it a final status.
//
// Deduplication. A repeated event id is answered "duplicate" with what
// its first delivery got, and counted once. An id only needs to be unique
// within the dedup window (48 hours of the event's own timestamp): an
// older event is refused anyway (usage_too_old). No index holds the ids
// (a random UUIDv4 would land on a random page of it): each process holds
// the window's ids in memory (store.UsageSeen), and writers of usage take
// turns (SQLite's one write lock; on Postgres an advisory lock), each
// first reading what other processes stored since its last look. Storing
// the event and adding it to its hour are one transaction: a crash
// between them leaves neither, and the client's retry counts once. The
// details are in store/usage_seen.go.
package metering

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/telemetry"
	"github.com/marketgate/marketgate/store"
)

// Limits of the usage API.
const (
	MaxBatch      = 1000
	maxGroup      = 8000 // events written in one transaction (group commit)
	futureSkew    = 5 * time.Minute
	usageWindow   = 24 * time.Hour
	maxEventIDLen = 128
)

// While requests keep coming, the writer lets the request goroutines run
// before it writes a group: up to gatherYields times in a row with nothing
// new queued, and for at most gatherFor after taking the group's first
// request.
const (
	gatherYields = 8
	gatherFor    = 2 * time.Millisecond
)

// Event is one usage report.
type Event struct {
	ID           string    `json:"id"`
	Customer     string    `json:"customer,omitempty"`
	Subscription string    `json:"subscription,omitempty"`
	Dimension    string    `json:"dimension"`
	Quantity     float64   `json:"quantity"`
	Timestamp    time.Time `json:"timestamp"`
}

// Result is what happened to one event.
type Result struct {
	ID             string     `json:"id"`
	Status         string     `json:"status"` // accepted, duplicate, rejected
	Reason         string     `json:"reason,omitempty"`
	OriginalStatus string     `json:"original_status,omitempty"` // duplicate: what the first delivery got
	SubscriptionID *uint      `json:"subscription_id,omitempty"`
	Hour           *time.Time `json:"hour,omitempty"`
	Late           bool       `json:"late,omitempty"` // counted in the current hour: its own was already sealed
	// Code is a stable code for rejections about the marketplaces' limits
	// (usage_too_old, usage_month_closed, usage_hour_closed,
	// usage_hour_total_max, usage_final_sent); Reason says it in words.
	Code string `json:"code,omitempty"`
}

// Meter ingests usage, seals hours and dispatches records.
type Meter struct {
	Store *store.Store
	Log   *slog.Logger
	Grace time.Duration // after an hour ends, before it is sealed (default 5 minutes)
	Owner string        // this process, for leases

	AWS   AWSSender   // nil: AWS records stay pending
	Azure AzureSender // nil: Microsoft records stay pending

	Concurrency int // batches in flight (default 8)
	Claim       int // records leased per dispatch round (default 2000)

	// OnCall, when set, hears how each marketplace call went: err is nil
	// when the marketplace answered (even with per-record refusals), and
	// the error when it could not be reached, throttled or failed.
	OnCall func(marketplace, call string, err error)
	// Metrics counts usage events by outcome (nil: none).
	Metrics *telemetry.Metrics

	mu      sync.Mutex
	queue   chan *ingestReq
	started bool

	cacheOnce sync.Once
	cache     *store.GrantCache[string, []*candidate] // customer or subscription reference → candidates (refs)

	stmts store.UsageStatements // ingestion's prepared statements
	seen  store.UsageSeen       // the dedup window's event ids (see store/usage_seen.go)
	last  atomic.Pointer[Health]
}

// cacheTTL bounds how long a customer reference is resolved from memory.
// An entry is a store.GrantCache's: used only while no write to the tables
// it was read from (subscriptions, plans, offers, customers) has been
// committed since (store.GrantGeneration), so a change made by this
// process is seen by the next event, one made by another replica within
// store.GrantRecheck; the time to live bounds what neither sees (SQL typed
// by hand).
const cacheTTL = time.Minute

// refs is ingestion's cache of customer references.
func (m *Meter) refs() *store.GrantCache[string, []*candidate] {
	m.cacheOnce.Do(func() { m.cache = &store.GrantCache[string, []*candidate]{TTL: cacheTTL, Max: 200000} })
	return m.cache
}

// ingestReq is one call of Ingest: its events, validated and, where the
// cache knows their subscription, resolved by the caller before they queue
// for the writer (see prepare).
type ingestReq struct {
	ctx      context.Context
	apiKeyID *uint
	source   string
	items    []*pending
	done     chan error
}

func (m *Meter) grace() time.Duration {
	if m.Grace > 0 {
		return m.Grace
	}
	return 5 * time.Minute
}

// Start runs the group-commit writer: concurrent Ingest calls share one
// transaction, which is what lets SQLite's single writer keep up.
func (m *Meter) Start(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return
	}
	m.started = true
	m.queue = make(chan *ingestReq, 256)
	go m.writer(ctx)
}

func (m *Meter) writer(ctx context.Context) {
	// Load the dedup window's ids now, from a snapshot, rather than on
	// the first request under ingestion's turn.
	if err := m.Store.LoadUsageSeen(ctx, &m.seen, m.now()); err != nil && ctx.Err() == nil {
		m.Log.Warn("usage: loading the recent event ids failed; the first request will try again", "error", err)
	}
	busy := false // the last group held more than one request
	for {
		var first *ingestReq
		select {
		case <-ctx.Done():
			return
		case first = <-m.queue:
		}
		group := []*ingestReq{first}
		n := len(first.items)
		// Each group costs a transaction and its commit whatever its size.
		// When the last group had company, more requests are on their way
		// (being read and decoded on the same cores): yielding lets them
		// join this one. Single events at 64 clients made groups of 3
		// events, written 3,000 times a second; yielding makes them about
		// 8 and the server's CPU per request fell by a fifth. A lone
		// request (the last group had none) is written at once.
		yields, until := 0, time.Time{}
		if busy {
			until = time.Now().Add(gatherFor)
		}
	gather:
		for n < maxGroup {
			select {
			case r := <-m.queue:
				group = append(group, r)
				n += len(r.items)
				yields = 0
			default:
				if !busy || yields == gatherYields || time.Now().After(until) {
					break gather
				}
				yields++
				runtime.Gosched()
			}
		}
		busy = len(group) > 1
		err := m.ingestGroup(context.WithoutCancel(first.ctx), group)
		for _, r := range group {
			r.done <- err
		}
	}
}

// Ingest records a batch of usage events; each gets its own result, and a
// rejected event never rejects its neighbours. The error is for the batch
// as a whole (the database), when nothing was recorded.
func (m *Meter) Ingest(ctx context.Context, apiKeyID *uint, source string, events []Event) ([]Result, error) {
	m.mu.Lock()
	started := m.started
	m.mu.Unlock()
	req := &ingestReq{ctx: ctx, apiKeyID: apiKeyID, source: source}
	m.prepare(req, events)
	if !started {
		if err := m.ingestGroup(ctx, []*ingestReq{req}); err != nil {
			return nil, err
		}
	} else {
		req.done = make(chan error, 1)
		select {
		case m.queue <- req:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// Once queued, the group is written whatever the caller does.
		if err := <-req.done; err != nil {
			return nil, err
		}
	}
	res := req.results()
	m.count(res)
	return res, nil
}

// prepare validates the request's events and finds each valid one's
// subscription when the cache has it, in the caller's goroutine: the
// writer, which every request waits for, is left with what needs
// ingestion's turn, and with the references the cache lacks (looked up
// once for the whole group, not by every request that names them).
func (m *Meter) prepare(req *ingestReq, events []Event) {
	now := m.now()
	req.items = make([]*pending, len(events))
	for i, ev := range events {
		p := &pending{req: req, ev: ev, res: Result{ID: ev.ID}}
		if reason := validate(ev, now); reason != "" {
			p.res.Status, p.res.Reason = store.UsageRejected, reason
		}
		req.items[i] = p
	}
	gen, at, cache := m.Store.GrantGeneration(), time.Now(), m.refs()
	for _, p := range req.items {
		if p.res.Status == "" {
			if cands, ok := cache.Get(refOf(p.ev), gen, at); ok {
				p.counter(cands)
			}
		}
	}
}

// results are the request's answers, in the order of its events.
func (r *ingestReq) results() []Result {
	out := make([]Result, len(r.items))
	for i, p := range r.items {
		if p.res.Status == store.UsageRejected || p.res.OriginalStatus == store.UsageRejected {
			p.res.Code = reasonCode(p.res.Reason)
		}
		out[i] = p.res
	}
	return out
}

// count adds a request's answers to the metrics.
func (m *Meter) count(results []Result) {
	if m.Metrics == nil {
		return
	}
	for _, r := range results {
		reason := ""
		if r.Status == store.UsageRejected {
			reason = rejectionLabel(r)
		}
		m.Metrics.Usage(r.Status, reason)
	}
}

// rejectionLabel is a rejection's reason as a metric label: its stable code
// when it has one, else one of a few kinds (never the free text).
func rejectionLabel(r Result) string {
	if r.Code != "" {
		return r.Code
	}
	for _, k := range []struct{ prefix, label string }{
		{"unknown customer", "unknown_customer"},
		{`dimension "`, "dimension_not_metered"},
		{"subscription not active", "subscription_not_active"},
		{"AWS meters whole numbers", "not_an_integer"},
	} {
		if strings.HasPrefix(r.Reason, k.prefix) {
			return k.label
		}
	}
	return "invalid_event"
}

// candidate is a subscription an event may count for.
type candidate struct {
	sub     store.Subscription
	metered map[string]bool
	planID  string
}

func (c *candidate) usable() bool {
	return c.sub.State == string(lifecycle.Active) || c.sub.State == string(lifecycle.UnsubscribePending)
}

// meteredDimensions lists the dimensions of a plan that are billed by
// usage. Contract offers bill by entitlement; only dimensions marked
// "metered" are metered there.
func meteredDimensions(p *store.Plan, contract bool) map[string]bool {
	out := map[string]bool{}
	for _, d := range MeteredDimensions(p, contract) {
		out[d.Key] = true
	}
	return out
}

// MeteredDimensions lists, in the plan's order, the dimensions of a plan
// that are billed by usage (see meteredDimensions); none for no plan.
func MeteredDimensions(p *store.Plan, contract bool) []store.Dimension {
	if p == nil {
		return nil
	}
	var out []store.Dimension
	for _, d := range p.DimensionList() {
		if !contract || d.Metered {
			out = append(out, d)
		}
	}
	return out
}

type pending struct {
	req      *ingestReq
	ev       Event
	res      Result
	sub      *candidate
	own, cur *hourState // its own hour's state and the current hour's (placeHours)
	hour     time.Time
	row      int64 // its row in usage_events, once stored
}

// ingestGroup writes the events of several requests in one transaction
// and leaves each event's answer in its pending.
func (m *Meter) ingestGroup(ctx context.Context, group []*ingestReq) error {
	now := m.now()
	n := 0
	for _, r := range group {
		n += len(r.items)
	}
	items := make([]*pending, 0, n)
	for _, r := range group {
		items = append(items, r.items...)
	}
	m.Store.PrepareUsageStatements(ctx, &m.stmts)
	var evs []store.NewUsageEvent
	var rows []int64
	err := m.Store.InTx(ctx, func(tx *store.Tx) error {
		// Ingestion's turn first: nothing else stores events until commit.
		if err := tx.SyncUsageSeen(ctx, &m.stmts, &m.seen, now); err != nil {
			return err
		}
		fresh, err := freshEvents(ctx, tx, &m.seen, items, now)
		if err != nil {
			return err
		}
		if err := m.resolve(tx, fresh); err != nil {
			return err
		}
		// Hours: an event for a sealed hour counts, late, in the current one.
		cur := now.Truncate(time.Hour)
		hours, err := m.placeHours(ctx, tx, fresh, cur, now)
		if err != nil {
			return err
		}
		// Store every fresh event (rejected ones too: a repeat gets the same answer).
		if evs, rows, err = m.insertEvents(ctx, tx, fresh, now); err != nil {
			return err
		}
		// Add the accepted ones to their hours.
		return m.addToHours(ctx, tx, fresh, hours, cur, now)
	})
	if err != nil {
		return err
	}
	m.seen.Stored(evs, rows, now)
	answerRepeats(items)
	return nil
}

// freshEvents answers the duplicates, of an earlier delivery or within
// this group, and returns the events seen for the first time.
func freshEvents(ctx context.Context, tx *store.Tx, known *store.UsageSeen, items []*pending, now time.Time) ([]*pending, error) {
	ids := make([]string, 0, len(items))
	for _, p := range items {
		if p.ev.ID != "" && len(p.ev.ID) <= maxEventIDLen {
			ids = append(ids, p.ev.ID)
		}
	}
	prior, err := tx.UsageEventsByID(ctx, known, ids, now)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]*pending, len(items))
	fresh := make([]*pending, 0, len(items))
	for _, p := range items {
		if p.ev.ID == "" || len(p.ev.ID) > maxEventIDLen {
			continue // rejected by validate; not stored (no key to store it under)
		}
		if r, ok := prior[p.ev.ID]; ok {
			p.res = Result{ID: p.ev.ID, Status: "duplicate", OriginalStatus: r.Status, Reason: r.Reason, SubscriptionID: r.SubscriptionID, Hour: r.Hour, Late: r.Late}
			continue
		}
		if _, ok := seen[p.ev.ID]; ok {
			p.res = Result{ID: p.ev.ID, Status: "duplicate"}
			continue
		}
		seen[p.ev.ID] = p
		fresh = append(fresh, p)
	}
	return fresh, nil
}

// answerRepeats gives each repeat of an id within the group (of this
// request or another) the answer its first one got. The rest of the
// answers are put together by each request (ingestReq.results).
func answerRepeats(items []*pending) {
	if !slices.ContainsFunc(items, func(p *pending) bool { return p.res.Status == "duplicate" && p.res.OriginalStatus == "" }) {
		return
	}
	firstOf := make(map[string]Result, len(items))
	for _, p := range items {
		if p.res.Status != "duplicate" && p.ev.ID != "" {
			if _, ok := firstOf[p.ev.ID]; !ok {
				firstOf[p.ev.ID] = p.res
			}
		}
	}
	for _, p := range items {
		if p.res.Status == "duplicate" && p.res.OriginalStatus == "" {
			f := firstOf[p.ev.ID]
			p.res.OriginalStatus, p.res.Reason, p.res.SubscriptionID, p.res.Hour, p.res.Late = f.Status, f.Reason, f.SubscriptionID, f.Hour, f.Late
		}
	}
}

func validate(ev Event, now time.Time) string {
	switch {
	case strings.TrimSpace(ev.ID) == "":
		return "id is required"
	case len(ev.ID) > maxEventIDLen:
		return "id is longer than 128 characters"
	case strings.TrimSpace(ev.Customer) == "" && strings.TrimSpace(ev.Subscription) == "":
		return "customer or subscription is required"
	case strings.TrimSpace(ev.Dimension) == "" || len(ev.Dimension) > 256:
		return "dimension is required (at most 256 characters)"
	case math.IsNaN(ev.Quantity) || math.IsInf(ev.Quantity, 0) || ev.Quantity <= 0:
		return "quantity must be a positive number"
	case ev.Quantity > 1e12:
		return "quantity is too large"
	case ev.Timestamp.IsZero():
		return "timestamp is required (RFC 3339)"
	case ev.Timestamp.After(now.Add(futureSkew)):
		return "timestamp is in the future"
	case now.Sub(ev.Timestamp) > usageWindow:
		return tooOldReason(now)
	}
	return ""
}

// resolve finds the subscription of each event prepare left unresolved
// (still in the running, no subscription: counter either picks one or
// rejects the event), from memory while the reference's entry may be used
// (see cacheTTL).
func (m *Meter) resolve(tx *store.Tx, items []*pending) error {
	unresolved := func(p *pending) bool { return p.res.Status == "" && p.sub == nil }
	refs := map[string]bool{}
	for _, p := range items {
		if unresolved(p) {
			refs[refOf(p.ev)] = true
		}
	}
	if len(refs) == 0 {
		return nil
	}
	found, err := m.candidates(tx, refs)
	if err != nil {
		return err
	}
	for _, p := range items {
		if unresolved(p) {
			p.counter(found[refOf(p.ev)])
		}
	}
	return nil
}

// candidates gives each reference's subscriptions: from the cache while
// fresh, else looked up (and cached).
func (m *Meter) candidates(tx *store.Tx, refs map[string]bool) (map[string][]*candidate, error) {
	gen, now, cache := m.Store.GrantGeneration(), time.Now(), m.refs()
	found := map[string][]*candidate{}
	var missing []string
	for r := range refs {
		if cands, ok := cache.Get(r, gen, now); ok {
			found[r] = cands
		} else {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return found, nil
	}
	looked, err := lookup(tx, missing)
	if err != nil {
		return nil, err
	}
	for _, r := range missing {
		found[r] = looked[r]
		cache.Put(r, looked[r], gen, now)
	}
	return found, nil
}

// counter picks, of the subscriptions the event's reference names, the one
// it counts for, and rejects the event when that one cannot meter it.
func (p *pending) counter(cands []*candidate) {
	p.sub = pick(cands, p.ev.Dimension)
	switch {
	case p.sub == nil:
		p.res.Status, p.res.Reason = store.UsageRejected, "unknown customer or subscription"
		return
	case !p.sub.metered[p.ev.Dimension]:
		p.res.Status, p.res.Reason = store.UsageRejected, fmt.Sprintf("dimension %q is not metered on plan %q", p.ev.Dimension, p.sub.planID)
	case !p.sub.usable():
		p.res.Status, p.res.Reason = store.UsageRejected, "subscription not active (it is "+p.sub.sub.State+"): nothing is metered"
	case p.sub.sub.Marketplace == "aws" && p.ev.Quantity != math.Trunc(p.ev.Quantity):
		p.res.Status, p.res.Reason = store.UsageRejected, "AWS meters whole numbers: quantity must be an integer"
	}
	id := p.sub.sub.ID
	p.res.SubscriptionID = &id
}

// refOf is the reference an event names: "#<id>" for a Marketgate
// subscription id, else the marketplace id or customer reference.
func refOf(ev Event) string {
	if s := strings.TrimSpace(ev.Subscription); s != "" {
		if _, err := strconv.ParseUint(s, 10, 32); err == nil {
			return "#" + s
		}
		return s
	}
	return strings.TrimSpace(ev.Customer)
}

// lookup reads the subscriptions behind references.
func lookup(tx *store.Tx, refs []string) (map[string][]*candidate, error) {
	names, nums, ids := splitRefs(refs)
	subs, err := tx.SubscriptionsForUsage(names, nums, ids)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, r := range refs {
		want[r] = true
	}
	out := map[string][]*candidate{}
	seen := map[uint]bool{}
	var buf [8]string
	for i := range subs {
		s := &subs[i]
		if seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		c := newCandidate(s)
		for _, k := range usageRefs(buf[:0], s) {
			if k != "" && want[k] {
				out[k] = append(out[k], c)
			}
		}
	}
	return out, nil
}

// splitRefs sorts references into names (marketplace ids, customer
// references), the numeric ones among them (Marketgate customer ids) and
// Marketgate subscription ids ("#<id>").
func splitRefs(refs []string) (names, nums []string, ids []uint) {
	for _, r := range refs {
		if strings.HasPrefix(r, "#") {
			id, _ := strconv.ParseUint(r[1:], 10, 32)
			ids = append(ids, uint(id))
			continue
		}
		names = append(names, r)
		if _, err := strconv.ParseUint(r, 10, 32); err == nil && len(r) < 12 {
			nums = append(nums, r)
		}
	}
	return names, nums, ids
}

func newCandidate(s *store.Subscription) *candidate {
	c := &candidate{sub: *s, metered: meteredDimensions(s.Plan, s.Offer != nil && s.Offer.Contract)}
	if s.Plan != nil {
		c.planID = s.Plan.PlanID
	}
	return c
}

// usageRefs appends to dst the references usage may name a subscription
// by ("" for identities it lacks).
func usageRefs(dst []string, s *store.Subscription) []string {
	dst = append(dst, s.AWSCustomerAccountID, s.AWSCustomerIdentifier, s.AWSLicenseArn, s.AzureSubscriptionID, s.AzureTenantID,
		"#"+strconv.FormatUint(uint64(s.ID), 10))
	if s.CustomerID != nil {
		dst = append(dst, strconv.FormatUint(uint64(*s.CustomerID), 10))
	}
	if s.Customer != nil && s.Customer.AWSAccountID != "" && s.Customer.AWSAccountID != s.AWSCustomerAccountID {
		dst = append(dst, s.Customer.AWSAccountID)
	}
	return dst
}

// pick prefers a usable subscription that meters the dimension.
func pick(cands []*candidate, dim string) *candidate {
	var best *candidate
	score := -1
	for _, c := range cands {
		s := 0
		if c.metered[dim] {
			s += 2
		}
		if c.usable() {
			s++
		}
		if s > score {
			best, score = c, s
		}
	}
	return best
}

type hourKey struct {
	sub  uint
	dim  string
	hour int64 // unix seconds of the hour's start
}

// placeHours gives each accepted event its hour: its own, or the current
// one (late) when its own is sealed. An event is accepted only if what it
// adds can still be sent: AWS's month-end cutoff has not passed for its
// month, its own hour can still be sealed and sent before the marketplace
// stops taking that hour, and the hour's total stays within what the
// marketplace accepts for one record. The totals read here are those this
// transaction adds to; the add itself checks the limit again
// (addToHours), so events of concurrent transactions cannot jointly pass it.
//
// Only past hours are read (an event there is placed by whether its hour
// is sealed). The current hour is taken as open and empty: it is sealed
// early only when a subscription's final usage has been sent, and its
// total reaches the limit rarely; the add finds either (addToHours) and
// places those events again. Most events are for the current hour, and
// reading its rows was a tenth of the writer's time.
func (m *Meter) placeHours(ctx context.Context, tx *store.Tx, items []*pending, cur, now time.Time) (hourStates, error) {
	hours, minHour := ownHours(items, cur, now)
	if minHour.Before(cur) {
		if err := readHours(ctx, tx, &m.stmts, hours, cur, minHour); err != nil {
			return nil, err
		}
	}
	for _, p := range items {
		if p.res.Status == "" {
			m.place(p, cur, now)
		}
	}
	return hours, nil
}

// ownHours gives each event still in the running its own hour (the
// current one at most) and the states of that hour and of the current
// one, rejecting the events of a month AWS has closed. It returns those
// states and the earliest hour.
func ownHours(items []*pending, cur, now time.Time) (hours hourStates, minHour time.Time) {
	hours = hourStates{}
	minHour = cur
	month := monthStart(now)
	for _, p := range items {
		if p.res.Status != "" {
			continue
		}
		// AWS's month-end cutoff passed for its month (R4): whichever hour
		// it went into, that month's usage is closed.
		if p.sub.sub.Marketplace == "aws" && p.ev.Timestamp.Before(month) && !now.Before(month.Add(awsMonthClose)) {
			p.res.Status, p.res.Reason = store.UsageRejected, monthClosedReason(p.ev.Timestamp)
			continue
		}
		p.hour = p.ev.Timestamp.UTC().Truncate(time.Hour)
		if p.hour.After(cur) {
			p.hour = cur // a few minutes of clock skew: counts now
		}
		p.own = hours.slot(p, p.hour)
		p.cur = p.own
		if !p.hour.Equal(cur) {
			p.cur = hours.slot(p, cur)
		}
		if p.hour.Before(minHour) {
			minHour = p.hour
		}
	}
	return hours, minHour
}

// hourState is what ingestion knows of an hour: sealed, and the total
// stored plus what this transaction adds, of which it keeps the events and
// quantity too.
type hourState struct {
	aws    bool // its subscription's marketplace is AWS
	sealed bool
	total  float64
	add    float64
	events int64
}

// hourStates are the hours events are placed in; an hour not stored yet is
// open and empty.
type hourStates map[hourKey]*hourState

// slot is the state of the event's hour h, made when first asked for.
func (hs hourStates) slot(p *pending, h time.Time) *hourState {
	k := hourKey{p.sub.sub.ID, p.ev.Dimension, h.Unix()}
	s := hs[k]
	if s == nil {
		s = &hourState{aws: p.sub.sub.Marketplace == "aws"}
		hs[k] = s
	}
	return s
}

// readHours reads the stored state of the past hours (from minHour on;
// the current one too for the series read), one statement per dimension:
// the rows are keyed by subscription, dimension and hour, so naming the
// dimension makes each subscription's read a range of its hours from
// minHour, not every hour it has ever had (sealing keeps one a metered
// dimension every hour).
func readHours(ctx context.Context, tx *store.Tx, us *store.UsageStatements, hours hourStates, cur, minHour time.Time) error {
	subsOf := map[string][]uint{}
	for k := range hours {
		if k.hour < cur.Unix() {
			subsOf[k.dim] = append(subsOf[k.dim], k.sub)
		}
	}
	for dim, subs := range subsOf {
		slices.Sort(subs)
		rows, err := tx.UsageHoursFrom(ctx, us, dim, slices.Compact(subs), minHour)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if s := hours[hourKey{r.SubscriptionID, dim, r.Hour.UTC().Unix()}]; s != nil {
				s.sealed, s.total = r.Sealed, r.Quantity
			}
		}
	}
	return nil
}

// place accepts the event in its own hour, or late in the current one when
// its own is sealed, or rejects it: the current hour is sealed too, its own
// hour could no longer be sent in time, or the hour's total would pass the
// marketplace's limit.
func (m *Meter) place(p *pending, cur, now time.Time) {
	mp := p.sub.sub.Marketplace
	hs := p.own
	if hs.sealed {
		if p.cur.sealed {
			p.res.Status, p.res.Reason = store.UsageRejected, reasonFinalSent
			return
		}
		p.hour, p.res.Late = cur, true
		hs = p.cur
	} else if p.hour.Before(cur) {
		if dl, late := m.missesDeadline(mp, p.hour, now); late {
			p.res.Status, p.res.Reason = store.UsageRejected, hourClosedReason(mp, p.hour, dl)
			return
		}
	}
	if total := hs.total + p.ev.Quantity; total > hourLimit(mp) {
		p.res.Status, p.res.Reason, p.res.Late = store.UsageRejected, hourTotalReason(mp, p.hour, total), false
		return
	}
	hs.total += p.ev.Quantity
	hs.add += p.ev.Quantity
	hs.events++
	h := p.hour
	p.res.Hour = &h
	p.res.Status = store.UsageAccepted
}

// missesDeadline reports whether a past hour, still open, would reach the
// marketplace too late: it is sealed once the grace period has passed,
// then sent, and the marketplace must still take it then. dl is the
// marketplace's deadline for the hour.
func (m *Meter) missesDeadline(mp string, hour, now time.Time) (dl time.Time, late bool) {
	sealAt := hour.Add(time.Hour + m.grace() + sealMargin)
	if sealAt.Before(now) {
		sealAt = now
	}
	dl = sendDeadline(mp, hour)
	return dl, sealAt.Add(sendSlack).After(dl)
}

// insertEvents stores the fresh events and returns them as stored, with
// their row ids (each pending event learns its own).
func (m *Meter) insertEvents(ctx context.Context, tx *store.Tx, items []*pending, now time.Time) ([]store.NewUsageEvent, []int64, error) {
	evs := make([]store.NewUsageEvent, len(items))
	for i, p := range items {
		r := p.req
		e := &evs[i]
		e.EventID, e.APIKeyID, e.Dimension, e.Quantity, e.OccurredAt = p.ev.ID, r.apiKeyID, p.ev.Dimension, p.ev.Quantity, p.ev.Timestamp
		e.Hour, e.Late, e.Status, e.Reason, e.Source = p.res.Hour, p.res.Late, p.res.Status, p.res.Reason, cmp.Or(r.source, "api")
		if p.sub != nil {
			e.SubscriptionID = p.sub.sub.ID
		}
	}
	rows, err := tx.InsertUsageEvents(ctx, &m.stmts, evs, now)
	if err != nil {
		return nil, nil, err
	}
	for i, p := range items {
		p.row = rows[i]
	}
	return evs, rows, nil
}

// addToHours adds the accepted events to their hours, each hour only while
// it is open and within the marketplace's limit (checked by the statement
// that adds). When an add misses, the row, locked by then, is read again
// and those events are placed again: late in the current hour when their
// hour was sealed, refused when the current hour is sealed too or the total
// would pass the limit. An add misses when the current hour, not read by
// placeHours, was sealed (final usage sent) or its total would pass the
// limit, and on Postgres when another replica sealed an hour, or added to
// it, between placeHours' read and this write.
func (m *Meter) addToHours(ctx context.Context, tx *store.Tx, items []*pending, hours hourStates, cur, now time.Time) error {
	var pend []*pending
	for _, p := range items {
		if p.res.Status == store.UsageAccepted {
			pend = append(pend, p)
		}
	}
	for attempt := 0; len(pend) > 0; attempt++ {
		if attempt == 3 {
			return errors.New("usage hours changed while usage was being added; try again")
		}
		var missed []hourKey
		for _, mp := range []string{"aws", "azure"} {
			// The first add is what placeHours added up; after a miss,
			// the events still to add are added up again.
			adds := placedSums(hours, mp)
			if attempt > 0 {
				adds = hourSums(pend, mp)
			}
			ms, err := tx.AddToUsageHours(ctx, &m.stmts, adds, now, hourLimit(mp))
			if err != nil {
				return err
			}
			for _, a := range ms {
				missed = append(missed, hourKey{a.SubscriptionID, a.Dimension, a.Hour.Unix()})
			}
		}
		if len(missed) == 0 {
			return nil
		}
		var err error
		if pend, err = replaceMissed(tx, pend, missed, cur); err != nil {
			return err
		}
	}
	return nil
}

// hourKey is the hour an accepted event was placed in.
func (p *pending) hourKey() hourKey { return hourKey{p.sub.sub.ID, p.ev.Dimension, p.res.Hour.Unix()} }

// placedSums are the hours of one marketplace placeHours added events to,
// in the order of the hours (see sortAdds).
func placedSums(hours hourStates, mp string) []store.UsageHourAdd {
	var adds []store.UsageHourAdd
	for k, s := range hours {
		if s.events > 0 && s.aws == (mp == "aws") {
			adds = append(adds, store.UsageHourAdd{SubscriptionID: k.sub, Dimension: k.dim, Hour: time.Unix(k.hour, 0).UTC(), Quantity: s.add, Events: s.events})
		}
	}
	sortAdds(adds)
	return adds
}

// sortAdds puts adds in one order for every transaction (by subscription,
// dimension, hour): two replicas adding to the same hours lock them in the
// same order and never deadlock.
func sortAdds(adds []store.UsageHourAdd) {
	slices.SortFunc(adds, func(a, b store.UsageHourAdd) int {
		return cmp.Or(cmp.Compare(a.SubscriptionID, b.SubscriptionID), strings.Compare(a.Dimension, b.Dimension), a.Hour.Compare(b.Hour))
	})
}

// hourSums adds up the events of one marketplace per hour, in the order
// of the hours.
func hourSums(pend []*pending, mp string) []store.UsageHourAdd {
	at := map[hourKey]int{}
	var adds []store.UsageHourAdd
	for _, p := range pend {
		if (p.sub.sub.Marketplace == "aws") != (mp == "aws") {
			continue
		}
		k := p.hourKey()
		i, ok := at[k]
		if !ok {
			i = len(adds)
			at[k] = i
			adds = append(adds, store.UsageHourAdd{SubscriptionID: k.sub, Dimension: k.dim, Hour: time.Unix(k.hour, 0).UTC()})
		}
		adds[i].Quantity += p.ev.Quantity
		adds[i].Events++
	}
	sortAdds(adds)
	return adds
}

// storedHour is an hour as read again after an add missed it.
type storedHour struct {
	Sealed   bool
	Quantity float64
}

// replaceMissed places again the events of the hours the add missed (the
// rows read again): late in the current hour when theirs was sealed,
// refused when the current hour is sealed too or the total would pass the
// limit. It stores those moves and refusals and returns the events still
// to add.
func replaceMissed(tx *store.Tx, pend []*pending, missed []hourKey, cur time.Time) ([]*pending, error) {
	state := map[hourKey]storedHour{}
	for _, k := range missed {
		var st storedHour
		var err error
		if st.Sealed, st.Quantity, err = tx.UsageHour(k.sub, k.dim, time.Unix(k.hour, 0).UTC()); err != nil {
			return nil, err
		}
		state[k] = st
	}
	var next, moved []*pending
	refused := map[string][]int64{} // reason → rows
	added := map[hourKey]float64{}
	for _, p := range pend {
		k := p.hourKey()
		st, gone := state[k]
		if !gone {
			continue
		}
		mp := p.sub.sub.Marketplace
		switch {
		case st.Sealed && k.hour == cur.Unix():
			p.res = Result{ID: p.ev.ID, Status: store.UsageRejected, Reason: reasonFinalSent, SubscriptionID: p.res.SubscriptionID}
			refused[p.res.Reason] = append(refused[p.res.Reason], p.row)
		case st.Sealed:
			h := cur
			p.res.Hour, p.res.Late = &h, true
			moved = append(moved, p)
			next = append(next, p)
		case st.Quantity+added[k]+p.ev.Quantity > hourLimit(mp):
			reason := hourTotalReason(mp, *p.res.Hour, st.Quantity+added[k]+p.ev.Quantity)
			p.res = Result{ID: p.ev.ID, Status: store.UsageRejected, Reason: reason, SubscriptionID: p.res.SubscriptionID}
			refused[reason] = append(refused[reason], p.row)
		default:
			added[k] += p.ev.Quantity
			next = append(next, p)
		}
	}
	return next, storeReplaced(tx, moved, refused, cur)
}

// storeReplaced marks the moved events late in the current hour and the
// refused ones rejected.
func storeReplaced(tx *store.Tx, moved []*pending, refused map[string][]int64, cur time.Time) error {
	var rows []int64
	for _, p := range moved {
		rows = append(rows, p.row)
	}
	if err := tx.MoveUsageEventsLate(rows, cur); err != nil {
		return err
	}
	for reason, rows := range refused {
		if err := tx.RejectUsageEvents(rows, reason); err != nil {
			return err
		}
	}
	return nil
}

func chunks[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

func dedupe[T comparable](xs []T) []T {
	seen := map[T]bool{}
	out := xs[:0:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
