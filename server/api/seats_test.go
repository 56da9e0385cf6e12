package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/subscriptions"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

const (
	tenantA = "aaaaaaaa-0000-4000-8000-00000000000a"
	tenantB = "bbbbbbbb-0000-4000-8000-00000000000b"
)

// seatWorld is two organisations with per-user subscriptions.
type seatWorld struct {
	custA, custB             uint
	subA, subB, flatA, autoA uint
	plans                    map[string]*store.Plan
}

func newSeatWorld(t *testing.T, st *store.Store) *seatWorld {
	t.Helper()
	ctx := context.Background()
	db := st.TestingDB(t).WithContext(ctx)
	now := time.Now().UTC()
	offer := store.Offer{Marketplace: "azure", Name: "Teams App", MarketplaceID: "teams-app", CreatedAt: now, UpdatedAt: now}
	must(t, db.Create(&offer).Error)
	w := &seatWorld{plans: map[string]*store.Plan{}}
	for _, p := range []store.Plan{
		{PlanID: "per-user", Name: "Per user", SeatBased: true},
		{PlanID: "flat", Name: "Flat"},
		{PlanID: "auto", Name: "Per user, first come first served", SeatBased: true, AutoAssignSeats: true},
	} {
		p.OfferID, p.Dimensions, p.ActivationPolicy, p.CreatedAt, p.UpdatedAt = offer.ID, "[]", store.ActivateAutomatic, now, now
		must(t, db.Create(&p).Error)
		w.plans[p.PlanID] = &p
	}
	cust := func(name, tenant string) uint {
		c := store.Customer{Name: name, AzureTenantID: tenant, CreatedAt: now, UpdatedAt: now}
		must(t, db.Create(&c).Error)
		return c.ID
	}
	w.custA, w.custB = cust("Contoso", tenantA), cust("Fabrikam", tenantB)
	sub := func(customer uint, plan string, quantity int) uint {
		s := store.Subscription{Marketplace: "azure", State: "active", StateChangedAt: now, Name: plan, CustomerID: &customer,
			OfferID: &offer.ID, PlanID: &w.plans[plan].ID, Quantity: quantity, AzureSubscriptionID: fmt.Sprintf("sub-%d-%s", customer, plan),
			Version: 1, CreatedAt: now, UpdatedAt: now}
		must(t, db.Create(&s).Error)
		return s.ID
	}
	w.subA, w.subB = sub(w.custA, "per-user", 3), sub(w.custB, "per-user", 5)
	w.flatA, w.autoA = sub(w.custA, "flat", 0), sub(w.custA, "auto", 3)
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type seatsResp struct {
	Summary struct {
		SeatBased bool   `json:"seat_based"`
		Bought    int    `json:"bought"`
		Assigned  int    `json:"assigned"`
		Free      int    `json:"free"`
		Over      int    `json:"over"`
		CanManage bool   `json:"can_manage"`
		Policy    string `json:"over_quantity_policy"`
		MoreSeats struct {
			Text, URL string
		} `json:"more_seats"`
	} `json:"summary"`
	Items []struct {
		ID     uint   `json:"id"`
		Email  string `json:"email"`
		Object string `json:"entra_object_id"`
		Source string `json:"source"`
		Over   bool   `json:"over"`
	} `json:"items"`
	Total int `json:"total"`
}

func (b *browser) seats(t *testing.T, sub uint, query string) seatsResp {
	t.Helper()
	r := b.get(fmt.Sprintf("/api/subscriptions/%d/seats?%s", sub, query))
	if r.code != 200 {
		t.Fatalf("seats: %d %s", r.code, r.body)
	}
	var out seatsResp
	r.json(t, &out)
	return out
}

func (b *browser) csv(path, body string) resp {
	return b.do(http.MethodPost, path, body, map[string]string{"Content-Type": "text/csv"})
}

func TestSeatsAssignReleaseImportExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newSeatWorld(t, st)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		e.user("viewer@seller.com", store.RoleViewer, nil)
		admin := e.login("it@contoso.com")
		path := fmt.Sprintf("/api/subscriptions/%d/seats", w.subA)

		got := admin.seats(t, w.subA, "")
		if !got.Summary.SeatBased || got.Summary.Bought != 3 || got.Summary.Assigned != 0 || !got.Summary.CanManage || len(got.Items) != 0 {
			t.Fatalf("empty list: %+v", got)
		}
		for _, u := range []string{"Ann@Contoso.com", "bob@contoso.com", "11111111-2222-4333-8444-555555555555"} {
			if r := admin.do(http.MethodPost, path, fmt.Sprintf(`{"user":%q,"name":"x"}`, u), nil); r.code != 201 {
				t.Fatalf("assign %s: %d %s", u, r.code, r.body)
			}
		}
		// Past the quantity: refused, with the way to get more seats.
		r := admin.do(http.MethodPost, path, `{"user":"cy@contoso.com"}`, nil)
		r.errCode(t, 409, "no_free_seat")
		if !strings.Contains(string(r.body), "3 bought, 3 assigned") || !strings.Contains(string(r.body), "Microsoft 365 admin center") {
			t.Fatalf("refusal does not say why or how to get more: %s", r.body)
		}
		admin.do(http.MethodPost, path, `{"user":"ann@contoso.com"}`, nil).errCode(t, 409, "conflict")
		admin.do(http.MethodPost, path, `{"user":"not an address"}`, nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, path, `{"user":"a@b.c","extra":1}`, nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/seats", w.flatA), `{"user":"cy@contoso.com"}`, nil).errCode(t, 409, "not_seat_based")

		got = admin.seats(t, w.subA, "q=CONTOSO")
		if got.Total != 2 || got.Items[0].Email != "ann@contoso.com" || got.Summary.Free != 0 {
			t.Fatalf("search: %+v", got)
		}
		// Release Bob.
		bob := got.Items[1].ID
		if r := admin.do(http.MethodDelete, fmt.Sprintf("%s/%d", path, bob), "", nil); r.code != 200 {
			t.Fatalf("release: %d %s", r.code, r.body)
		}
		admin.do(http.MethodDelete, fmt.Sprintf("%s/%d", path, bob), "", nil).errCode(t, 404, "not_found")

		// Import preview: what would change, nothing written.
		file := "email,name\nann@contoso.com,Ann\ndee@contoso.com,Dee\nnope,Bad\nDEE@contoso.com,Again\neve@contoso.com,Eve\n"
		r = admin.csv(path+"/import?mode=add", file)
		var prev struct {
			Applied bool `json:"applied"`
			Add     []struct {
				Line int
				User string
			} `json:"add"`
			Keep    []struct{ User string } `json:"keep"`
			Refused []struct {
				Line   int
				Reason string
			} `json:"refused"`
			Summary struct{ Assigned int } `json:"summary"`
		}
		r.json(t, &prev)
		if r.code != 200 || prev.Applied || len(prev.Add) != 1 || prev.Add[0].User != "dee@contoso.com" || len(prev.Keep) != 1 || len(prev.Refused) != 3 {
			t.Fatalf("preview: %d %s", r.code, r.body)
		}
		reasons := map[int]string{}
		for _, f := range prev.Refused {
			reasons[f.Line] = f.Reason
		}
		if !strings.Contains(reasons[4], "not an e-mail") || !strings.Contains(reasons[5], "line 3") || !strings.Contains(reasons[6], "no free seat") {
			t.Fatalf("refusal reasons: %v", reasons)
		}
		if got := admin.seats(t, w.subA, ""); got.Summary.Assigned != 2 {
			t.Fatalf("the preview wrote: %+v", got.Summary)
		}
		// Apply.
		r = admin.csv(path+"/import?mode=add&apply=true", file)
		r.json(t, &prev)
		if r.code != 200 || !prev.Applied || prev.Summary.Assigned != 3 {
			t.Fatalf("apply: %d %s", r.code, r.body)
		}
		got = admin.seats(t, w.subA, "")
		if got.Summary.Assigned != 3 || got.Items[2].Email != "dee@contoso.com" || got.Items[2].Source != "import" {
			t.Fatalf("after import: %+v", got)
		}
		// Replace: the file is the whole list; the others are released.
		r = admin.csv(path+"/import?mode=replace&apply=true", "ann@contoso.com\nzed@contoso.com\n")
		if r.code != 200 {
			t.Fatalf("replace: %d %s", r.code, r.body)
		}
		got = admin.seats(t, w.subA, "")
		emails := []string{}
		for _, it := range got.Items {
			emails = append(emails, it.Email)
		}
		if strings.Join(emails, ",") != "ann@contoso.com,zed@contoso.com" {
			t.Fatalf("after replace: %v", emails)
		}
		admin.csv(path+"/import", "a,\"b\n").errCode(t, 400, "invalid_input")
		admin.csv(path+"/import", "\n\n").errCode(t, 400, "invalid_input")
		admin.csv(path+"/import?mode=merge", "a@b.c").errCode(t, 400, "invalid_input")
		admin.do(http.MethodPost, path+"/import", `{"users":[]}`, nil).errCode(t, 400, "invalid_input")

		// Export: the import's format, spreadsheet-safe.
		admin.do(http.MethodPost, path, `{"user":"=cmd@contoso.com"}`, nil)
		r = admin.get(path + "/export")
		if r.code != 200 || !strings.HasPrefix(string(r.body), "email,entra_object_id,name,source,assigned_by,assigned_at,over\nann@contoso.com,") ||
			!strings.Contains(string(r.body), "'=cmd@contoso.com") {
			t.Fatalf("export: %d %s", r.code, r.body)
		}

		// Seller staff: viewers read but may not change.
		viewer := e.login("viewer@seller.com")
		if got := viewer.seats(t, w.subA, ""); got.Summary.CanManage || got.Summary.Assigned != 3 {
			t.Fatalf("viewer: %+v", got.Summary)
		}
		viewer.do(http.MethodPost, path, `{"user":"x@contoso.com"}`, nil).errCode(t, 403, "forbidden")

		// The timeline of who did what is in the audit log.
		var audits int64
		st.TestingReadDB(t).Model(&store.AuditEntry{}).Where("action LIKE 'seat.%'").Count(&audits)
		if audits < 5 {
			t.Fatalf("audit entries: %d", audits)
		}
	})
}

