package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

func TestUserManagementAndAuditLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		me := e.user("admin@seller.com", store.RoleAdmin, nil)
		admin := e.login("admin@seller.com")

		admin.do(http.MethodPost, "/api/users", `{"email":"nope","role":"viewer"}`, nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, "/api/users", `{"email":"ann@seller.com","role":"customer_admin"}`, nil).errCode(t, 400, "invalid_input")
		var created struct {
			User struct {
				ID                 uint
				MustChangePassword bool `json:"must_change_password"`
			}
			Password string
		}
		r := admin.do(http.MethodPost, "/api/users", `{"email":"Ann@Seller.com","name":"Ann","role":"operator"}`, nil)
		r.json(t, &created)
		if r.code != 201 || created.Password == "" || !created.User.MustChangePassword {
			t.Fatalf("create: %d %s", r.code, r.body)
		}
		admin.do(http.MethodPost, "/api/users", `{"email":"ann@seller.com","role":"viewer"}`, nil).errCode(t, 409, "conflict")
		// The invitee signs in with the one-time password and must change it.
		ann := &browser{e: e}
		if r := ann.do(http.MethodPost, "/api/auth/login", fmt.Sprintf(`{"email":"ann@seller.com","password":%q}`, created.Password), nil); r.code != 200 {
			t.Fatalf("one-time password: %d", r.code)
		}
		ann.get("/api/subscriptions").errCode(t, 403, "forbidden")

		path := fmt.Sprintf("/api/users/%d", created.User.ID)
		if r := admin.do(http.MethodPatch, path, `{"role":"admin"}`, nil); r.code != 200 || !strings.Contains(string(r.body), `"role":"admin"`) {
			t.Fatalf("promote: %d %s", r.code, r.body)
		}
		admin.do(http.MethodPatch, path, `{"role":"customer_admin"}`, nil).errCode(t, 400, "invalid_input")
		self := fmt.Sprintf("/api/users/%d", me.ID)
		admin.do(http.MethodPatch, self, `{"role":"viewer"}`, nil).errCode(t, 409, "conflict")
		admin.do(http.MethodPatch, self, `{"disabled":true}`, nil).errCode(t, 409, "conflict")
		// Disabling signs the user out at once.
		if r := admin.do(http.MethodPatch, path, `{"disabled":true}`, nil); r.code != 200 {
			t.Fatalf("disable: %d %s", r.code, r.body)
		}
		ann.get("/api/auth/me").errCode(t, 401, "unauthenticated")
		admin.do(http.MethodPatch, "/api/users/999999", `{"disabled":true}`, nil).errCode(t, 404, "not_found")
		// A lost one-time password: the admin issues another; the old one stops working.
		admin.do(http.MethodPatch, path, `{"disabled":false}`, nil)
		var reset struct{ Password string }
		admin.do(http.MethodPost, path+"/reset-password", "", nil).json(t, &reset)
		if reset.Password == "" || reset.Password == created.Password {
			t.Fatalf("reset: %+v", reset)
		}
		again := &browser{e: e}
		again.do(http.MethodPost, "/api/auth/login", fmt.Sprintf(`{"email":"ann@seller.com","password":%q}`, created.Password), nil).errCode(t, 401, "invalid_credentials")
		if r := again.do(http.MethodPost, "/api/auth/login", fmt.Sprintf(`{"email":"ann@seller.com","password":%q}`, reset.Password), nil); r.code != 200 ||
			!strings.Contains(string(r.body), `"must_change_password":true`) {
			t.Fatalf("new one-time password: %d %s", r.code, r.body)
		}
		admin.do(http.MethodPost, self+"/reset-password", "", nil).errCode(t, 409, "conflict")
		admin.do(http.MethodPatch, path, `{"disabled":true}`, nil)

		// The last admin stays an admin.
		e.user("solo@other.com", store.RoleViewer, nil)
		var last int64
		st.TestingReadDB(t).Model(&store.User{}).Where("role = 'admin' AND NOT disabled").Count(&last)
		if last != 1 {
			t.Fatalf("%d enabled admins", last)
		}

		// The audit log: who did what, filterable, exportable.
		var log struct {
			Items []struct {
				Actor  string
				Action string
				Before string
				After  string
			}
			Total int
		}
		admin.get("/api/audit?action=user.update").json(t, &log)
		if log.Total != 4 || log.Items[0].Action != "user.update" || log.Items[0].Actor != "admin@seller.com" ||
			!strings.Contains(log.Items[0].Before, `"disabled":false`) || !strings.Contains(log.Items[0].After, `"disabled":true`) {
			t.Fatalf("audit: %+v", log)
		}
		admin.get("/api/audit?from=yesterday").errCode(t, 400, "invalid_input")
		if r := admin.get("/api/audit?format=csv&action=user.create"); r.code != 200 || !strings.HasPrefix(string(r.body), "at,actor,action") ||
			strings.Count(string(r.body), "\n") != 2 {
			t.Fatalf("csv: %s", r.body)
		}
	})
}

