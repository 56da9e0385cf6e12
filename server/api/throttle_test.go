package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// clock is a moved clock shared by the instances of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// replicas starts n server instances, each with its own connection pool,
// on one database (one Postgres, or one SQLite file), sharing a moved clock.
func replicas(t *testing.T, dialect string, n int, set func(*api.Deps)) ([]*env, *clock) {
	t.Helper()
	cfg := storetest.Migrated(t, dialect)
	clk := &clock{t: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
	var out []*env
	for i := 0; i < n; i++ {
		st, err := store.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if i == 0 {
			must(t, st.Migrate())
		}
		st.Now = clk.now
		d := api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Info: api.Info{Version: "test", BaseURL: "http://portal.test"}, Now: clk.now}
		if set != nil {
			set(&d)
		}
		h, err := api.New(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &env{t: t, st: st, h: h})
	}
	return out, clk
}

func loginBody(email, pw string) string {
	return `{"email":"` + email + `","password":"` + pw + `"}`
}

func retryAfter(t *testing.T, r resp) time.Duration {
	t.Helper()
	r.errCode(t, http.StatusTooManyRequests, "rate_limited")
	n, err := strconv.Atoi(r.hdr.Get("Retry-After"))
	if err != nil {
		t.Fatalf("Retry-After %q", r.hdr.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

// Issue 15, finding 5: "ten wrong passwords lock it for 15 minutes for
// everyone, the owner included. Slow an attacker down without locking the
// owner out (limits per account and client together, growing delays)."
// Two replicas on one database count together.
func TestSignInThrottleSlowsAttackerNotOwner(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			es, clk := replicas(t, dialect, 2, nil)
			es[0].user("owner@example.com", store.RoleAdmin, nil)
			attacker := []*browser{{e: es[0], ip: "198.51.100.7"}, {e: es[1], ip: "198.51.100.7"}}
			bad := loginBody("owner@example.com", "wrong-password")
			// 5 free failures, alternating between the replicas.
			for i := 0; i < 5; i++ {
				attacker[i%2].do("POST", "/api/auth/login", bad, nil).errCode(t, 401, "invalid_credentials")
			}
			// The 6th waits on either replica, the right password too.
			first := retryAfter(t, attacker[1].do("POST", "/api/auth/login", bad, nil))
			retryAfter(t, attacker[0].do("POST", "/api/auth/login", loginBody("owner@example.com", testPassword), nil))
			// The owner, from another address, signs in on either replica.
			for _, e := range es {
				owner := &browser{e: e, ip: "203.0.113.20"}
				owner.do("POST", "/api/auth/login", loginBody("owner@example.com", testPassword), nil)
				if r := owner.get("/api/auth/me"); r.code != 200 {
					t.Fatalf("the owner was locked out: %d %s", r.code, r.body)
				}
			}
			// Each further failure doubles the delay.
			prev := first
			for i := 0; i < 4; i++ {
				clk.add(prev)
				attacker[i%2].do("POST", "/api/auth/login", bad, nil).errCode(t, 401, "invalid_credentials")
				d := retryAfter(t, attacker[(i+1)%2].do("POST", "/api/auth/login", bad, nil))
				if d < 2*prev-time.Second || d > 2*prev+time.Second {
					t.Fatalf("delay %d: %v after %v, want about double", i, d, prev)
				}
				prev = d
			}
			// Delays end: an hour without failures forgets them.
			clk.add(prev + time.Hour)
			attacker[0].do("POST", "/api/auth/login", loginBody("owner@example.com", testPassword), nil)
			if r := attacker[0].get("/api/auth/me"); r.code != 200 {
				t.Fatalf("still throttled after an hour: %d", r.code)
			}
		})
	}
}