func TestSeatsWhenTheQuantityDrops(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newSeatWorld(t, st)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		admin := e.login("it@contoso.com")
		path := fmt.Sprintf("/api/subscriptions/%d/seats", w.subA)
		for _, u := range []string{"ann@contoso.com", "bob@contoso.com", "cy@contoso.com"} {
			admin.do(http.MethodPost, path, fmt.Sprintf(`{"user":%q}`, u), nil)
			time.Sleep(2 * time.Millisecond) // distinct assignment times
		}
		// Microsoft reports fewer seats (the customer lowered the quantity).
		_, err := subscriptions.Apply(context.Background(), st, subscriptions.Ref{AzureSubscriptionID: fmt.Sprintf("sub-%d-per-user", w.custA)},
			lifecycle.Event{Kind: lifecycle.AzureChangeQuantity, Quantity: 2}, subscriptions.Meta{Source: "test"}, nil)
		must(t, err)
		var note store.TimelineEvent
		must(t, st.TestingReadDB(t).Where("subscription_id = ? AND kind = ?", w.subA, lifecycle.AzureChangeQuantity).First(&note).Error)
		if !strings.Contains(note.Summary, "3 seats assigned, 1 over the new quantity") {
			t.Fatalf("timeline does not say seats are over: %q", note.Summary)
		}
		// The seller sees the flag on the subscription.
		var detail struct {
			Seats *struct{ Bought, Assigned, Over int } `json:"seats"`
		}
		admin.get(fmt.Sprintf("/api/subscriptions/%d", w.subA)).json(t, &detail)
		if detail.Seats == nil || detail.Seats.Over != 1 || detail.Seats.Bought != 2 || detail.Seats.Assigned != 3 {
			t.Fatalf("subscription seats summary: %+v", detail.Seats)
		}
		got := admin.seats(t, w.subA, "")
		if got.Summary.Over != 1 || got.Summary.Free != 0 || got.Items[2].Email != "cy@contoso.com" || !got.Items[2].Over || got.Items[0].Over || got.Items[1].Over {
			t.Fatalf("over quantity not marked on the newest seat: %+v", got)
		}
		key := seatKey(t, st)
		check := func(user string) (bool, string) {
			var a struct {
				Licensed bool
				Reason   string
			}
			r := apiGet(e, key, "/api/v1/seats/check?tenant_id="+tenantA+"&email="+url.QueryEscape(user))
			r.json(t, &a)
			return a.Licensed, a.Reason
		}
		// Keep-all (the default): nobody loses access until the admin chooses.
		if ok, why := check("cy@contoso.com"); !ok || why != "seat_assigned" {
			t.Fatalf("keep_all: %v %s", ok, why)
		}
		// The seller changes the plan's policy.
		e.user("seller@seller.com", store.RoleAdmin, nil)
		seller := e.login("seller@seller.com")
		planPath := fmt.Sprintf("/api/plans/%d/seats", w.plans["per-user"].ID)
		seller.do(http.MethodPatch, planPath, `{"over_quantity_policy":"random"}`, nil).errCode(t, 400, "invalid_input")
		admin.do(http.MethodPatch, planPath, `{"over_quantity_policy":"newest_unlicensed"}`, nil).errCode(t, 403, "forbidden")
		if r := seller.do(http.MethodPatch, planPath, `{"over_quantity_policy":"newest_unlicensed"}`, nil); r.code != 200 || !strings.Contains(string(r.body), `"over_quantity_policy":"newest_unlicensed"`) {
			t.Fatalf("plan policy: %d %s", r.code, r.body)
		}
		if ok, why := check("cy@contoso.com"); ok || why != "seat_over_quantity" {
			t.Fatalf("newest_unlicensed, newest seat: %v %s", ok, why)
		}
		if ok, _ := check("ann@contoso.com"); !ok {
			t.Fatal("newest_unlicensed took the oldest seat")
		}
		// The admin releases Ann instead: Cy is within the quantity again.
		r := admin.do(http.MethodPost, path+"/release", fmt.Sprintf(`{"ids":[%d]}`, got.Items[0].ID), nil)
		if r.code != 200 || !strings.Contains(string(r.body), `"over":0`) {
			t.Fatalf("release: %d %s", r.code, r.body)
		}
		if ok, why := check("cy@contoso.com"); !ok {
			t.Fatalf("after release: %v %s", ok, why)
		}
		admin.do(http.MethodPost, path+"/release", `{"ids":[]}`, nil).errCode(t, 400, "invalid_input")
	})
}