func TestDashboardFigures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newSeatWorld(t, st)
		e.user("admin@seller.com", store.RoleAdmin, nil)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		it := e.login("it@contoso.com")
		it.do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/seats", w.subA), `{"user":"ann@contoso.com"}`, nil)
		var d struct {
			Seats         struct{ Sold, Assigned int }
			CreatedPerDay []struct {
				Day   string
				Count int
			} `json:"created_per_day"`
			InboxFailed *int `json:"inbox_failed"`
			Total       int
		}
		e.login("admin@seller.com").get("/api/dashboard").json(t, &d)
		// Per-user and active: A's 3 + B's 5 + A's auto-assigning 3.
		if d.Seats.Sold != 11 || d.Seats.Assigned != 1 || len(d.CreatedPerDay) != 30 || d.CreatedPerDay[29].Count != 4 || d.InboxFailed == nil || d.Total != 4 {
			t.Fatalf("seller dashboard: %+v", d)
		}
		// Customer admins learn nothing of the seller's configuration.
		if r := it.get("/api/system"); r.code != 200 || strings.Contains(string(r.body), `"aws"`) || strings.Contains(string(r.body), "base_url") {
			t.Fatalf("system for a customer admin: %s", r.body)
		}
		var cust struct {
			Customer struct {
				Name          string
				Subscriptions int
				Admins        int
			}
		}
		e.login("admin@seller.com").get(fmt.Sprintf("/api/customers/%d", w.custA)).json(t, &cust)
		if cust.Customer.Name != "Contoso" || cust.Customer.Subscriptions != 3 || cust.Customer.Admins != 1 {
			t.Fatalf("customer: %+v", cust)
		}
		d.InboxFailed = nil
		it.get("/api/dashboard").json(t, &d)
		if d.Seats.Sold != 6 || d.Total != 3 || d.InboxFailed != nil {
			t.Fatalf("customer admin dashboard: %+v", d)
		}
	})
}

