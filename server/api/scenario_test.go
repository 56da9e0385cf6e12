package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/sandbox"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

const testPassword = "correct-horse-battery"

type env struct {
	t      *testing.T
	st     *store.Store
	h      http.Handler // the server, its portal API answers checked against the contract
	engine http.Handler // the server itself
}

func newEnv(t *testing.T, st *store.Store, portal fstest.MapFS) *env {
	t.Helper()
	return newEnvWith(t, st, func(d *api.Deps) {
		if portal != nil {
			d.Portal = portal
		}
	})
}

// newEnvWith is newEnv with dependencies set by the test.
func newEnvWith(t *testing.T, st *store.Store, set func(*api.Deps)) *env {
	t.Helper()
	d := api.Deps{Store: st, Sessions: auth.NewSessionStore(st, []byte(strings.Repeat("s", 64)), false, time.Hour),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Info: api.Info{Version: "test", BaseURL: "http://portal.test"}}
	set(&d)
	h, err := api.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, h: checkContract(t, h), engine: h}
}

func (e *env) user(email, role string, customer *uint) *store.User {
	e.t.Helper()
	hash, err := auth.HashPassword(testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	u := &store.User{Email: email, Role: role, CustomerID: customer, PasswordHash: hash}
	if err := e.st.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// browser is a client with a cookie, sending what a same-origin page sends.
type browser struct {
	e      *env
	cookie string
	ip     string
}

type resp struct {
	code int
	hdr  http.Header
	body []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errCode checks the status and error code, and that the error's request id
// is the response's.
func (r resp) errCode(t *testing.T, status int, code string) {
	t.Helper()
	var body struct {
		Error struct{ Code, Message, RequestID string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &body)
	body.Error.RequestID = gjson(r.body, "request_id")
	if r.code != status || body.Error.Code != code {
		t.Fatalf("got %d %s, want %d %s: %.300s", r.code, body.Error.Code, status, code, r.body)
	}
	if body.Error.Message == "" || body.Error.RequestID == "" || body.Error.RequestID != r.hdr.Get("X-Request-Id") {
		t.Fatalf("error without message or matching request id: %s (header %q)", r.body, r.hdr.Get("X-Request-Id"))
	}
}

func gjson(b []byte, key string) string {
	var v struct {
		Error map[string]any `json:"error"`
	}
	_ = json.Unmarshal(b, &v)
	s, _ := v.Error[key].(string)
	return s
}

func (b *browser) do(method, path, body string, hdr map[string]string) resp {
	b.e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if b.ip != "" {
		req.RemoteAddr = b.ip + ":1234"
	}
	if b.cookie != "" {
		req.Header.Set("Cookie", b.cookie)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	b.e.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == api.SessionCookie {
			if c.MaxAge < 0 {
				b.cookie = ""
			} else {
				b.cookie = c.Name + "=" + c.Value
			}
		}
	}
	return resp{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
}

func (b *browser) get(path string) resp { return b.do(http.MethodGet, path, "", nil) }

func (e *env) login(email string) *browser {
	e.t.Helper()
	b := &browser{e: e}
	r := b.do(http.MethodPost, "/api/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, testPassword), nil)
	if r.code != 200 {
		e.t.Fatalf("login %s: %d %s", email, r.code, r.body)
	}
	return b
}

func TestLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("admin@example.com", store.RoleAdmin, nil)
		anon := &browser{e: e}

		r := anon.do("POST", "/api/auth/login", `{"email":"ADMIN@example.com","password":"`+testPassword+`"}`, nil)
		if r.code != 200 {
			t.Fatalf("login: %d %s", r.code, r.body)
		}
		setCookie := r.hdr.Get("Set-Cookie")
		if !strings.Contains(setCookie, "HttpOnly") || !strings.Contains(setCookie, "SameSite=Lax") {
			t.Fatalf("cookie flags: %s", setCookie)
		}
		var me struct{ User struct{ Email, Role string } }
		anon.get("/api/auth/me").json(t, &me)
		if me.User.Email != "admin@example.com" || me.User.Role != "admin" {
			t.Fatalf("me: %+v", me)
		}

		other := &browser{e: e}
		wrong := other.do("POST", "/api/auth/login", `{"email":"admin@example.com","password":"nope-nope-nope"}`, nil)
		wrong.errCode(t, 401, "invalid_credentials")
		unknown := other.do("POST", "/api/auth/login", `{"email":"ghost@example.com","password":"nope-nope-nope"}`, nil)
		unknown.errCode(t, 401, "invalid_credentials")
		if gjson(wrong.body, "message") != gjson(unknown.body, "message") {
			t.Fatal("wrong password and unknown account are told apart")
		}
		for name, c := range map[string]struct {
			body string
			hdr  map[string]string
		}{
			"malformed":     {`{"email":`, nil},
			"unknown field": {`{"email":"a@b.c","password":"x","admin":true}`, nil},
			"empty body":    {``, map[string]string{"Content-Type": "application/json"}},
			"not json":      {`email=a`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
			"missing":       {`{"email":"","password":""}`, nil},
			"two values":    {`{"email":"a@b.c","password":"x"}{}`, nil},
		} {
			t.Run(name, func(t *testing.T) {
				other.do("POST", "/api/auth/login", c.body, c.hdr).errCode(t, 400, "invalid_input")
			})
		}
		// The first session still works after all that.
		if anon.get("/api/auth/me").code != 200 {
			t.Fatal("session lost")
		}
	})
}

func TestSessionLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("a@example.com", store.RoleAdmin, nil)
		b := &browser{e: e}
		b.get("/api/auth/me").errCode(t, 401, "unauthenticated")
		before := b.cookie
		b = e.login("a@example.com")
		if b.cookie == "" || b.cookie == before {
			t.Fatal("no new session at sign-in")
		}
		old := b.cookie
		// Signing in again from the same browser gives a new session id (fixation).
		b.do("POST", "/api/auth/login", `{"email":"a@example.com","password":"`+testPassword+`"}`, nil)
		if b.cookie == old {
			t.Fatal("session id kept across sign-in")
		}
		stale := &browser{e: e, cookie: old}
		stale.get("/api/auth/me").errCode(t, 401, "unauthenticated")

		saved := b.cookie
		if r := b.do("POST", "/api/auth/logout", "", nil); r.code != 204 {
			t.Fatalf("logout: %d", r.code)
		}
		replay := &browser{e: e, cookie: saved}
		replay.get("/api/auth/me").errCode(t, 401, "unauthenticated")

		forged := &browser{e: e, cookie: api.SessionCookie + "=garbage"}
		forged.get("/api/subscriptions").errCode(t, 401, "unauthenticated")
	})
}

// Sign-in rate limits: throttle_test.go (per account and client, per
// client, growing delays, shared by replicas).

func TestSuccessfulLoginResetsAccountCounter(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	e := newEnv(t, st, nil)
	e.user("a@example.com", store.RoleAdmin, nil)
	b := &browser{e: e, ip: "192.0.2.1"}
	for i := 0; i < 4; i++ {
		b.do("POST", "/api/auth/login", `{"email":"a@example.com","password":"wrong-password"}`, nil)
	}
	b.do("POST", "/api/auth/login", `{"email":"a@example.com","password":"`+testPassword+`"}`, nil)
	for i := 0; i < 4; i++ {
		b.do("POST", "/api/auth/login", `{"email":"a@example.com","password":"wrong-password"}`, nil).errCode(t, 401, "invalid_credentials")
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("a@example.com", store.RoleAdmin, nil)
		b := e.login("a@example.com")
		for name, hdr := range map[string]map[string]string{
			"sec-fetch-site cross-site": {"Sec-Fetch-Site": "cross-site"},
			"foreign origin":            {"Sec-Fetch-Site": "", "Origin": "https://evil.example"},
		} {
			t.Run(name, func(t *testing.T) {
				b.do("POST", "/api/auth/logout", "", hdr).errCode(t, 403, "cross_origin_request")
				b.do("POST", "/api/auth/login", `{"email":"a@example.com","password":"`+testPassword+`"}`, hdr).errCode(t, 403, "cross_origin_request")
				if b.get("/api/auth/me").code != 200 {
					t.Fatal("the cross-site request ended the session")
				}
			})
		}
		// The configured base URL's origin is trusted.
		if r := b.do("POST", "/api/auth/logout", "", map[string]string{"Sec-Fetch-Site": "", "Origin": "http://portal.test"}); r.code != 204 {
			t.Fatalf("same-origin logout: %d %s", r.code, r.body)
		}
	})
}

