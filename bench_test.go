package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gorm.io/gorm"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// The metering measurements of scripts/bench.sh (MARKETGATE_BENCH=1): the
// real binary over loopback HTTP on SQLite. Figures are logged, never
// asserted: these machines are shared and noisy.

func benchOn(t *testing.T) {
	if os.Getenv("MARKETGATE_BENCH") == "" {
		t.Skip("set MARKETGATE_BENCH=1 (scripts/bench.sh)")
	}
}

// peakRSS reads a process's high-water resident set size.
func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "?"
}

// seedMetered adds n active AWS legacy subscriptions metering two
// dimensions, created two days ago, to the database of cfg (migrating it).
func seedMetered(t *testing.T, cfg store.Config, n int) []string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(); err != nil {
		t.Fatal(err)
	}
	// The sandbox's demo data is left out (as in TestCostCurve): the binary
	// runs in sandbox mode for its simulated marketplaces only. The demo's
	// month would seal and send these subscriptions' last two days too,
	// which takes the start past the harness's minute.
	if err := st.SetSetting(ctx, "sandbox_seeded_at", time.Now().UTC().Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	then := time.Now().UTC().Add(-48 * time.Hour)
	ids := make([]string, n)
	err = st.TestingDB(t).WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		o := store.Offer{Marketplace: "aws", Name: "Bench", MarketplaceID: "benchproduct", IdentityModel: "legacy", CreatedAt: then, UpdatedAt: then,
			Plans: []store.Plan{{PlanID: "std", Name: "Standard", Dimensions: `[{"key":"api_calls"},{"key":"storage_gb"}]`, ActivationPolicy: "automatic", CreatedAt: then, UpdatedAt: then}}}
		if err := tx.Create(&o).Error; err != nil {
			return err
		}
		subs := make([]store.Subscription, n)
		for i := range subs {
			ids[i] = fmt.Sprintf("BENCH%06d", i)
			subs[i] = store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: then, OfferID: &o.ID, PlanID: &o.Plans[0].ID,
				AWSCustomerIdentifier: ids[i], AWSProductCode: "benchproduct", Version: 1, CreatedAt: then, UpdatedAt: then}
		}
		return tx.CreateInBatches(subs, 500).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// mix64 spreads a sequence number over 64 bits (splitmix64): event ids
// made of it land all over the id index, as random UUIDs do.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// appendEventID appends event id n: "e<n>" in sequence, or 32 hex digits
// spread like a random UUID.
func appendEventID(buf []byte, prefix string, n int64, random bool) []byte {
	buf = append(buf, prefix...)
	if random {
		buf = strconv.AppendUint(buf, mix64(uint64(n)), 16)
		return strconv.AppendUint(buf, mix64(uint64(n)+1), 16)
	}
	return strconv.AppendInt(buf, n, 10)
}

// usageLoad posts usage events to one or more replicas (round robin).
type usageLoad struct {
	t         *testing.T
	urls      []string
	key       string
	customers []string
	seq       atomic.Int64
	now       string
	clients   map[int]*http.Client
	pids      []int        // the servers, whose CPU time a phase reports
	waits     *waitSampler // Postgres: what its sessions wait on during single events (nil on SQLite)
}

func newUsageLoad(t *testing.T, servers []*server, key string, customers []string) *usageLoad {
	l := &usageLoad{t: t, key: key, customers: customers, now: time.Now().UTC().Format(time.RFC3339), clients: map[int]*http.Client{}}
	for _, s := range servers {
		l.urls, l.pids = append(l.urls, s.url), append(l.pids, s.cmd.Process.Pid)
	}
	for _, n := range []int{16, 64} {
		tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
		l.clients[n] = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	}
	return l
}

// post sends a batch of n events from client, through lc when not nil,
// else through hc.
func (l *usageLoad) post(hc *http.Client, lc *leanClient, client, n int, random bool) error {
	// Built with appends: the load generator shares the machine's two cores.
	buf := make([]byte, 0, n*120)
	buf = append(buf, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		id := l.seq.Add(1)
		buf = append(buf, `{"id":"`...)
		buf = appendEventID(buf, "e", id, random)
		buf = append(buf, `","customer":"`...)
		buf = append(buf, l.customers[id%int64(len(l.customers))]...)
		buf = append(buf, `","dimension":"api_calls","quantity":`...)
		buf = strconv.AppendInt(buf, 1+id%5, 10)
		buf = append(buf, `,"timestamp":"`...)
		buf = append(buf, l.now...)
		buf = append(buf, `"}`...)
	}
	buf = append(buf, ']')
	if lc != nil {
		status, body, err := lc.do(http.MethodPost, strings.TrimPrefix(l.urls[client%len(l.urls)], "http://"), "/api/v1/usage", "Bearer "+l.key, buf)
		if err == nil && status != 200 {
			err = fmt.Errorf("HTTP %d %s", status, body)
		}
		return err
	}
	req, _ := http.NewRequest(http.MethodPost, l.urls[client%len(l.urls)]+"/api/v1/usage", bytes.NewReader(buf))
	req.Header.Set("Authorization", "Bearer "+l.key)
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("HTTP %d", res.StatusCode)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return nil
}