func TestOffersAndPlansEditing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("admin@seller.com", store.RoleAdmin, nil)
		e.user("op@seller.com", store.RoleOperator, nil)
		admin := e.login("admin@seller.com")
		e.login("op@seller.com").do(http.MethodPost, "/api/offers", `{"marketplace":"azure","name":"X","marketplace_id":"x"}`, nil).errCode(t, 403, "forbidden")
		bad := []string{
			`{"marketplace":"gcp","name":"X","marketplace_id":"x"}`,
			`{"marketplace":"aws","name":"X","marketplace_id":"Has Spaces","identity_model":"legacy"}`,
			`{"marketplace":"aws","name":"X","marketplace_id":"prodcode"}`,
			`{"marketplace":"azure","name":"","marketplace_id":"teams"}`,
			`{"marketplace":"azure","name":"X","marketplace_id":"teams","contract":true}`,
		}
		for _, b := range bad {
			admin.do(http.MethodPost, "/api/offers", b, nil).errCode(t, 400, "invalid_input")
		}
		var o struct {
			Offer struct{ ID uint } `json:"offer"`
		}
		r := admin.do(http.MethodPost, "/api/offers", `{"marketplace":"azure","name":"Teams app","marketplace_id":"teams-app"}`, nil)
		r.json(t, &o)
		if r.code != 201 {
			t.Fatalf("create offer: %d %s", r.code, r.body)
		}
		admin.do(http.MethodPost, "/api/offers", `{"marketplace":"azure","name":"Again","marketplace_id":"teams-app"}`, nil).errCode(t, 409, "conflict")
		admin.do(http.MethodPatch, fmt.Sprintf("/api/offers/%d", o.Offer.ID), `{"marketplace_id":"other"}`, nil).errCode(t, 400, "invalid_input")
		plans := fmt.Sprintf("/api/offers/%d/plans", o.Offer.ID)
		badPlans := []string{
			`{"plan_id":"has space","name":"X"}`,
			`{"plan_id":"p","name":"X","activation_policy":"whenever"}`,
			`{"plan_id":"p","name":"X","seat_based":true,"min_quantity":10,"max_quantity":5}`,
			`{"plan_id":"p","name":"X","auto_assign_seats":true}`,
			`{"plan_id":"p","name":"X","dimensions":[{"key":"a"},{"key":"a"}]}`,
		}
		for _, b := range badPlans {
			admin.do(http.MethodPost, plans, b, nil).errCode(t, 400, "invalid_input")
		}
		var p struct {
			Plan struct {
				ID         uint
				Dimensions []struct{ Key string }
			} `json:"plan"`
		}
		r = admin.do(http.MethodPost, plans, `{"plan_id":"per-user","name":"Per user","seat_based":true,"max_quantity":500,"activation_policy":"seller_approves","dimensions":[{"key":"calls","name":"Calls","unit":"call"}]}`, nil)
		r.json(t, &p)
		if r.code != 201 || len(p.Plan.Dimensions) != 1 {
			t.Fatalf("create plan: %d %s", r.code, r.body)
		}
		admin.do(http.MethodPost, plans, `{"plan_id":"per-user","name":"Twice"}`, nil).errCode(t, 409, "conflict")
		path := fmt.Sprintf("/api/plans/%d", p.Plan.ID)
		admin.do(http.MethodPatch, path, `{"plan_id":"renamed"}`, nil).errCode(t, 400, "invalid_input")
		if r := admin.do(http.MethodPatch, path, `{"reject_quantity_change":true,"auto_assign_seats":true}`, nil); r.code != 200 ||
			!strings.Contains(string(r.body), `"reject_quantity_change":true`) || !strings.Contains(string(r.body), `"auto_assign_seats":true`) {
			t.Fatalf("update plan: %d %s", r.code, r.body)
		}
		if r := admin.get("/api/offers"); !strings.Contains(string(r.body), `"max_quantity":500`) {
			t.Fatalf("offers list: %s", r.body)
		}
	})
}

func TestSubscriptionsExportRawAndInboxFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		seeded(t, st)
		e := newEnv(t, st, nil)
		e.user("admin@seller.com", store.RoleAdmin, nil)
		admin := e.login("admin@seller.com")
		awsTotal := count(t, st, "marketplace = 'aws'")
		r := admin.get("/api/subscriptions?format=csv&marketplace=aws&sort=-created_at")
		lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
		if r.code != 200 || !strings.HasPrefix(lines[0], "id,marketplace,state") || int64(len(lines)-1) != awsTotal ||
			r.hdr.Get("Content-Disposition") == "" {
			t.Fatalf("export: %d, %d rows for %d subscriptions", r.code, len(lines)-1, awsTotal)
		}
		for _, l := range lines[1:] {
			if !strings.Contains(l, ",aws,") {
				t.Fatalf("export ignores the filter: %s", l)
			}
		}
		// Filters the dashboard links to: per-user plans, creation and state-change ranges.
		seatTotal := count(t, st, "plan_id IN (SELECT id FROM plans WHERE seat_based)")
		var page listResp
		admin.get("/api/subscriptions?seat_based=true&limit=200").json(t, &page)
		if page.Total != seatTotal || seatTotal == 0 {
			t.Fatalf("seat_based: %d, want %d", page.Total, seatTotal)
		}
		cut := time.Now().UTC().Add(-90 * 24 * time.Hour)
		admin.get("/api/subscriptions?created_from="+cut.Format(time.RFC3339)+"&limit=200").json(t, &page)
		if want := count(t, st, "created_at >= ?", cut); page.Total != want {
			t.Fatalf("created_from: %d, want %d", page.Total, want)
		}
		admin.get("/api/subscriptions?state=ended&changed_to="+cut.Format(time.RFC3339)+"&limit=200").json(t, &page)
		if want := count(t, st, "state = 'ended' AND state_changed_at < ?", cut); page.Total != want {
			t.Fatalf("changed_to: %d, want %d", page.Total, want)
		}
		admin.get("/api/subscriptions?created_from=last+week").errCode(t, 400, "invalid_input")
		// Sorted by the last state change, newest first, through every cursor page.
		var seen []string
		next := ""
		for {
			path := "/api/subscriptions?sort=-state_changed_at&limit=7"
			if next != "" {
				path += "&cursor=" + next
			}
			var pg struct {
				Items []struct {
					StateChangedAt string `json:"state_changed_at"`
				}
				NextCursor *string `json:"next_cursor"`
			}
			admin.get(path).json(t, &pg)
			for _, it := range pg.Items {
				seen = append(seen, it.StateChangedAt)
			}
			if pg.NextCursor == nil {
				break
			}
			next = *pg.NextCursor
		}
		if int64(len(seen)) != count(t, st, "1 = 1") {
			t.Fatalf("cursor pages by state_changed_at: %d rows", len(seen))
		}
		for i := 1; i < len(seen); i++ {
			a, _ := time.Parse(time.RFC3339Nano, seen[i-1])
			b, _ := time.Parse(time.RFC3339Nano, seen[i])
			if b.After(a) {
				t.Fatalf("not newest first at %d: %s then %s", i, seen[i-1], seen[i])
			}
		}
		// AWS has no read API: the raw view is the messages stored for it.
		var sub store.Subscription
		must(t, st.TestingReadDB(t).Where("marketplace = 'aws'").First(&sub).Error)
		if r := admin.get(fmt.Sprintf("/api/subscriptions/%d/raw", sub.ID)); r.code != 200 || !strings.Contains(string(r.body), `"messages"`) {
			t.Fatalf("raw: %d %s", r.code, r.body)
		}
		// The detail carries the audit entries of the subscription.
		if r := admin.get(fmt.Sprintf("/api/subscriptions/%d", sub.ID)); !strings.Contains(string(r.body), `"audit":[]`) {
			t.Fatalf("detail without audit: %.200s", r.body)
		}
		// Metering records close to the end of their window.
		now := time.Now().UTC()
		for i, age := range []time.Duration{21 * time.Hour, time.Hour} {
			must(t, st.TestingDB(t).Create(&store.MeteringRecord{SubscriptionID: sub.ID, Marketplace: "aws", Dimension: fmt.Sprint("d", i),
				Hour: now.Add(-age).Truncate(time.Hour), Status: store.RecordPending, CreatedAt: now, UpdatedAt: now}).Error)
		}
		var recs struct{ Total int }
		admin.get("/api/metering/records?expiring=true").json(t, &recs)
		if recs.Total != 1 {
			t.Fatalf("expiring records: %d, want 1", recs.Total)
		}
		// Inbox filters by time and subscription.
		admin.get("/api/inbox?from=soon").errCode(t, 400, "invalid_input")
		var inbox struct{ Total int }
		admin.get("/api/inbox?from=2999-01-01T00:00:00Z").json(t, &inbox)
		if inbox.Total != 0 {
			t.Fatalf("inbox from the future: %d", inbox.Total)
		}
		admin.get("/api/inbox?subscription=999999").json(t, &inbox)
		if inbox.Total != 0 {
			t.Fatalf("inbox of no subscription: %d", inbox.Total)
		}
	})
}