func seatKey(t *testing.T, st *store.Store) string {
	t.Helper()
	key, prefix := auth.NewAPIKey()
	must(t, st.CreateAPIKey(context.Background(), &store.APIKey{Name: "app", Prefix: prefix, Scopes: "seats"}, key))
	return key
}

func apiGet(e *env, key, path string) resp {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{code: rec.Code, hdr: rec.Header(), body: rec.Body.Bytes()}
}

func TestSeatCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newSeatWorld(t, st)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		admin := e.login("it@contoso.com")
		// The auto-assigning plan is tested on its own below.
		must(t, st.TestingDB(t).Model(&store.Subscription{}).Where("id = ?", w.autoA).Update("state", "ended").Error)
		admin.do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/seats", w.subA), `{"user":"ann@contoso.com"}`, nil)
		admin.do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/seats", w.subA), `{"user":"11111111-2222-4333-8444-555555555555"}`, nil)
		key := seatKey(t, st)

		type answer struct {
			Licensed     bool
			Reason       string
			Message      string
			Subscription *struct {
				ID            uint
				SeatsBought   int `json:"seats_bought"`
				SeatsAssigned int `json:"seats_assigned"`
			}
		}
		ask := func(q string) answer {
			t.Helper()
			r := apiGet(e, key, "/api/v1/seats/check?"+q)
			if r.code != 200 {
				t.Fatalf("%s: %d %s", q, r.code, r.body)
			}
			var a answer
			r.json(t, &a)
			if a.Message == "" {
				t.Fatalf("%s: no message: %s", q, r.body)
			}
			return a
		}
		cases := []struct {
			query    string
			licensed bool
			reason   string
		}{
			{"tenant_id=" + tenantA + "&email=ann@contoso.com&offer=teams-app", true, "seat_assigned"},
			{"tenant_id=" + strings.ToUpper(tenantA) + "&email=ANN@contoso.com", true, "seat_assigned"},
			{fmt.Sprintf("customer_id=%d&object_id=11111111-2222-4333-8444-555555555555", w.custA), true, "seat_assigned"},
			{"tenant_id=" + tenantA + "&email=bob@contoso.com&offer=teams-app", false, "no_seat"},
			{"tenant_id=" + tenantB + "&email=ann@contoso.com", false, "no_seat"},
			{"tenant_id=cccccccc-0000-4000-8000-00000000000c&email=ann@contoso.com", false, "unknown_customer"},
			{"tenant_id=" + tenantA + "&email=ann@contoso.com&offer=other-offer", false, "no_seat_based_subscription"},
		}
		for _, c := range cases {
			if a := ask(c.query); a.Licensed != c.licensed || a.Reason != c.reason {
				t.Errorf("%s: got %v %s, want %v %s", c.query, a.Licensed, a.Reason, c.licensed, c.reason)
			}
		}
		// A user without a seat is told how many are assigned, counted
		// again once a seat is assigned (the check keeps the count with
		// the organisation's subscriptions).
		bob := "tenant_id=" + tenantA + "&email=bob@contoso.com&offer=teams-app"
		if a := ask(bob); a.Subscription == nil || a.Subscription.SeatsAssigned != 2 || ask(bob).Subscription.SeatsAssigned != 2 {
			t.Fatalf("no seat: %+v", a.Subscription)
		}
		admin.do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/seats", w.subA), `{"user":"carl@contoso.com"}`, nil)
		if a := ask(bob); a.Subscription == nil || a.Subscription.SeatsAssigned != 3 {
			t.Fatalf("no seat, after a third was assigned: %+v", a.Subscription)
		}
		// Bad questions get a clear error.
		apiGet(e, key, "/api/v1/seats/check?email=ann@contoso.com").errCode(t, 400, "invalid_input")
		apiGet(e, key, "/api/v1/seats/check?tenant_id="+tenantA+"&customer_id=1&email=a@b.c").errCode(t, 400, "invalid_input")
		apiGet(e, key, "/api/v1/seats/check?tenant_id="+tenantA).errCode(t, 400, "invalid_input")
		apiGet(e, key, "/api/v1/seats/check?tenant_id="+tenantA+"&email=nope").errCode(t, 400, "invalid_input")
		apiGet(e, key, "/api/v1/seats/check?tenant_id="+tenantA+"&object_id=nope").errCode(t, 400, "invalid_input")
		usageKey, prefix := auth.NewAPIKey()
		must(t, st.CreateAPIKey(context.Background(), &store.APIKey{Name: "usage only", Prefix: prefix, Scopes: "usage"}, usageKey))
		apiGet(e, usageKey, "/api/v1/seats/check?tenant_id="+tenantA+"&email=ann@contoso.com").errCode(t, 403, "forbidden")

		// A suspended subscription licenses nobody, seat or not.
		must(t, st.TestingDB(t).Model(&store.Subscription{}).Where("id = ?", w.subA).Update("state", "suspended").Error)
		if a := ask("tenant_id=" + tenantA + "&email=ann@contoso.com&offer=teams-app"); a.Licensed || a.Reason != "subscription_not_active" {
			t.Fatalf("suspended: %+v", a)
		}
	})
}