// run posts batches of batch events from clients concurrent clients for
// d: requests and events per second. Lean clients write their requests on
// connections of their own (leanClient); the others share Go's http.Client.
func (l *usageLoad) run(clients, batch int, random, lean bool, d time.Duration) (float64, float64) {
	var reqs atomic.Int64
	var wg sync.WaitGroup
	hc := l.clients[clients]
	stop := time.Now().Add(d)
	startAt := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lc *leanClient
			if lean {
				lc = &leanClient{}
				defer lc.close()
			}
			for time.Now().Before(stop) {
				if err := l.post(hc, lc, c, batch, random); err != nil {
					l.t.Error(err)
					return
				}
				reqs.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(startAt).Seconds()
	return float64(reqs.Load()) / el, float64(reqs.Load()*int64(batch)) / el
}

// usageFigures are one configuration's rounds: rates, the ceiling measured
// just before (rows/s) and the servers' CPU time per event or request.
type usageFigures struct {
	sequential, random, single []float64 // events/s, events/s, requests/s
	singleStd, singleStdCPU    []float64 // single events through Go's http.Client: requests/s, µs per request
	seqCeil, rndCeil           []float64 // rows/s
	seqCPU, rndCPU, singleCPU  []float64 // µs of the servers' CPU per event (per request for single)
	waits                      string    // Postgres: what its sessions waited on during single events
}

// measure runs three rounds of: the sequential-id ceiling, batches of
// 1,000 with ids in sequence, single events at 64 clients (each on a
// connection of its own, leanClient, then through Go's http.Client, as
// figures before December 2026 were), the random-id ceiling, batches of
// 1,000 with random ids. Each ceiling runs just before
// the API's figure it is the ceiling of: on a shared machine the rate of
// plain inserts moved by 70 % within an hour, so a ceiling measured once,
// before or after, made ratios that swung from 0.4 to 0.8 between runs of
// one build.
func (l *usageLoad) measure(c *ceiling) usageFigures {
	// Warm up, and let the server's start-up jobs (sealing, dispatch, the
	// sandbox's reconcile) finish: on Postgres the first round ran 5 to 20
	// times slower than the next ones while they did.
	l.run(16, 100, false, false, time.Second)
	l.run(64, 1, false, true, 3*time.Second)
	var f usageFigures
	for i := 0; i < 3; i++ {
		f.seqCeil = append(f.seqCeil, c.round(false))
		ev, cpu := l.phase(16, 1000, false, false)
		f.sequential, f.seqCPU = append(f.sequential, ev), append(f.seqCPU, cpu)
		rq, cpu := l.phase(64, 1, false, true)
		f.single, f.singleCPU = append(f.single, rq), append(f.singleCPU, cpu)
		rq, cpu = l.phase(64, 1, false, false)
		f.singleStd, f.singleStdCPU = append(f.singleStd, rq), append(f.singleStdCPU, cpu)
		f.rndCeil = append(f.rndCeil, c.round(true))
		rv, cpu := l.phase(16, 1000, true, false)
		f.random, f.rndCPU = append(f.random, rv), append(f.rndCPU, cpu)
	}
	if l.waits != nil {
		f.waits = l.waits.String()
	}
	return f
}

// phase posts for 4 s and answers events/s and the servers' CPU time per
// event, in µs (for single events: per request).
func (l *usageLoad) phase(clients, batch int, random, lean bool) (float64, float64) {
	before, startAt := l.cpuSeconds(), time.Now()
	var ev float64
	if batch == 1 && l.waits != nil {
		l.waits.during(func() { _, ev = l.run(clients, batch, random, lean, 4*time.Second) })
	} else {
		_, ev = l.run(clients, batch, random, lean, 4*time.Second)
	}
	used, el := l.cpuSeconds()-before, time.Since(startAt).Seconds()
	return ev, used / (ev * el) * 1e6
}

// cpuSeconds is the CPU time (user and system) the servers have used.
func (l *usageLoad) cpuSeconds() float64 { return cpuSecondsOf(l.pids...) }

// cpuSecondsOf is the CPU time (user and system) processes have used, from
// /proc (0 where there is none).
func cpuSecondsOf(pids ...int) float64 {
	total := 0.0
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0
		}
		// The fields after the command's name start at the 3rd (state);
		// utime is the 14th and stime the 15th.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			return 0
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		total += (u + s) / clockTicks
	}
	return total
}

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on Linux).
const clockTicks = 100