func TestStaffInvitations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		e.user("admin@seller.com", store.RoleAdmin, nil)
		admin := e.login("admin@seller.com")
		admin.do(http.MethodPost, "/api/users/invites", `{"email":"bea@seller.com","role":"customer_admin"}`, nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, "/api/users/invites", `{"email":"admin@seller.com","role":"viewer"}`, nil).errCode(t, 409, "conflict")
		invite := func(email string) (uint, string) {
			t.Helper()
			var out struct {
				Invite struct{ ID uint } `json:"invite"`
				URL    string            `json:"url"`
			}
			r := admin.do(http.MethodPost, "/api/users/invites", fmt.Sprintf(`{"email":%q,"name":"Bea","role":"viewer"}`, email), nil)
			r.json(t, &out)
			if r.code != 201 || !strings.Contains(out.URL, "/invite?token=") {
				t.Fatalf("invite: %d %s", r.code, r.body)
			}
			return out.Invite.ID, out.URL[strings.Index(out.URL, "/invite"):]
		}
		_, link := invite("bea@seller.com")
		bea := &browser{e: e}
		if r := bea.get(link); r.code != 200 || !strings.Contains(string(r.body), "as a viewer") {
			t.Fatalf("invite page: %d %s", r.code, r.body)
		}
		token := link[strings.Index(link, "=")+1:]
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		if r := bea.do(http.MethodPost, "/invite", "token="+token+"&name=Bea&password="+testPassword, form); r.code != http.StatusSeeOther {
			t.Fatalf("accept: %d %s", r.code, r.body)
		}
		var me struct{ User struct{ Email, Role string } }
		bea.get("/api/auth/me").json(t, &me)
		if me.User.Email != "bea@seller.com" || me.User.Role != "viewer" {
			t.Fatalf("signed in as %+v", me.User)
		}
		if r := (&browser{e: e}).get(link); r.code != http.StatusGone {
			t.Fatalf("used link: %d", r.code)
		}
		id2, link2 := invite("cy@seller.com")
		if r := admin.do(http.MethodPost, fmt.Sprintf("/api/users/invites/%d/revoke", id2), "", nil); r.code != 200 {
			t.Fatalf("revoke: %d %s", r.code, r.body)
		}
		if r := (&browser{e: e}).get(link2); r.code != http.StatusGone {
			t.Fatalf("revoked link: %d", r.code)
		}
		var list struct {
			Items []struct {
				Email     string
				UsedAt    *string `json:"used_at"`
				RevokedAt *string `json:"revoked_at"`
			}
		}
		admin.get("/api/users/invites").json(t, &list)
		if len(list.Items) != 2 || list.Items[0].RevokedAt == nil || list.Items[1].UsedAt == nil {
			t.Fatalf("invitations: %+v", list.Items)
		}
		admin.do(http.MethodPost, "/api/users/invites/999999/revoke", "", nil).errCode(t, 404, "not_found")
		// Inviting an address again: the newest link wins, the older one stops working.
		_, first := invite("dee@seller.com")
		invite("dee@seller.com")
		if r := (&browser{e: e}).get(first); r.code != http.StatusGone {
			t.Fatalf("an older invitation still works: %d", r.code)
		}
	})
}