// TestSeatCheckAutoAssignFirstComeFirstServed: many users checking at once
// for a plan that hands out free seats: exactly the quantity get one.
func TestSeatCheckAutoAssignFirstComeFirstServed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newSeatWorld(t, st)
		// Only the auto-assigning subscription is active for customer A.
		must(t, st.TestingDB(t).Model(&store.Subscription{}).Where("id IN ?", []uint{w.subA, w.flatA}).Update("state", "ended").Error)
		key := seatKey(t, st)
		var mu sync.Mutex
		reasons := map[string]int{}
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := apiGet(e, key, fmt.Sprintf("/api/v1/seats/check?tenant_id=%s&email=user%d@contoso.com", tenantA, i))
				var a struct {
					Licensed bool
					Reason   string
				}
				_ = json.Unmarshal(r.body, &a)
				mu.Lock()
				reasons[fmt.Sprintf("%d %v %s", r.code, a.Licensed, a.Reason)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if reasons["200 true seat_auto_assigned"] != 3 || reasons["200 false no_free_seat"] != 9 {
			t.Fatalf("auto-assignment: %v", reasons)
		}
		var seats int64
		st.TestingReadDB(t).Model(&store.Seat{}).Where("subscription_id = ? AND source = 'auto'", w.autoA).Count(&seats)
		if seats != 3 {
			t.Fatalf("seats handed out: %d", seats)
		}
		// A user who got one keeps it on the next check.
		var holder store.Seat
		must(t, st.TestingReadDB(t).Where("subscription_id = ?", w.autoA).First(&holder).Error)
		r := apiGet(e, key, "/api/v1/seats/check?tenant_id="+tenantA+"&email="+holder.Email)
		if !strings.Contains(string(r.body), `"reason":"seat_assigned"`) {
			t.Fatalf("second check: %s", r.body)
		}
	})
}