// report logs a configuration's figures: medians of the rates, of the
// ratios to the ceiling of the same round, and of the CPU time per event.
func (f usageFigures) report(t *testing.T, what string, rss string) {
	t.Logf("usage API, %s: batches of 1,000 (16 clients), ids in sequence: %s events/s = %s of the plain-insert ceiling (%s rows/s; each round against the ceiling measured just before it), %s µs of server CPU per event; "+
		"ids spread like random UUIDs: %s events/s = %s of the random-id ceiling (%s rows/s), %s of the sequential one, %s µs of server CPU per event; "+
		"single-event requests at 64 clients: %s requests/s, %s µs of server CPU per request (through Go's http.Client: %s requests/s, %s µs); peak RSS %s",
		what, med(f.sequential), ratio(f.sequential, f.seqCeil), med(f.seqCeil), cpuMed(f.seqCPU),
		med(f.random), ratio(f.random, f.rndCeil), med(f.rndCeil), ratio(f.random, f.seqCeil), cpuMed(f.rndCPU),
		med(f.single), cpuMed(f.singleCPU), med(f.singleStd), cpuMed(f.singleStdCPU), rss)
	if f.waits != "" {
		t.Logf("usage API, %s: Postgres sessions during single events (pg_stat_activity every 20 ms; average sessions per sample, by state and wait): %s", what, f.waits)
	}
}

// waitSampler counts, every 20 ms while a phase runs, the benchmark
// database's sessions by state and wait event (pg_stat_activity), and
// autovacuum workers on the whole server: when single events on Postgres
// run slow (516 requests/s in one run against 6,685 in the one before,
// the server waiting rather than working), the figures say on what.
type waitSampler struct {
	db      *sql.DB
	counts  map[string]int
	samples int
}

func newWaitSampler(t *testing.T, url string) *waitSampler {
	st, err := store.Open(context.Background(), store.Config{DatabaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := st.TestingReadDB(t).DB()
	if err != nil {
		t.Fatal(err)
	}
	return &waitSampler{db: db, counts: map[string]int{}}
}

func (w *waitSampler) during(fn func()) {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			rows, err := w.db.Query(`SELECT CASE WHEN backend_type = 'autovacuum worker' THEN 'autovacuum (' || COALESCE(datname, '') || ')'
				ELSE COALESCE(state, '') || ' ' || COALESCE(wait_event_type || ':' || wait_event, 'on CPU') ||
					CASE WHEN state = 'active' THEN ' (' || regexp_replace(left(query, 60), '\s+', ' ', 'g') || '…)' ELSE '' END END
				FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (backend_type = 'autovacuum worker' OR (datname = current_database() AND state <> 'idle'))`)
			if err != nil {
				continue
			}
			for rows.Next() {
				var k string
				if rows.Scan(&k) == nil {
					w.counts[k]++
				}
			}
			rows.Close()
			w.samples++
		}
	}()
	fn()
	close(stop)
	<-done
}

// String is the states and waits seen, commonest first, as the average
// number of sessions in each per sample.
func (w *waitSampler) String() string {
	keys := make([]string, 0, len(w.counts))
	for k := range w.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return w.counts[b] - w.counts[a] })
	parts := []string{fmt.Sprintf("%d samples", w.samples)}
	for _, k := range keys[:min(len(keys), 6)] {
		parts = append(parts, fmt.Sprintf("%s %.2f", k, float64(w.counts[k])/float64(max(w.samples, 1))))
	}
	return strings.Join(parts, ", ")
}

// ratio is the median of the rounds' ratios (xs[i] / ceiling[i]).
func ratio(xs, ceiling []float64) string {
	rs := make([]float64, len(xs))
	for i := range xs {
		rs[i] = xs[i] / ceiling[i]
	}
	return strconv.FormatFloat(medF(rs), 'f', 2, 64)
}

func cpuMed(xs []float64) string {
	return strconv.FormatFloat(medF(xs), 'f', 1, 64)
}

// usageKey creates an API key for the bench.
func usageKey(t *testing.T, args ...string) string {
	out, _ := run(t, "", nil, append([]string{"apikey", "create", "--name", "bench"}, args...)...)
	return strings.TrimSpace(out[strings.LastIndex(out, "mgk_"):])
}

func stopServer(s *server) string {
	s.cmd.Process.Signal(os.Interrupt)
	<-s.done
	s.done <- nil
	return peakRSSOf(s)
}