// Per client: many accounts from one address are slowed down too, on
// every replica.
func TestSignInThrottlePerClient(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			es, clk := replicas(t, dialect, 2, nil)
			es[0].user("b@example.com", store.RoleViewer, nil)
			for i := 0; i < 20; i++ {
				b := &browser{e: es[i%2], ip: "192.0.2.9"}
				b.do("POST", "/api/auth/login", loginBody("user"+strconv.Itoa(i)+"@example.com", "x-wrong-pass"), nil).errCode(t, 401, "invalid_credentials")
			}
			for _, e := range es {
				retryAfter(t, (&browser{e: e, ip: "192.0.2.9"}).do("POST", "/api/auth/login", loginBody("b@example.com", testPassword), nil))
			}
			// Another address is not affected.
			(&browser{e: es[1], ip: "192.0.2.10"}).do("POST", "/api/auth/login", loginBody("b@example.com", testPassword), nil)
			clk.add(2 * time.Second)
			b := &browser{e: es[0], ip: "192.0.2.9"}
			b.do("POST", "/api/auth/login", loginBody("b@example.com", testPassword), nil)
			if r := b.get("/api/auth/me"); r.code != 200 {
				t.Fatalf("after the delay: %d %s", r.code, r.body)
			}
		})
	}
}

// Issue 15, finding 3: "X-Forwarded-For is trusted from any client:
// rotating it passes all sign-in rate limits and writes a forged address
// into the audit log. Trust forwarded headers only from configured proxies."
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("a@example.com", store.RoleAdmin, nil)
		// Rotating X-Forwarded-For does not reset the count.
		b := &browser{e: e, ip: "198.51.100.7"}
		for i := 0; i < 5; i++ {
			b.do("POST", "/api/auth/login", loginBody("a@example.com", "wrong-password"),
				map[string]string{"X-Forwarded-For": "203.0.113." + strconv.Itoa(i), "X-Real-IP": "203.0.114." + strconv.Itoa(i)}).errCode(t, 401, "invalid_credentials")
		}
		retryAfter(t, b.do("POST", "/api/auth/login", loginBody("a@example.com", "wrong-password"),
			map[string]string{"X-Forwarded-For": "203.0.113.99"}))
		// The audit log keeps the connection's address, not the forged one.
		ok := &browser{e: e, ip: "192.0.2.50"}
		if r := ok.do("POST", "/api/auth/login", loginBody("a@example.com", testPassword), map[string]string{"X-Forwarded-For": "203.0.113.66"}); r.code != 200 {
			t.Fatalf("login: %d %s", r.code, r.body)
		}
		lastLoginIP := func() string {
			var a store.AuditEntry
			must(t, st.TestingDB(t).Where("action = ?", "auth.login").Order("id DESC").First(&a).Error)
			return a.IP
		}
		if ip := lastLoginIP(); ip != "192.0.2.50" {
			t.Fatalf("audit ip %q", ip)
		}

		// Behind a configured proxy, its forwarded address is the client.
		p := newEnvWith(t, st, func(d *api.Deps) { d.TrustedProxies = []string{"10.0.0.0/8"} })
		viaProxy := &browser{e: p, ip: "10.1.2.3"}
		if r := viaProxy.do("POST", "/api/auth/login", loginBody("a@example.com", testPassword), map[string]string{"X-Forwarded-For": "203.0.113.66"}); r.code != 200 {
			t.Fatalf("login via proxy: %d %s", r.code, r.body)
		}
		if ip := lastLoginIP(); ip != "203.0.113.66" {
			t.Fatalf("audit ip via proxy %q", ip)
		}
		// A client that is not the proxy still cannot forge it.
		direct := &browser{e: p, ip: "192.0.2.51"}
		direct.do("POST", "/api/auth/login", loginBody("a@example.com", testPassword), map[string]string{"X-Forwarded-For": "203.0.113.67"})
		if ip := lastLoginIP(); ip != "192.0.2.51" {
			t.Fatalf("audit ip from a non-proxy %q", ip)
		}
	})
}

func TestTrustedProxiesSettingIsChecked(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	_, err := api.New(api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), TrustedProxies: []string{"not-an-address"}})
	if err == nil {
		t.Fatal("a bad trusted proxy was accepted")
	}
}