// TestCustomerAdminIsolation calls every portal API route as a customer
// admin of organisation A with organisation B's ids: B's data is never
// shown or changed, and seller-only routes refuse. A route added without
// a row here fails the test, so the table stays complete.
func TestCustomerAdminIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newSeatWorld(t, st)
		e.user("seller@seller.com", store.RoleAdmin, nil)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		e.user("it@fabrikam.com", store.RoleCustomerAdmin, &w.custB)
		b := e.login("it@fabrikam.com")
		if r := b.do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/seats", w.subB), `{"user":"secret@fabrikam.com"}`, nil); r.code != 201 {
			t.Fatalf("B's seat: %d %s", r.code, r.body)
		}
		var invite struct {
			Invite struct{ ID uint } `json:"invite"`
		}
		b.do(http.MethodPost, "/api/customer-admins/invites", `{"email":"invitee@fabrikam.com"}`, nil).json(t, &invite)
		// B's customer admin asks for more seats (the plan's default policy: the seller's approval).
		var reqB struct {
			Request struct{ ID uint } `json:"request"`
		}
		if r := b.do(http.MethodPost, fmt.Sprintf("/api/my/subscriptions/%d/changes", w.subB), `{"kind":"seats","quantity":12,"note":"secret@fabrikam.com needs one"}`, nil); r.code != 201 {
			t.Fatalf("B's change request: %d %s", r.code, r.body)
		} else {
			r.json(t, &reqB)
		}
		var seatB store.Seat
		must(t, st.TestingReadDB(t).Where("subscription_id = ?", w.subB).First(&seatB).Error)
		var subBefore store.Subscription
		must(t, st.TestingReadDB(t).First(&subBefore, w.subB).Error)

		a := e.login("it@contoso.com")
		markers := []string{"Fabrikam", tenantB, "secret@fabrikam.com", "invitee@fabrikam.com", fmt.Sprintf("sub-%d-", w.custB)}
		ids := strings.NewReplacer(":id", fmt.Sprint(w.subB), ":seat", fmt.Sprint(seatB.ID))
		csvHdr := map[string]string{"Content-Type": "text/csv"}
		const (
			self   = "self"   // the caller's own session or account
			seller = "seller" // must refuse customer admins (403)
			byID   = "byID"   // names B's resource: 403 or 404
			list   = "list"   // answers with the caller's own data only
			hidden = "hidden" // names B's resource: must not exist for them (404)
		)
		type route struct {
			class string
			path  string // with the query and B's ids; "" = the route's path
			body  string
			hdr   map[string]string
		}
		table := map[string]route{
			"POST /api/auth/login":                                  {class: self},
			"POST /api/auth/logout":                                 {class: self},
			"GET /api/auth/me":                                      {class: self},
			"GET /api/auth/options":                                 {class: self},
			"GET /api/openapi.json":                                 {class: self}, // public: describes the API, holds no data
			"POST /api/auth/password":                               {class: self},
			"POST /api/auth/login/2fa":                              {class: self},
			"POST /api/auth/2fa/setup":                              {class: self},
			"GET /api/auth/2fa/qr.png":                              {class: self},
			"POST /api/auth/2fa/enable":                             {class: self},
			"POST /api/auth/2fa/disable":                            {class: self},
			"POST /api/auth/2fa/recovery-codes":                     {class: self},
			"GET /api/security":                                     {class: seller},
			"PUT /api/security":                                     {class: seller, body: `{"require_two_factor":false}`},
			"GET /api/system":                                       {class: list},
			"GET /api/dashboard":                                    {class: list},
			"GET /api/setup":                                        {class: seller},
			"GET /api/subscriptions":                                {class: list, path: fmt.Sprintf("/api/subscriptions?customer=%d&q=fabrikam", w.custB)},
			"GET /api/subscriptions/:id":                            {class: byID},
			"GET /api/subscriptions/:id/raw":                        {class: seller},
			"GET /api/subscriptions/:id/agreement":                  {class: seller},
			"GET /api/renewals":                                     {class: seller},
			"GET /api/offers":                                       {class: list},
			"PATCH /api/plans/:id/seats":                            {class: seller, body: `{"auto_assign_seats":true}`},
			"GET /api/customers":                                    {class: seller},
			"GET /api/inbox":                                        {class: seller},
			"GET /api/inbox/:id":                                    {class: seller},
			"POST /api/inbox/:id/replay":                            {class: seller},
			"GET /api/users":                                        {class: seller},
			"GET /api/users/invites":                                {class: seller},
			"POST /api/users/invites":                               {class: seller, body: `{"email":"x@y.example","role":"viewer"}`},
			"POST /api/users/invites/:id/revoke":                    {class: seller},
			"POST /api/users/:id/reset-password":                    {class: seller},
			"POST /api/users/:id/reset-2fa":                         {class: seller},
			"GET /api/customers/:id":                                {class: seller},
			"POST /api/offers":                                      {class: seller, body: `{"marketplace":"azure","name":"X","marketplace_id":"x"}`},
			"PATCH /api/offers/:id":                                 {class: seller, body: `{"name":"X"}`},
			"POST /api/offers/:id/plans":                            {class: seller, body: `{"plan_id":"x","name":"X"}`},
			"PATCH /api/plans/:id":                                  {class: seller, body: `{"name":"X"}`},
			"POST /api/users":                                       {class: seller, body: `{"email":"x@y.example","role":"admin"}`},
			"PATCH /api/users/:id":                                  {class: seller, body: `{"role":"admin"}`},
			"GET /api/audit":                                        {class: seller},
			"GET /api/apikeys":                                      {class: seller},
			"POST /api/apikeys":                                     {class: seller, body: `{"name":"x","scopes":["seats"]}`},
			"POST /api/apikeys/:id/revoke":                          {class: seller},
			"GET /api/subscriptions/:id/azure/plans":                {class: seller},
			"POST /api/subscriptions/:id/azure/activate":            {class: seller},
			"POST /api/subscriptions/:id/azure/change":              {class: seller, body: `{"action":"unsubscribe"}`},
			"POST /api/azure/reconcile":                             {class: seller},
			"GET /api/metering/health":                              {class: seller},
			"GET /api/metering/records":                             {class: list, path: fmt.Sprintf("/api/metering/records?subscription=%d", w.subB)},
			"POST /api/metering/records/retry":                      {class: seller, body: `{"ids":[1]}`},
			"POST /api/metering/usage":                              {class: seller, body: `{}`},
			"GET /api/subscriptions/:id/usage":                      {class: byID},
			"GET /api/subscriptions/:id/seats":                      {class: byID},
			"GET /api/subscriptions/:id/seats/export":               {class: byID},
			"POST /api/subscriptions/:id/seats":                     {class: byID, body: `{"user":"mallory@contoso.com"}`},
			"POST /api/subscriptions/:id/seats/import":              {class: byID, path: fmt.Sprintf("/api/subscriptions/%d/seats/import?mode=replace&apply=true", w.subB), body: "mallory@contoso.com\n", hdr: csvHdr},
			"POST /api/subscriptions/:id/seats/release":             {class: byID, body: fmt.Sprintf(`{"ids":[%d]}`, seatB.ID)},
			"DELETE /api/subscriptions/:id/seats/:seat":             {class: byID},
			"GET /api/webhooks":                                     {class: seller},
			"GET /api/webhooks/:id":                                 {class: seller},
			"POST /api/webhooks":                                    {class: seller, body: `{"url":"https://x.example","event_types":["*"]}`},
			"PATCH /api/webhooks/:id":                               {class: seller, body: `{"enabled":false}`},
			"DELETE /api/webhooks/:id":                              {class: seller},
			"POST /api/webhooks/:id/rotate-secret":                  {class: seller},
			"POST /api/webhooks/:id/test":                           {class: seller},
			"GET /api/webhooks/:id/deliveries":                      {class: seller},
			"POST /api/webhooks/:id/deliveries/:delivery/redeliver": {class: seller},
			"GET /api/alerts":                                       {class: seller},
			"GET /api/alerts/channels":                              {class: seller},
			"POST /api/alerts/channels":                             {class: seller, body: `{"kind":"slack","target":"https://x.example","alert_types":["*"]}`},
			"PATCH /api/alerts/channels/:id":                        {class: seller, body: `{"enabled":false}`},
			"DELETE /api/alerts/channels/:id":                       {class: seller},
			"POST /api/alerts/channels/:id/test":                    {class: seller},
			"GET /api/customer-admins":                              {class: list, path: fmt.Sprintf("/api/customer-admins?customer_id=%d", w.custB)},
			// A customer admin always invites into their own organisation.
			"POST /api/customer-admins/invites":            {class: list, body: fmt.Sprintf(`{"email":"mallory@contoso.com","customer_id":%d}`, w.custB)},
			"POST /api/customer-admins/invites/:id/revoke": {class: byID, path: fmt.Sprintf("/api/customer-admins/invites/%d/revoke", invite.Invite.ID)},
			// The customer portal: always the caller's own organisation.
			"GET /api/my/subscriptions":              {class: list},
			"GET /api/my/subscriptions/:id":          {class: hidden},
			"GET /api/my/organisation":               {class: list},
			"PUT /api/my/organisation":               {class: list, body: `{"name":"Contoso Ltd","billing_contact":{"name":"","email":"","phone":""},"technical_contact":{"name":"","email":"","phone":""}}`},
			"GET /api/my/subscriptions/:id/changes":  {class: byID},
			"POST /api/my/subscriptions/:id/changes": {class: byID, body: `{"kind":"seats","quantity":9}`},
			"GET /api/change-requests":               {class: seller},
			"POST /api/change-requests/:id/approve":  {class: seller, path: fmt.Sprintf("/api/change-requests/%d/approve", reqB.Request.ID), body: `{}`},
			"POST /api/change-requests/:id/decline":  {class: seller, path: fmt.Sprintf("/api/change-requests/%d/decline", reqB.Request.ID), body: `{"reason":"x"}`},
			// The customer portal (customer admins only, their own customer's).
			"GET /api/my/subscriptions/:id/permissions":        {class: byID},
			"POST /api/my/subscriptions/:id/permissions/grant": {class: byID},

			// AWS agreement money (agreement_money.go): staff and admins only; the customer admin reads their own.
			"GET /api/subscriptions/:id/agreement/money":                       {class: seller},
			"POST /api/subscriptions/:id/agreement/refunds":                    {class: seller, body: `{"invoice_id":"inv-1","amount":"1","reason_code":"OTHER","confirm":true}`},
			"POST /api/subscriptions/:id/agreement/cancellation-requests":      {class: seller, body: `{"reason_code":"OTHER","confirm":true}`},
			"POST /api/subscriptions/:id/agreement/payment-requests":           {class: seller, body: `{"amount":"1","name":"Extra","confirm":true}`},
			"POST /api/subscriptions/:id/agreement/requests/:request/withdraw": {class: seller, path: fmt.Sprintf("/api/subscriptions/%d/agreement/requests/1/withdraw", w.subB), body: `{"reason":"x","confirm":true}`},
			"POST /api/subscriptions/:id/agreement/requests/:request/refresh":  {class: seller, path: fmt.Sprintf("/api/subscriptions/%d/agreement/requests/1/refresh", w.subB)},
			"GET /api/my/subscriptions/:id/agreement":                          {class: byID},
		}
		eng, ok := e.engine.(interface{ Routes() gin.RoutesInfo })
		if !ok {
			t.Fatal("the handler does not list its routes")
		}
		seen := 0
		for _, ri := range eng.Routes() {
			if !strings.HasPrefix(ri.Path, "/api/") || strings.HasPrefix(ri.Path, "/api/v1/") {
				continue
			}
			name := ri.Method + " " + ri.Path
			rt, ok := table[name]
			if !ok {
				t.Errorf("%s: not classified for customer admins — add it to this table", name)
				continue
			}
			seen++
			if rt.class == self {
				continue
			}
			path := rt.path
			if path == "" {
				path = ids.Replace(ri.Path)
			}
			r := a.do(ri.Method, path, rt.body, rt.hdr)
			for _, m := range markers {
				if strings.Contains(string(r.body), m) {
					t.Errorf("%s: shows organisation B's %q: %.300s", name, m, r.body)
				}
			}
			switch rt.class {
			case seller:
				if r.code != 403 {
					t.Errorf("%s: seller-only route answered %d to a customer admin", name, r.code)
				}
			case hidden:
				if r.code != 404 {
					t.Errorf("%s: B's resource answered %d (want 404): %.200s", name, r.code, r.body)
				}
			case byID:
				if r.code != 403 && r.code != 404 {
					t.Errorf("%s: B's resource answered %d: %.200s", name, r.code, r.body)
				}
			case list: // their own data, or B "does not exist"
				if r.code != 200 && r.code != 201 && r.code != 404 {
					t.Errorf("%s: %d %.200s", name, r.code, r.body)
				}
			}
		}
		if seen != len(table) {
			t.Errorf("the table names %d routes that no longer exist", len(table)-seen)
		}
		// Nothing of B changed.
		var seatsB []store.Seat
		must(t, st.TestingReadDB(t).Where("subscription_id = ?", w.subB).Find(&seatsB).Error)
		var inv store.Invitation
		must(t, st.TestingReadDB(t).First(&inv, invite.Invite.ID).Error)
		var subAfter store.Subscription
		must(t, st.TestingReadDB(t).First(&subAfter, w.subB).Error)
		var invitesB int64
		st.TestingReadDB(t).Model(&store.Invitation{}).Where("customer_id = ?", w.custB).Count(&invitesB)
		var custB store.Customer
		must(t, st.TestingReadDB(t).First(&custB, w.custB).Error)
		if custB.Name != "Fabrikam" {
			t.Fatalf("organisation B renamed to %q", custB.Name)
		}
		var requestsB []store.ChangeRequest
		must(t, st.TestingReadDB(t).Where("subscription_id = ?", w.subB).Find(&requestsB).Error)
		if len(requestsB) != 1 || requestsB[0].Status != store.ChangePending || requestsB[0].Quantity != 12 {
			t.Fatalf("organisation B's change requests changed: %+v", requestsB)
		}
		// A's own view of changes names nothing of B (a list of their own).
		if r := a.get(fmt.Sprintf("/api/my/subscriptions/%d/changes", w.subA)); r.code != 200 || strings.Contains(string(r.body), "fabrikam") {
			t.Fatalf("A's changes: %d %s", r.code, r.body)
		}
		if len(seatsB) != 1 || seatsB[0].Email != "secret@fabrikam.com" || inv.RevokedAt != nil || invitesB != 1 ||
			subAfter.Version != subBefore.Version || subAfter.State != subBefore.State {
			t.Fatalf("organisation B changed: seats %+v, invite %+v, %d invites, subscription v%d→v%d", seatsB, inv, invitesB, subBefore.Version, subAfter.Version)
		}
	})
}