// TestBenchUsageAPI measures the usage API on the real binary over
// loopback, on SQLite and, when MARKETGATE_TEST_POSTGRES_URL names a
// server, on Postgres with one and with two replicas, each beside its
// ceiling: plain inserts of the same rows (ids in sequence and random)
// into the same table without HTTP.
func TestBenchUsageAPI(t *testing.T) {
	benchOn(t)
	dir := t.TempDir()
	cfg := store.Config{DataDir: dir}
	customers := seedMetered(t, cfg, 1000)
	key := usageKey(t, "--data-dir", dir)
	// The ceiling's own database, seeded alike: it grows with the
	// ceiling's rows as the API's does with the API's.
	c := newCeiling(t, store.Config{DataDir: t.TempDir()}, 1000)
	s := start(t, dir, nil, "--sandbox")
	f := newUsageLoad(t, []*server{s}, key, customers).measure(c)
	c.close()
	f.report(t, "SQLite", stopServer(s))
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Log("usage API on Postgres: not measured (set " + storetest.PostgresEnv + ")")
		return
	}
	pg := storetest.Config(t, store.Postgres)
	customers = seedMetered(t, pg, 1000)
	db := []string{"--database-url", pg.DatabaseURL}
	key = usageKey(t, db...)
	c = newCeiling(t, storetest.Config(t, store.Postgres), 1000)
	defer c.close()
	a := start(t, t.TempDir(), nil, append([]string{"--sandbox"}, db...)...)
	l := newUsageLoad(t, []*server{a}, key, customers)
	l.waits = newWaitSampler(t, pg.DatabaseURL)
	one := l.measure(c)
	b := start(t, t.TempDir(), nil, append([]string{"--sandbox"}, db...)...)
	l = newUsageLoad(t, []*server{a, b}, key, customers)
	l.waits = newWaitSampler(t, pg.DatabaseURL)
	two := l.measure(c)
	if t.Failed() {
		for _, s := range []*server{a, b} {
			for _, line := range strings.Split(s.out.String(), "\n") {
				if strings.Contains(line, "ERROR") || strings.Contains(line, "status=500") {
					t.Log(line)
				}
			}
		}
	}
	rssA, rssB := stopServer(a), stopServer(b)
	one.report(t, "Postgres, one replica", rssA)
	two.report(t, "Postgres, two replicas", rssA+" and "+rssB)
}

func peakRSSOf(s *server) string {
	if s.cmd.ProcessState != nil {
		if ru, ok := s.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			return strconv.FormatInt(ru.Maxrss/1024, 10) + " MB"
		}
	}
	return peakRSS(s.cmd.Process.Pid)
}

func med(xs []float64) string {
	return strconv.FormatFloat(medF(xs), 'f', 0, 64)
}

// ceiling inserts the rows the API stores (every column; ids in sequence
// or spread like random UUIDs; about 1,000 a transaction, as a batch) into
// usage_events of its own database, seeded as the API's, in-process, with
// no HTTP, no validation and no hourly totals: the database's own rate.
type ceiling struct {
	t         *testing.T
	st        *store.Store
	db        *sql.DB
	stmt      *sql.Stmt
	bucketed  bool
	width     int
	customers int
	n         int64
	prefix    string
}

// ceilingRows is how many rows one statement inserts.
const ceilingRows = 400

func newCeiling(t *testing.T, cfg store.Config, customers int) *ceiling {
	seedMetered(t, cfg, customers)
	ctx := context.Background()
	st, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &ceiling{t: t, st: st, customers: customers, prefix: "ceiling-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"}
	c.db, _ = st.TestingDB(t).DB()
	// The dedup key's bucket, when the schema has one (issue 18).
	c.bucketed = st.TestingDB(t).Exec("SELECT dedup_bucket FROM usage_events WHERE 1 = 0").Error == nil
	cols, width := "event_id, api_key_id, subscription_id, dimension, quantity, occurred_at, hour, late, status, reason, source, received_at", 12
	if c.bucketed {
		cols, width = "dedup_bucket, "+cols, 13
	}
	c.width = width
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"
	q := "INSERT INTO usage_events (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+",", ceilingRows), ",")
	if st.Dialect == store.Postgres {
		q = numbered(q)
	}
	if c.stmt, err = c.db.PrepareContext(ctx, q); err != nil {
		t.Fatal(err)
	}
	return c
}

// round inserts for 3 s and answers rows per second.
func (c *ceiling) round(random bool) float64 {
	ctx := context.Background()
	startAt := time.Now()
	inserted := 0
	for time.Since(startAt) < 3*time.Second {
		tx, err := c.db.BeginTx(ctx, nil)
		if err != nil {
			c.t.Fatal(err)
		}
		now := time.Now().UTC()
		hour := now.Truncate(time.Hour)
		bucket := now.Unix() / (25 * 3600)
		for chunk := 0; chunk < 1000/ceilingRows+1; chunk++ {
			args := make([]any, 0, ceilingRows*c.width)
			for i := 0; i < ceilingRows; i++ {
				c.n++
				if c.bucketed {
					args = append(args, bucket)
				}
				id := string(appendEventID(nil, c.prefix, c.n, random))
				args = append(args, id, 1, 1+c.n%int64(c.customers), "api_calls", 1.0, now, hour, false, "accepted", "", "api", now)
			}
			if _, err := tx.StmtContext(ctx, c.stmt).ExecContext(ctx, args...); err != nil {
				c.t.Fatal(err)
			}
			inserted += ceilingRows
		}
		if err := tx.Commit(); err != nil {
			c.t.Fatal(err)
		}
	}
	return float64(inserted) / time.Since(startAt).Seconds()
}

