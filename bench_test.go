package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
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
// dimensions, created two days ago.
func seedMetered(t *testing.T, dir string, n int) []string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(); err != nil {
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

func TestBenchUsageAPI(t *testing.T) {
	benchOn(t)
	dir := t.TempDir()
	customers := seedMetered(t, dir, 1000)
	ceilingBefore := insertCeiling(t, dir, customers) // the empty table
	out, _ := run(t, "", nil, "apikey", "create", "--data-dir", dir, "--name", "bench")
	key := strings.TrimSpace(out[strings.LastIndex(out, "mgk_"):])
	s := start(t, dir, nil, "--sandbox")
	const clients = 16
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	var seq atomic.Int64
	now := time.Now().UTC().Format(time.RFC3339)
	// Event ids: the sequence ("e123"), or spread like random UUIDs (a
	// 64-bit mix of the sequence in hex), which insert all over the index.
	var spread atomic.Bool
	mix := func(x uint64) uint64 {
		x += 0x9e3779b97f4a7c15
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
		x = (x ^ (x >> 27)) * 0x94d049bb133111eb
		return x ^ (x >> 31)
	}
	post := func(n int) error {
		// Built with appends: the load generator shares the machine's two cores.
		buf := make([]byte, 0, n*110)
		buf = append(buf, '[')
		for i := 0; i < n; i++ {
			if i > 0 {
				buf = append(buf, ',')
			}
			id := seq.Add(1)
			buf = append(buf, `{"id":"e`...)
			if spread.Load() {
				buf = strconv.AppendUint(buf, mix(uint64(id)), 16)
				buf = strconv.AppendUint(buf, mix(uint64(id)+1), 16)
			} else {
				buf = strconv.AppendInt(buf, id, 10)
			}
			buf = append(buf, `","customer":"`...)
			buf = append(buf, customers[id%int64(len(customers))]...)
			buf = append(buf, `","dimension":"api_calls","quantity":`...)
			buf = strconv.AppendInt(buf, 1+id%5, 10)
			buf = append(buf, `,"timestamp":"`...)
			buf = append(buf, now...)
			buf = append(buf, `"}`...)
		}
		buf = append(buf, ']')
		req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/usage", bytes.NewReader(buf))
		req.Header.Set("Authorization", "Bearer "+key)
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
	runFor := func(batch int, d time.Duration) (float64, float64) {
		var reqs atomic.Int64
		var wg sync.WaitGroup
		stop := time.Now().Add(d)
		startAt := time.Now()
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					if err := post(batch); err != nil {
						t.Error(err)
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
	runFor(100, time.Second) // warm up
	var batched, single, random []float64
	for i := 0; i < 3; i++ {
		_, ev := runFor(1000, 4*time.Second)
		batched = append(batched, ev)
		rq, _ := runFor(1, 4*time.Second)
		single = append(single, rq)
		spread.Store(true)
		_, rv := runFor(1000, 4*time.Second)
		random = append(random, rv)
		spread.Store(false)
	}
	// The ceiling: the same rows inserted into the same database without HTTP.
	s.cmd.Process.Signal(os.Interrupt)
	<-s.done
	s.done <- nil
	ceiling := insertCeiling(t, dir, customers) // the table as the API left it
	t.Logf("usage API, SQLite, %d clients: batches of 1,000: %s events/s (median of 3; ids in sequence), %s events/s (ids spread like random UUIDs); "+
		"single-event batches: %s requests/s; plain inserts of the same rows without HTTP: %s rows/s into the empty table, %s rows/s into the table as the API left it; peak RSS %s",
		clients, med(batched), med(random), med(single), med(ceilingBefore), med(ceiling), peakRSSOf(s))
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
	c := append([]float64(nil), xs...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return strconv.FormatFloat(c[len(c)/2], 'f', 0, 64)
}

// insertCeiling inserts the same usage_events rows the API stores (all
// columns, batches of 1,000, one transaction each), in-process, with no
// HTTP, no validation and no hourly totals: the database's own rate.
func insertCeiling(t *testing.T, dir string, customers []string) []float64 {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, _ := st.TestingDB(t).DB()
	const rows = 400
	q := "INSERT INTO usage_events (event_id, api_key_id, subscription_id, dimension, quantity, occurred_at, hour, late, status, reason, source, received_at) VALUES " +
		strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?),", rows-1) + "(?,?,?,?,?,?,?,?,?,?,?,?)"
	stmt, err := db.PrepareContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	var out []float64
	n := 0
	prefix := "ceiling-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
	for round := 0; round < 3; round++ {
		startAt := time.Now()
		inserted := 0
		for time.Since(startAt) < 3*time.Second {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			hour := now.Truncate(time.Hour)
			for chunk := 0; chunk < 1000/rows+1; chunk++ { // about 1,000 rows a transaction, as a batch
				args := make([]any, 0, rows*12)
				for i := 0; i < rows; i++ {
					n++
					args = append(args, prefix+strconv.Itoa(n), 1, 1+n%len(customers), "api_calls", 1.0, now, hour, false, "accepted", "", "api", now)
				}
				if _, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...); err != nil {
					t.Fatal(err)
				}
				inserted += rows
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, float64(inserted)/time.Since(startAt).Seconds())
	}
	return out
}

func TestBenchDispatch(t *testing.T) {
	benchOn(t)
	dir := t.TempDir()
	seedMetered(t, dir, 10000)
	env := []string{"MARKETGATE_ADMIN_EMAIL=admin@example.com", "MARKETGATE_ADMIN_PASSWORD=bench-password"}
	s := start(t, dir, env, "--sandbox", "--sandbox-latency", "50ms")
	c := client(t)
	r := postJSON(t, c, s.url+"/api/auth/login", `{"email":"admin@example.com","password":"bench-password"}`)
	r.Body.Close()
	health := func() metering.Health {
		var h struct {
			Health metering.Health `json:"health"`
		}
		res, err := c.Get(s.url + "/api/metering/health")
		if err != nil {
			t.Fatal(err)
		}
		decode(t, res, &h)
		return h.Health
	}
	// The first sealing at start makes 2 records for each subscription for the last hour.
	var first time.Time
	deadline := time.Now().Add(3 * time.Minute)
	for {
		h := health()
		if first.IsZero() && h.Pending > 0 {
			first = time.Now()
		}
		if !first.IsZero() && h.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not drained: %+v", h)
		}
		time.Sleep(50 * time.Millisecond)
	}
	drain := time.Since(first)
	h := health()
	t.Logf("dispatch of the last hour's records of 10,000 subscriptions × 2 dimensions (plus the sandbox's own) with 50 ms per call: drained in %.1f s (from the first pending record seen), %d accepted, peak RSS %s",
		drain.Seconds(), h.Accepted, peakRSS(s.cmd.Process.Pid))
}

// TestBenchSeatCheck measures GET /api/v1/seats/check on the real binary
// over loopback with SQLite at 10,000 customers × 100 seats (one per-user
// Microsoft subscription each, 1,000,000 seats): requests per second and
// the 99th-percentile latency at 16 concurrent clients, nine checks in ten
// for a seat holder and one for a user without a seat.
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
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var seq atomic.Int64
	check := func() (bool, error) {
		n := seq.Add(1)
		c := int(n*7919) % customers
		u := int(n % (seatsEach + seatsEach/9)) // about one in ten beyond the seats
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/seats/check?tenant_id=%s&email=user%d@c%d.example", s.url, tenant(c), u, c), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := hc.Do(req)
		if err != nil {
			return false, err
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			return false, fmt.Errorf("HTTP %d %s", res.StatusCode, body)
		}
		licensed := bytes.Contains(body, []byte(`"licensed":true`))
		if licensed != (u < seatsEach) {
			return false, fmt.Errorf("user%d@c%d: licensed=%v: %s", u, c, licensed, body)
		}
		return licensed, nil
	}
	runFor := func(d time.Duration) (float64, time.Duration) {
		var wg sync.WaitGroup
		lat := make([][]time.Duration, clients)
		stop := time.Now().Add(d)
		startAt := time.Now()
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					t0 := time.Now()
					if _, err := check(); err != nil {
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
			return 0, 0
		}
		return float64(len(all)) / time.Since(startAt).Seconds(), all[len(all)*99/100]
	}
	runFor(time.Second) // warm up
	var rates, p99s []float64
	for i := 0; i < 3; i++ {
		r, p := runFor(4 * time.Second)
		rates, p99s = append(rates, r), append(p99s, float64(p.Microseconds())/1000)
	}
	t.Logf("seat check, SQLite, %d customers × %d seats, %d clients: %s requests/s (median of 3 runs of 4 s), p99 %s ms (median); peak RSS %s",
		customers, seatsEach, clients, med(rates), strconv.FormatFloat(medF(p99s), 'f', 2, 64), peakRSS(s.cmd.Process.Pid))
}

func medF(xs []float64) float64 {
	c := slices.Clone(xs)
	slices.Sort(c)
	return c[len(c)/2]
}