func seeded(t *testing.T, st *store.Store) {
	t.Helper()
	if _, err := sandbox.Seed(context.Background(), st, sandbox.SeedOptions{Subscriptions: 120, Customers: 30}); err != nil {
		t.Fatal(err)
	}
}

type listResp struct {
	Items []struct {
		ID          uint   `json:"id"`
		Marketplace string `json:"marketplace"`
		State       string `json:"state"`
		Quantity    int    `json:"quantity"`
		CreatedAt   string `json:"created_at"`
		UpdatedAt   string `json:"updated_at"`
		Customer    *struct {
			ID   uint   `json:"id"`
			Name string `json:"name"`
		} `json:"customer"`
		Offer *struct {
			ID uint `json:"id"`
		} `json:"offer"`
		Plan *struct {
			ID uint `json:"id"`
		} `json:"plan"`
		AWSAccount string `json:"aws_customer_account_id"`
		AzureID    string `json:"azure_subscription_id"`
	} `json:"items"`
	Total      int64   `json:"total"`
	NextCursor *string `json:"next_cursor"`
}

func count(t *testing.T, st *store.Store, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := st.TestingReadDB(t).Table("subscriptions").Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestListSubscriptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		seeded(t, st)
		e.user("v@example.com", store.RoleViewer, nil)
		b := e.login("v@example.com")
		list := func(q string) listResp {
			t.Helper()
			r := b.get("/api/subscriptions?" + q)
			if r.code != 200 {
				t.Fatalf("%s: %d %s", q, r.code, r.body)
			}
			var l listResp
			r.json(t, &l)
			return l
		}
		all := list("limit=200")
		if all.Total != 120 || len(all.Items) != 120 {
			t.Fatalf("total %d items %d", all.Total, len(all.Items))
		}
		// The newest subscription with an offer and a plan (the seed makes
		// AWS subscriptions through the real flows: a contract AWS has not
		// confirmed yet has no plan).
		first := all.Items[0]
		for _, it := range all.Items {
			if it.Offer != nil && it.Plan != nil && it.Customer != nil {
				first = it
				break
			}
		}

		t.Run("filters", func(t *testing.T) {
			l := list("marketplace=aws&state=active,pending&limit=200")
			if l.Total != count(t, st, "marketplace = 'aws' AND state IN ('active','pending')") || l.Total == 0 {
				t.Fatalf("total %d", l.Total)
			}
			for _, it := range l.Items {
				if it.Marketplace != "aws" || (it.State != "active" && it.State != "pending") {
					t.Fatalf("item %+v does not match", it)
				}
			}
			l = list(fmt.Sprintf("offer=%d&plan=%d&limit=200", first.Offer.ID, first.Plan.ID))
			if l.Total != count(t, st, "offer_id = ? AND plan_id = ?", first.Offer.ID, first.Plan.ID) {
				t.Fatalf("offer/plan total %d", l.Total)
			}
			for _, it := range l.Items {
				if it.Offer.ID != first.Offer.ID || it.Plan.ID != first.Plan.ID {
					t.Fatal("offer/plan filter leaked")
				}
			}
			l = list(fmt.Sprintf("customer=%d", first.Customer.ID))
			if l.Total != count(t, st, "customer_id = ?", first.Customer.ID) {
				t.Fatalf("customer total %d", l.Total)
			}
		})
		t.Run("search", func(t *testing.T) {
			name := first.Customer.Name
			l := list("limit=200&q=" + url.QueryEscape(strings.ToUpper(name)))
			if l.Total == 0 {
				t.Fatalf("no result for %q", name)
			}
			for _, it := range l.Items {
				if !strings.Contains(it.Customer.Name, name) {
					t.Fatalf("%q matched %q", name, it.Customer.Name)
				}
			}
			for _, it := range all.Items {
				id := it.AWSAccount
				if id == "" {
					id = it.AzureID
				}
				if id == "" {
					continue
				}
				l := list("q=" + url.QueryEscape(id))
				if l.Total == 0 {
					t.Fatalf("marketplace id %s not found", id)
				}
				for _, got := range l.Items {
					if got.AWSAccount != id && got.AzureID != id {
						t.Fatalf("search %s returned %+v", id, got)
					}
				}
			}
			if l := list("q=" + url.QueryEscape("100%_\\ no such")); l.Total != 0 {
				t.Fatal("LIKE wildcards are not escaped")
			}
		})
		t.Run("sorting", func(t *testing.T) {
			for _, f := range []string{"created_at", "updated_at", "state", "marketplace", "quantity", "id"} {
				for _, desc := range []bool{false, true} {
					sort := f
					if desc {
						sort = "-" + f
					}
					l := list("limit=200&sort=" + sort)
					key := func(i int) string {
						it := l.Items[i]
						switch f {
						case "created_at":
							return it.CreatedAt
						case "updated_at":
							return it.UpdatedAt
						case "state":
							return it.State
						case "marketplace":
							return it.Marketplace
						case "quantity":
							return fmt.Sprintf("%09d", it.Quantity)
						}
						return fmt.Sprintf("%09d", it.ID)
					}
					for i := 1; i < len(l.Items); i++ {
						a, b := key(i-1), key(i)
						if (!desc && a > b) || (desc && a < b) {
							t.Fatalf("sort %s: %s then %s", sort, a, b)
						}
					}
				}
			}
		})
		t.Run("offset and cursor paging agree", func(t *testing.T) {
			for _, sort := range []string{"-created_at", "state,-quantity", "marketplace,updated_at"} {
				var byOffset, byCursor []uint
				for off := 0; off < 120; off += 7 {
					for _, it := range list(fmt.Sprintf("limit=7&offset=%d&sort=%s", off, sort)).Items {
						byOffset = append(byOffset, it.ID)
					}
				}
				cursor := ""
				for i := 0; i < 100; i++ {
					l := list("limit=7&sort=" + sort + "&cursor=" + url.QueryEscape(cursor))
					for _, it := range l.Items {
						byCursor = append(byCursor, it.ID)
					}
					if l.NextCursor == nil {
						break
					}
					cursor = *l.NextCursor
				}
				if len(byOffset) != 120 || !slices.Equal(byOffset, byCursor) {
					t.Fatalf("sort %s: offset %d ids, cursor %d ids, equal=%v", sort, len(byOffset), len(byCursor), slices.Equal(byOffset, byCursor))
				}
				seen := map[uint]bool{}
				for _, id := range byOffset {
					if seen[id] {
						t.Fatalf("id %d twice", id)
					}
					seen[id] = true
				}
			}
		})
		t.Run("bad input", func(t *testing.T) {
			c := list("limit=2&sort=id").NextCursor
			for _, q := range []string{
				"sort=nope", "sort=id,id", "sort=id,state,quantity,created_at", "sort=-", "limit=0", "limit=201", "limit=-1",
				"limit=abc", "limit=1e9", "offset=-1", "offset=100001", "state=gone", "state=active,gone", "marketplace=gcp",
				"offer=0", "offer=x", "plan=-3", "customer=1.5", "cursor=!!!", "cursor=eyJzIjoiaWQsIiwidiI6WzFdfQ",
				"sort=-id&cursor=" + url.QueryEscape(*c), "cursor=" + url.QueryEscape(*c) + "&sort=id&offset=5",
				"q=" + strings.Repeat("x", 201),
			} {
				t.Run(q, func(t *testing.T) {
					b.get("/api/subscriptions?"+q).errCode(t, 400, "invalid_input")
				})
			}
		})
		t.Run("detail", func(t *testing.T) {
			r := b.get(fmt.Sprintf("/api/subscriptions/%d", first.ID))
			var d struct {
				Subscription struct{ ID uint }
				Timeline     []struct {
					At   time.Time
					Kind string
				}
			}
			r.json(t, &d)
			if d.Subscription.ID != first.ID || len(d.Timeline) == 0 {
				t.Fatalf("detail: %s", r.body)
			}
			for i := 1; i < len(d.Timeline); i++ {
				if d.Timeline[i].At.Before(d.Timeline[i-1].At) {
					t.Fatal("timeline out of order")
				}
			}
			b.get("/api/subscriptions/abc").errCode(t, 400, "invalid_input")
			b.get("/api/subscriptions/0").errCode(t, 400, "invalid_input")
			b.get("/api/subscriptions/999999").errCode(t, 404, "not_found")
		})
	})
}

func TestRolesAndCustomerScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		seeded(t, st)
		var custA, custB store.Subscription
		st.TestingReadDB(t).Where("customer_id IS NOT NULL").Order("id").First(&custA)
		st.TestingReadDB(t).Where("customer_id <> ?", *custA.CustomerID).Order("id").First(&custB)
		e.user("viewer@example.com", store.RoleViewer, nil)
		e.user("operator@example.com", store.RoleOperator, nil)
		e.user("ca@example.com", store.RoleCustomerAdmin, custA.CustomerID)

		anon := &browser{e: e}
		for _, p := range []string{"/api/auth/me", "/api/system", "/api/dashboard", "/api/subscriptions", "/api/subscriptions/1",
			"/api/offers", "/api/customers", "/api/inbox", "/api/inbox/1", "/api/users"} {
			anon.get(p).errCode(t, 401, "unauthenticated")
		}
		anon.do("POST", "/api/auth/password", `{"current_password":"a","new_password":"b"}`, nil).errCode(t, 401, "unauthenticated")

		for _, who := range []string{"viewer@example.com", "operator@example.com"} {
			e.login(who).get("/api/users").errCode(t, 403, "forbidden")
		}

		ca := e.login("ca@example.com")
		var l listResp
		ca.get("/api/subscriptions?limit=200").json(t, &l)
		if l.Total != count(t, st, "customer_id = ?", *custA.CustomerID) || l.Total == 0 {
			t.Fatalf("customer admin sees %d", l.Total)
		}
		for _, it := range l.Items {
			if it.Customer.ID != *custA.CustomerID {
				t.Fatal("customer admin sees another customer's subscription")
			}
		}
		var dash struct{ Total int64 }
		ca.get("/api/dashboard").json(t, &dash)
		if dash.Total != l.Total {
			t.Fatalf("customer admin dashboard counts %d", dash.Total)
		}
		if r := ca.get(fmt.Sprintf("/api/subscriptions/%d", custA.ID)); r.code != 200 {
			t.Fatalf("own subscription: %d", r.code)
		}
		ca.get(fmt.Sprintf("/api/subscriptions/%d", custB.ID)).errCode(t, 404, "not_found")
		ca.get(fmt.Sprintf("/api/subscriptions?customer=%d", *custB.CustomerID)).errCode(t, 404, "not_found")
		for _, p := range []string{"/api/customers", "/api/inbox", "/api/users"} {
			ca.get(p).errCode(t, 403, "forbidden")
		}
	})
}

func TestPasswordChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		u := e.user("a@example.com", store.RoleAdmin, nil)
		if err := st.SetPassword(context.Background(), u.ID, u.PasswordHash, true); err != nil {
			t.Fatal(err)
		}
		b := e.login("a@example.com")
		other := e.login("a@example.com")
		b.get("/api/subscriptions").errCode(t, 403, "forbidden")
		if b.get("/api/auth/me").code != 200 {
			t.Fatal("me refused while a password change is required")
		}
		b.do("POST", "/api/auth/password", `{"current_password":"wrong-one-here","new_password":"a-new-password"}`, nil).errCode(t, 401, "invalid_credentials")
		b.do("POST", "/api/auth/password", `{"current_password":"`+testPassword+`","new_password":"short"}`, nil).errCode(t, 400, "invalid_input")
		b.do("POST", "/api/auth/password", `{"current_password":"`+testPassword+`","new_password":"`+testPassword+`"}`, nil).errCode(t, 400, "invalid_input")
		if r := b.do("POST", "/api/auth/password", `{"current_password":"`+testPassword+`","new_password":"a-new-password"}`, nil); r.code != 204 {
			t.Fatalf("change: %d %s", r.code, r.body)
		}
		if b.get("/api/subscriptions").code != 200 {
			t.Fatal("this session ended or is still restricted")
		}
		other.get("/api/auth/me").errCode(t, 401, "unauthenticated")
		(&browser{e: e}).do("POST", "/api/auth/login", `{"email":"a@example.com","password":"`+testPassword+`"}`, nil).errCode(t, 401, "invalid_credentials")
	})
}

func TestDisabledUserRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		u := e.user("a@example.com", store.RoleAdmin, nil)
		b := e.login("a@example.com")
		st.TestingDB(t).Model(&store.User{}).Where("id = ?", u.ID).Update("disabled", true)
		b.get("/api/auth/me").errCode(t, 401, "unauthenticated")
		(&browser{e: e}).do("POST", "/api/auth/login", `{"email":"a@example.com","password":"`+testPassword+`"}`, nil).errCode(t, 401, "invalid_credentials")
	})
}

func TestOtherReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		seeded(t, st)
		e.user("a@example.com", store.RoleAdmin, nil)
		b := e.login("a@example.com")
		now := time.Now().UTC()
		msgs := []store.InboxMessage{
			{Marketplace: "aws", Source: "aws_sqs", DedupKey: "m-1", Action: "subscribe-success", Body: `{"a":1}`, Status: store.InboxProcessed, ReceivedAt: now},
			{Marketplace: "azure", Source: "azure_webhook", DedupKey: "op-1", Action: "Suspend", Body: `{"b":2}`, Status: store.InboxFailed, Error: "boom", ReceivedAt: now},
		}
		if err := st.TestingDB(t).Create(&msgs).Error; err != nil {
			t.Fatal(err)
		}
		var inbox struct {
			Items []struct {
				ID   uint
				Body *string
			}
			Total int
		}
		b.get("/api/inbox?status=failed").json(t, &inbox)
		if inbox.Total != 1 || inbox.Items[0].Body != nil {
			t.Fatalf("inbox list: %+v", inbox)
		}
		var one struct{ Message struct{ Body, Error string } }
		b.get(fmt.Sprintf("/api/inbox/%d", inbox.Items[0].ID)).json(t, &one)
		if one.Message.Body != `{"b":2}` || one.Message.Error != "boom" {
			t.Fatalf("inbox message: %+v", one)
		}
		b.get("/api/inbox/424242").errCode(t, 404, "not_found")
		b.get("/api/inbox?status=weird").errCode(t, 400, "invalid_input")

		var offers struct {
			Items []struct {
				Plans []struct{ Dimensions []map[string]any }
			}
		}
		b.get("/api/offers").json(t, &offers)
		if len(offers.Items) != 6 || len(offers.Items[0].Plans) == 0 { // the demo offers: four AWS (legacy and concurrent agreements, SaaS and contract), two Microsoft
			t.Fatalf("offers: %+v", offers)
		}
		var customers struct {
			Items []struct {
				Name          string
				Subscriptions int64
			}
			Total int64
		}
		b.get("/api/customers?limit=5").json(t, &customers)
		if customers.Total != 30 || len(customers.Items) != 5 {
			t.Fatalf("customers: %d %d", customers.Total, len(customers.Items))
		}
		b.get("/api/customers?limit=500").errCode(t, 400, "invalid_input")
		var dash struct {
			ByState []struct {
				Marketplace, State string
				Count              int64
			} `json:"by_state"`
			Total int64
		}
		b.get("/api/dashboard").json(t, &dash)
		var sum int64
		for _, c := range dash.ByState {
			if c.Count != count(t, st, "marketplace = ? AND state = ?", c.Marketplace, c.State) {
				t.Fatalf("dashboard %s/%s = %d", c.Marketplace, c.State, c.Count)
			}
			sum += c.Count
		}
		if sum != 120 || dash.Total != 120 {
			t.Fatalf("dashboard total %d / %d", sum, dash.Total)
		}
		var sys struct{ Database, Version string }
		b.get("/api/system").json(t, &sys)
		if sys.Database != st.Dialect || sys.Version != "test" {
			t.Fatalf("system: %+v", sys)
		}
		var users struct{ Items []struct{ Email string } }
		b.get("/api/users").json(t, &users)
		if len(users.Items) != 1 {
			t.Fatalf("users: %+v", users)
		}
		b.get("/api/nope").errCode(t, 404, "not_found")
		b.do("DELETE", "/api/subscriptions", "", nil).errCode(t, 405, "method_not_allowed")
	})
}