func (c *ceiling) close() {
	c.stmt.Close()
	c.st.Close()
}

// numbered numbers a statement's placeholders for Postgres.
func numbered(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestBenchDispatch seals and sends the last hour's records of 10,000 and
// of 100,000 metered subscriptions × 2 dimensions (the figure and
// its target) with 50 ms per marketplace call, and reports how long the
// records took to drain and the peak RSS of each (memory should stay flat
// while the work grows tenfold).
func TestBenchDispatch(t *testing.T) {
	benchOn(t)
	for _, n := range []int{10000, 100000} {
		dir := t.TempDir()
		seedMetered(t, store.Config{DataDir: dir}, n)
		_, drain, accepted, rss, _ := dispatchHour(t, dir, "", 1)
		t.Logf("dispatch of the last hour's records of %d subscriptions × 2 dimensions (plus the sandbox's own) with 50 ms per call: drained in %.1f s (from the first pending record seen), %d accepted (%.0f a second), peak RSS %s",
			n, drain, accepted, float64(accepted)/drain, rss)
	}
}

// TestBenchSeatCheck measures GET /api/v1/seats/check on the real binary
// over loopback with SQLite at 10,000 customers × 100 seats (one per-user
// Microsoft subscription each, 1,000,000 seats): requests per second and
// the 99th-percentile latency at 16 concurrent clients, nine checks in ten
// for a seat holder and one for a user without a seat. Twice: first checks
// (each user's first in the hour, so each writes the seat's last-checked
// time, and each organisation's first reads its subscriptions), then the
// same users again (what a seller's application does all day: answered
// from the cached organisation, nothing written).
func TestBenchSeatCheck(t *testing.T) {
	benchOn(t)
	const customers, seatsEach, clients = 10000, 100, 16
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(); err != nil {
		t.Fatal(err)
	}
	tenant := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }
	began := time.Now()
	err = st.TestingDB(t).WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		then := time.Now().UTC().Add(-48 * time.Hour)
		o := store.Offer{Marketplace: "azure", Name: "Bench seats", MarketplaceID: "bench-seats", CreatedAt: then, UpdatedAt: then,
			Plans: []store.Plan{{PlanID: "per-user", Name: "Per user", SeatBased: true, Dimensions: "[]", ActivationPolicy: "automatic", CreatedAt: then, UpdatedAt: then}}}
		if err := tx.Create(&o).Error; err != nil {
			return err
		}
		for base := 0; base < customers; base += 500 {
			cs := make([]store.Customer, 0, 500)
			for i := base; i < base+500; i++ {
				cs = append(cs, store.Customer{Name: fmt.Sprintf("Customer %d", i), AzureTenantID: tenant(i), CreatedAt: then, UpdatedAt: then})
			}
			if err := tx.Create(&cs).Error; err != nil {
				return err
			}
			subs := make([]store.Subscription, len(cs))
			for i := range cs {
				subs[i] = store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: then, CustomerID: &cs[i].ID, OfferID: &o.ID,
					PlanID: &o.Plans[0].ID, Quantity: seatsEach, AzureSubscriptionID: fmt.Sprintf("bench-%d", base+i), Version: 1, CreatedAt: then, UpdatedAt: then}
			}
			if err := tx.Create(&subs).Error; err != nil {
				return err
			}
			var sql strings.Builder
			args := make([]any, 0, 4*seatsEach)
			for i := range subs {
				sql.Reset()
				args = args[:0]
				sql.WriteString("INSERT INTO seats (subscription_id, customer_id, email, source, assigned_at) VALUES ")
				for u := 0; u < seatsEach; u++ {
					if u > 0 {
						sql.WriteString(",")
					}
					sql.WriteString("(?, ?, ?, 'manual', ?)")
					args = append(args, subs[i].ID, cs[i].ID, fmt.Sprintf("user%d@c%d.example", u, base+i), then)
				}
				if err := tx.Exec(sql.String(), args...).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d customers × %d seats in %s", customers, seatsEach, time.Since(began).Round(time.Second))
	out, _ := run(t, "", nil, "apikey", "create", "--data-dir", dir, "--name", "bench", "--scopes", "seats")
	key := strings.TrimSpace(out[strings.LastIndex(out, "mgk_"):])
	s := start(t, dir, nil)
	tr := &http.Transport{MaxIdleConnsPerHost: 32, MaxConnsPerHost: 32}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	host := strings.TrimPrefix(s.url, "http://")
	var seq, replay atomic.Int64 // replay > 0: the users of the first replay checks again
	// check asks once, through Go's http.Client (hc) or through lc.
	check := func(lc *leanClient) (bool, error) {
		n := seq.Add(1)
		if r := replay.Load(); r > 0 {
			n = 1 + (n-1)%r
		}
		c := int(n*7919) % customers
		u := int(n % (seatsEach + seatsEach/9)) // about one in ten beyond the seats
		target := fmt.Sprintf("/api/v1/seats/check?tenant_id=%s&email=user%d@c%d.example", tenant(c), u, c)
		var status int
		var body []byte
		if lc != nil {
			var err error
			if status, body, err = lc.get(host, target, "Bearer "+key); err != nil {
				return false, err
			}
		} else {
			req, _ := http.NewRequest(http.MethodGet, s.url+target, nil)
			req.Header.Set("Authorization", "Bearer "+key)
			res, err := hc.Do(req)
			if err != nil {
				return false, err
			}
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			status = res.StatusCode
		}
		if status != 200 {
			return false, fmt.Errorf("HTTP %d %s", status, body)
		}
		licensed := bytes.Contains(body, []byte(`"licensed":true`))
		if licensed != (u < seatsEach) {
			return false, fmt.Errorf("user%d@c%d: licensed=%v: %s", u, c, licensed, body)
		}
		return licensed, nil
	}
	// floor asks GET /healthz instead (a database ping through the same
	// server, middleware and clients, no seat read): what any request
	// costs on these cores.
	floor := func(lc *leanClient) (bool, error) {
		status, body, err := lc.get(host, "/healthz", "Bearer "+key)
		if err == nil && status != 200 {
			err = fmt.Errorf("HTTP %d %s", status, body)
		}
		return true, err
	}
	ask := check
	// runFor answers requests/s and the latencies' p50, p90 and p99.
	runFor := func(d time.Duration, clients int, lean bool) (float64, [3]time.Duration) {
		var wg sync.WaitGroup
		lat := make([][]time.Duration, clients)
		stop := time.Now().Add(d)
		startAt := time.Now()
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var lc *leanClient
				if lean {
					lc = &leanClient{}
					defer lc.close()
				}
				for time.Now().Before(stop) {
					t0 := time.Now()
					if _, err := ask(lc); err != nil {
						t.Error(err)
						return
					}
					lat[c] = append(lat[c], time.Since(t0))
				}
			}()
		}
		wg.Wait()
		var all []time.Duration
		for _, l := range lat {
			all = append(all, l...)
		}
		slices.Sort(all)
		if len(all) == 0 {
			return 0, [3]time.Duration{}
		}
		return float64(len(all)) / time.Since(startAt).Seconds(), [3]time.Duration{all[len(all)/2], all[len(all)*9/10], all[len(all)*99/100]}
	}
	// measure answers the medians of 3 runs of 4 s: requests/s, p99 (ms,
	// with p50 and p90 in brackets) and the server's CPU time per check
	// (µs), which depends far less on what else the machine does than the
	// other two; and the load generator's CPU time per check (µs).
	measure := func(clients int, lean bool) (string, string, string, string) {
		var rates, cpus, gens []float64
		var qs [3][]float64
		for i := 0; i < 3; i++ {
			before, gen, startAt := cpuSecondsOf(s.cmd.Process.Pid), cpuSecondsOf(os.Getpid()), time.Now()
			r, q := runFor(4*time.Second, clients, lean)
			used, el := cpuSecondsOf(s.cmd.Process.Pid)-before, time.Since(startAt).Seconds()
			gen = cpuSecondsOf(os.Getpid()) - gen
			rates, cpus, gens = append(rates, r), append(cpus, used/(r*el)*1e6), append(gens, gen/(r*el)*1e6)
			for j := range q {
				qs[j] = append(qs[j], float64(q[j].Microseconds())/1000)
			}
		}
		return med(rates), latencyMed(qs), cpuMed(cpus), cpuMed(gens)
	}
	runFor(time.Second, clients, true) // warm up
	firstRate, firstP99, firstCPU, firstGen := measure(clients, true)
	replay.Store(seq.Load())
	againRate, againP99, againCPU, againGen := measure(clients, true)
	stdRate, stdP99, stdCPU, stdGen := measure(clients, false)
	t.Logf("seat check, SQLite, %d customers × %d seats, %d clients (medians of 3 runs of 4 s): first checks %s requests/s, p99 %s ms, %s µs of server CPU per check; "+
		"the same users again %s requests/s, p99 %s ms, %s µs of server CPU per check; peak RSS %s",
		customers, seatsEach, clients, firstRate, firstP99, firstCPU, againRate, againP99, againCPU, peakRSS(s.cmd.Process.Pid))
	// The load generator runs on the same two cores. Each client above
	// writes its requests on a connection of its own and reads the answers
	// with http.ReadResponse (leanClient); Go's http.Client, which earlier
	// figures used, hands each request between goroutines and takes about
	// as much CPU as the server.
	t.Logf("seat check, the load generator's CPU per check: first checks %s µs, again %s µs; the same users again through Go's http.Client, %d clients: %s requests/s, p99 %s ms, %s µs of server CPU and %s µs of the generator's per check",
		firstGen, againGen, clients, stdRate, stdP99, stdCPU, stdGen)
	// Latency against load: the same users again at fewer and more
	// clients. Each client waits for its answer before asking again, so
	// past the point where the two cores are busy, more clients add only
	// waiting (p99) and no requests.
	var curve []string
	for _, n := range []int{4, 8, 16, 32} {
		r, p, c, _ := measure(n, true)
		curve = append(curve, fmt.Sprintf("%d clients %s requests/s, p99 %s ms, %s µs CPU per check", n, r, p, c))
	}
	t.Logf("seat check, the same users again, by clients (medians of 3 runs of 4 s): %s", strings.Join(curve, "; "))
	// The floor: at 16 clients sharing the cores, most of a check's p99
	// is the kernel's time slices of the other process (the load
	// generator), which a request doing nothing waits out too.
	ask = floor
	r, p, c, _ := measure(clients, true)
	ask = check
	t.Logf("GET /healthz instead (a database ping, no seat read; the floor of any request here), %d clients: %s requests/s, p99 %s ms, %s µs of server CPU per request", clients, r, p, c)
	// At a fixed rate: the clients above each wait for an answer before
	// asking again, so they ask as fast as the cores answer and every
	// figure above is at saturation, where p99 is mostly waiting in line
	// (at 16 clients and 12,000 answers a second, a check waits about
	// 1.3 ms on average). The target is a rate and a p99 at it:
	// here the checks are asked at 10,000 a second (spread evenly, on up
	// to 64 connections, however long the answers take), each latency
	// counted from when its check was due, not from when a connection was
	// free to send it (so a stall counts for every check it delays).
	// atRates asks the seat check, then GET /healthz, at each rate.
	atRates := func(rates ...float64) string {
		var paced []string
		for _, rate := range rates {
			for _, what := range []string{"seat check", "GET /healthz"} {
				if ask = check; what != "seat check" {
					ask = floor
				}
				r, p, c, g := measureAtRate(t, rate, 64, s.cmd.Process.Pid, func(lc *leanClient) error { _, err := ask(lc); return err })
				paced = append(paced, fmt.Sprintf("%s at %.0f/s: %s answered/s, p99 %s ms, %s µs of server CPU and %s of the generator's each", what, rate, r, p, c, g))
			}
		}
		ask = check
		return strings.Join(paced, "; ")
	}
	t.Logf("seat check (the same users again) and GET /healthz asked at a fixed rate (medians of 3 runs of 4 s, latency from when each was due): %s", atRates(5000, 10000))
	// The same with the server's threads on one core and the load
	// generator's on the others, as when the seller's application runs
	// elsewhere: sharing the cores, a thread of either waits out the
	// kernel's time slices of the other's, which is most of the p99 above.
	restore, err := separateCores(s.cmd.Process.Pid)
	if err != nil {
		t.Logf("seat check on separate cores: not measured: %v", err)
		return
	}
	defer restore()
	curve = curve[:0]
	for _, n := range []int{4, 16} {
		r, p, c, _ := measure(n, true)
		curve = append(curve, fmt.Sprintf("%d clients %s requests/s, p99 %s ms, %s µs CPU per check", n, r, p, c))
	}
	t.Logf("seat check, the same users again, the server on one core and the load generator on the other (medians of 3 runs of 4 s): %s", strings.Join(curve, "; "))
	// GET /healthz here is the floor of a request on one core: at 10,000
	// a second it uses under half of the core and its p99 stays within
	// 5 ms; the seat check costs about twice its CPU a request.
	t.Logf("seat check (the same users again) and GET /healthz asked at a fixed rate, the server on one core and the load generator on the other (medians of 3 runs of 4 s): %s", atRates(5000, 7500, 10000))
}

// separateCores puts every thread of process pid on the first core this
// process may use and this process's threads on the others (threads
// started later inherit their starter's); restore gives this process its
// cores back.
func separateCores(pid int) (restore func(), err error) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		return nil, err
	}
	var server, gen unix.CPUSet
	for c := 0; c < 1024; c++ {
		if all.IsSet(c) {
			if server.Count() == 0 {
				server.Set(c)
			} else {
				gen.Set(c)
			}
		}
	}
	if gen.Count() == 0 {
		return nil, errors.New("one core only")
	}
	if err := setAffinity(pid, &server); err != nil {
		return nil, err
	}
	if err := setAffinity(os.Getpid(), &gen); err != nil {
		return nil, err
	}
	return func() { _ = setAffinity(os.Getpid(), &all) }, nil
}

// setAffinity sets the cores of every thread of process pid; twice, for a
// thread started by one not yet set.
func setAffinity(pid int, set *unix.CPUSet) error {
	for range 2 {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			return err
		}
		for _, task := range tasks {
			tid, _ := strconv.Atoi(task.Name())
			if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
				return err
			}
		}
	}
	return nil
}

// leanClient is a load generator's keep-alive connection: it writes each
// request's bytes itself and reads the answer with http.ReadResponse, without
// http.Transport's goroutines and hand-offs, so that it takes less of the
// cores it shares with the server it measures.
type leanClient struct {
	conn net.Conn
	r    *bufio.Reader
	req  []byte
	body bytes.Buffer
}