func TestHealthMetricsAndInternalErrors(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	e := newEnv(t, st, nil)
	e.user("a@example.com", store.RoleAdmin, nil)
	b := e.login("a@example.com")
	if r := b.get("/healthz"); r.code != 200 {
		t.Fatalf("healthz: %d", r.code)
	}
	b.get("/api/subscriptions")
	r := b.get("/metrics")
	if r.code != 200 || !strings.Contains(string(r.body), "marketgate_http_requests_total") {
		t.Fatalf("metrics: %d", r.code)
	}
	// A request id given by a proxy is kept.
	if got := b.do("GET", "/healthz", "", map[string]string{"X-Request-Id": "abc-123"}).hdr.Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("request id %q", got)
	}
	// A database failure is an internal error whose detail is not shown.
	rdb, _ := st.TestingReadDB(t).DB()
	rdb.Close()
	r = b.get("/api/offers")
	r.errCode(t, 500, "internal")
	if gjson(r.body, "message") != "internal error" {
		t.Fatalf("internal detail leaked: %s", r.body)
	}
	if r := b.get("/healthz"); r.code != 503 {
		t.Fatalf("healthz with a closed database: %d", r.code)
	}
}

func TestPortalServing(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	built := fstest.MapFS{
		"index.html":           {Data: []byte("<html>portal</html>")},
		"assets/app-abc123.js": {Data: []byte("console.log(1)")},
		"favicon.svg":          {Data: []byte("<svg/>")},
	}
	e := newEnv(t, st, built)
	b := &browser{e: e}
	for _, p := range []string{"/", "/subscriptions/5", "/settings?x=1"} {
		r := b.get(p)
		if r.code != 200 || string(r.body) != "<html>portal</html>" || !strings.Contains(r.hdr.Get("Cache-Control"), "no-cache") {
			t.Fatalf("%s: %d %q %q", p, r.code, r.body, r.hdr.Get("Cache-Control"))
		}
	}
	r := b.get("/assets/app-abc123.js")
	if r.code != 200 || r.hdr.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("asset: %d %q", r.code, r.hdr.Get("Cache-Control"))
	}
	if r := b.get("/assets/missing.js"); r.code != 404 {
		t.Fatalf("missing asset: %d", r.code)
	}
	if r := b.do("POST", "/subscriptions", "", nil); r.code != 404 {
		t.Fatalf("POST to a page: %d", r.code)
	}

	unbuilt := newEnv(t, st, fstest.MapFS{})
	r = (&browser{e: unbuilt}).get("/subscriptions")
	if r.code != 200 || !strings.Contains(string(r.body), "scripts/build.sh") {
		t.Fatalf("not-built page: %d %s", r.code, r.body)
	}
}