// get sends GET target to host with the Authorization header and answers
// the status and body (valid until the next call).
func (c *leanClient) get(host, target, auth string) (int, []byte, error) {
	return c.do(http.MethodGet, host, target, auth, nil)
}

// do sends a request (a JSON body when body is not nil) and answers as get.
func (c *leanClient) do(method, host, target, auth string, body []byte) (int, []byte, error) {
	if c.conn == nil {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			return 0, nil, err
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 16<<10)
	}
	c.req = append(c.req[:0], method...)
	c.req = append(c.req, ' ')
	c.req = append(c.req, target...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, host...)
	c.req = append(c.req, "\r\nAuthorization: "...)
	c.req = append(c.req, auth...)
	if body != nil {
		c.req = append(c.req, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
	}
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, body...)
	if _, err := c.conn.Write(c.req); err != nil {
		c.close()
		return 0, nil, err
	}
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		c.close()
		return 0, nil, err
	}
	c.body.Reset()
	_, err = c.body.ReadFrom(res.Body)
	res.Body.Close()
	if err != nil || res.Close {
		c.close()
	}
	return res.StatusCode, c.body.Bytes(), err
}

func (c *leanClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func medF(xs []float64) float64 {
	c := slices.Clone(xs)
	slices.Sort(c)
	return c[len(c)/2]
}

// measureAtRate asks do at rate requests a second, spread evenly over
// 4 s, on up to conns connections (leanClient), three times, and answers
// the medians of: the rate answered, p99 latency in ms (with p50 and p90
// in brackets) and the CPU time process pid used per request (µs). A
// request's latency counts from when it was due, not from when a
// connection took it: when every connection is busy, the requests due
// wait, and that wait is in their latency (no coordinated omission).
func measureAtRate(t *testing.T, rate float64, conns, pid int, do func(*leanClient) error) (string, string, string, string) {
	t.Helper()
	const d = 4 * time.Second
	var rates, cpus, gens []float64
	var qs [3][]float64
	for run := 0; run < 3; run++ {
		due := make(chan int, int(rate*d.Seconds())+1)
		lat := make([][]time.Duration, conns)
		before, gen := cpuSecondsOf(pid), cpuSecondsOf(os.Getpid())
		start := time.Now()
		var wg sync.WaitGroup
		for c := 0; c < conns; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lc := &leanClient{}
				defer lc.close()
				for i := range due {
					at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					if err := do(lc); err != nil {
						t.Error(err)
						return
					}
					lat[c] = append(lat[c], time.Since(at))
				}
			}()
		}
		total := int(rate * d.Seconds())
		for sent := 0; sent < total; {
			for now := int(time.Since(start).Seconds() * rate); sent < total && sent <= now; sent++ {
				due <- sent
			}
			time.Sleep(50 * time.Microsecond)
		}
		close(due)
		wg.Wait()
		el, used, gen := time.Since(start).Seconds(), cpuSecondsOf(pid)-before, cpuSecondsOf(os.Getpid())-gen
		var all []time.Duration
		for _, l := range lat {
			all = append(all, l...)
		}
		if len(all) == 0 {
			t.Fatal("no request answered")
		}
		slices.Sort(all)
		rates = append(rates, float64(len(all))/el)
		cpus, gens = append(cpus, used/float64(len(all))*1e6), append(gens, gen/float64(len(all))*1e6)
		for j, q := range []int{len(all) / 2, len(all) * 9 / 10, len(all) * 99 / 100} {
			qs[j] = append(qs[j], float64(all[q].Microseconds())/1000)
		}
	}
	return med(rates), latencyMed(qs), cpuMed(cpus), cpuMed(gens)
}

// latencyMed formats the medians of runs' p50, p90 and p99 latencies (ms):
// "p99 (p50 x, p90 y)".
func latencyMed(qs [3][]float64) string {
	ms := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
	return fmt.Sprintf("%s (p50 %s, p90 %s)", ms(medF(qs[2])), ms(medF(qs[0])), ms(medF(qs[1])))
}
