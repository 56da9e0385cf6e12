package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// The customer portal's API (/api/my/...), over HTTP on both databases.

type myWorld struct {
	custA, custB uint
	offers       map[string]uint // marketplace → offer id
	plans        map[string]uint // "azure/automatic", "azure/buyer_confirms", "aws/metered", ...
}

var changedAt = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

func newMyWorld(t *testing.T, st *store.Store) *myWorld {
	t.Helper()
	db := st.TestingDB(t).WithContext(context.Background())
	now := time.Now().UTC()
	w := &myWorld{offers: map[string]uint{}, plans: map[string]uint{}}
	for _, mp := range []string{"azure", "aws"} {
		o := store.Offer{Marketplace: mp, Name: "Northwind " + mp, MarketplaceID: "nw-" + mp, CreatedAt: now, UpdatedAt: now}
		must(t, db.Create(&o).Error)
		w.offers[mp] = o.ID
	}
	for _, p := range []struct {
		mp, id, name, policy string
		seats                bool
	}{
		{"azure", "automatic", "Standard", store.ActivateAutomatic, true},
		{"azure", "buyer_confirms", "Standard (buyer confirms)", store.ActivateBuyerConfirms, false},
		{"azure", "seller_approves", "Enterprise", store.ActivateSellerApproves, false},
		{"aws", "metered", "Pay as you go", store.ActivateAutomatic, false},
	} {
		pl := store.Plan{OfferID: w.offers[p.mp], PlanID: p.id, Name: p.name, SeatBased: p.seats, Dimensions: "[]",
			ActivationPolicy: p.policy, CreatedAt: now, UpdatedAt: now}
		must(t, db.Create(&pl).Error)
		w.plans[p.mp+"/"+p.id] = pl.ID
	}
	for _, c := range []struct {
		id   *uint
		name string
	}{{&w.custA, "Contoso"}, {&w.custB, "Fabrikam"}} {
		cu := store.Customer{Name: c.name, AWSAccountID: "1111" + c.name, CreatedAt: now, UpdatedAt: now}
		must(t, db.Create(&cu).Error)
		*c.id = cu.ID
	}
	return w
}

// sub stores a subscription of customer in the given state.
func (w *myWorld) sub(t *testing.T, st *store.Store, customer uint, plan, state, kind string) *store.Subscription {
	t.Helper()
	mp, _, _ := strings.Cut(plan, "/")
	planID, offerID := w.plans[plan], w.offers[mp]
	now := time.Now().UTC()
	s := &store.Subscription{Marketplace: mp, State: state, StateKind: kind, StateChangedAt: changedAt, Name: "Northwind " + state,
		CustomerID: &customer, OfferID: &offerID, PlanID: &planID, Quantity: 10, Version: 4, CreatedAt: now, UpdatedAt: now}
	if mp == "azure" {
		s.AzureSubscriptionID = fmt.Sprintf("az-%d-%s-%d", customer, state, now.UnixNano())
		s.AzureTenantID = "tenant-" + fmt.Sprint(customer)
	} else {
		s.AWSCustomerAccountID, s.AWSProductCode, s.AWSCustomerIdentifier = "123456789012", "prod-nw", fmt.Sprintf("cid-%d-%d", customer, now.UnixNano())
	}
	must(t, st.TestingDB(t).Create(s).Error)
	return s
}

type myStatusResp struct {
	State     string  `json:"state"`
	Situation string  `json:"situation"`
	Actor     string  `json:"actor"`
	NextStep  string  `json:"next_step"`
	CanUse    bool    `json:"can_use"`
	DataKept  bool    `json:"data_kept"`
	EndsBy    *string `json:"ends_by"`
}

type mySubResp struct {
	Subscription struct {
		ID          uint         `json:"id"`
		Marketplace string       `json:"marketplace"`
		Offer       string       `json:"offer"`
		Plan        string       `json:"plan"`
		Status      myStatusResp `json:"status"`
		Quantity    int          `json:"quantity"`
		Seats       *struct {
			Quantity int `json:"quantity"`
			Assigned int `json:"assigned"`
		} `json:"seats"`
		RenewsOn    *string `json:"renews_on"`
		AutoRenew   bool    `json:"auto_renew"`
		Purchaser   *struct{ Email, TenantID, AWSAccountID string }
		Beneficiary *struct {
			Email        string `json:"email"`
			TenantID     string `json:"tenant_id"`
			AWSAccountID string `json:"aws_account_id"`
		} `json:"beneficiary"`
	} `json:"subscription"`
}

// TestMyStatusPerState: what the page says for each state on each
// marketplace (situation, who acts, what to do, whether the product is
// usable, and for a suspended Microsoft subscription when it ends).
func TestMyStatusPerState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newMyWorld(t, st)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		a := e.login("it@contoso.com")
		// Microsoft keeps a suspended SaaS subscription 30 days, then
		// unsubscribes it (reference/microsoft-marketplace.md, webhook
		// Suspend: "Microsoft sends Unsubscribe after a 30-day grace period").
		suspendedEnds := changedAt.Add(30 * 24 * time.Hour).Format(time.RFC3339)
		cases := []struct {
			name, plan, state, kind string
			ticket                  bool // AWS: the buyer has a registration to finish
			want                    myStatusResp
		}{
			{"azure pending, automatic activation", "azure/automatic", "pending", "azure.resolved", false,
				myStatusResp{Situation: "pending_seller", Actor: "seller", NextStep: "wait"}},
			{"azure pending, seller approves", "azure/seller_approves", "pending", "azure.resolved", false,
				myStatusResp{Situation: "pending_seller", Actor: "seller", NextStep: "wait"}},
			{"azure pending, buyer confirms", "azure/buyer_confirms", "pending", "azure.resolved", false,
				myStatusResp{Situation: "pending_buyer", Actor: "buyer", NextStep: "confirm_activation"}},
			{"azure active", "azure/automatic", "active", "azure.activated", false,
				myStatusResp{Situation: "active", Actor: "none", NextStep: "none", CanUse: true}},
			{"azure suspended", "azure/automatic", "suspended", "azure.suspend", false,
				myStatusResp{Situation: "suspended_payment", Actor: "buyer", NextStep: "update_payment", DataKept: true, EndsBy: &suspendedEnds}},
			{"azure ended", "azure/automatic", "ended", "azure.unsubscribe", false,
				myStatusResp{Situation: "ended", Actor: "none", NextStep: "contact_seller"}},
			{"aws pending, AWS confirms", "aws/metered", "pending", "aws.registered", false,
				myStatusResp{Situation: "pending_marketplace", Actor: "marketplace", NextStep: "wait"}},
			{"aws pending, registration to finish", "aws/metered", "pending", "aws.subscribe_success", true,
				myStatusResp{Situation: "pending_buyer", Actor: "buyer", NextStep: "finish_registration"}},
			{"aws active", "aws/metered", "active", "aws.subscribe_success", false,
				myStatusResp{Situation: "active", Actor: "none", NextStep: "none", CanUse: true}},
			{"aws unsubscribe pending", "aws/metered", "unsubscribe_pending", "aws.unsubscribe_pending", false,
				myStatusResp{Situation: "unsubscribe_pending", Actor: "marketplace", NextStep: "none", CanUse: true, DataKept: true}},
			{"aws ended", "aws/metered", "ended", "aws.unsubscribe_success", false,
				myStatusResp{Situation: "ended", Actor: "none", NextStep: "contact_seller"}},
			{"aws failed", "aws/metered", "failed", "aws.subscribe_fail", false,
				myStatusResp{Situation: "failed", Actor: "buyer", NextStep: "subscribe_again"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				sub := w.sub(t, st, w.custA, tc.plan, tc.state, tc.kind)
				if tc.ticket {
					must(t, st.CreateTicket(context.Background(), fmt.Sprint("tok-", sub.ID), sub.ID, time.Hour))
				}
				r := a.get(fmt.Sprintf("/api/my/subscriptions/%d", sub.ID))
				if r.code != 200 {
					t.Fatalf("%d %s", r.code, r.body)
				}
				var got mySubResp
				r.json(t, &got)
				want := tc.want
				want.State = tc.state
				g := got.Subscription.Status
				if g.State != want.State || g.Situation != want.Situation || g.Actor != want.Actor || g.NextStep != want.NextStep ||
					g.CanUse != want.CanUse || g.DataKept != want.DataKept || (g.EndsBy == nil) != (want.EndsBy == nil) ||
					(g.EndsBy != nil && *g.EndsBy != *want.EndsBy) {
					t.Errorf("status %+v (ends %v), want %+v (ends %v)", g, deref(g.EndsBy), want, deref(want.EndsBy))
				}
				// Nothing internal on the customer's page.
				for _, internal := range []string{`"version"`, "inbox", tc.kind, sub.AWSCustomerIdentifier, sub.AzureSubscriptionID} {
					if internal != "" && strings.Contains(string(r.body), internal) {
						t.Errorf("shows %q: %s", internal, r.body)
					}
				}
			})
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// TestMySubscriptions: the customer's own subscriptions on both
// marketplaces with offer, plan, seats, renewal, purchaser and beneficiary;
// another customer's do not exist; seller staff cannot use /api/my.
func TestMySubscriptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newMyWorld(t, st)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		az := w.sub(t, st, w.custA, "azure/automatic", "active", "azure.activated")
		aws := w.sub(t, st, w.custA, "aws/metered", "active", "aws.subscribe_success")
		other := w.sub(t, st, w.custB, "azure/automatic", "active", "azure.activated")
		end := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
		db := st.TestingDB(t)
		must(t, db.Model(&store.Subscription{}).Where("id = ?", az.ID).Updates(map[string]any{"term_end": end, "auto_renew": true}).Error)
		must(t, db.Create(&store.Seat{SubscriptionID: az.ID, CustomerID: &w.custA, Email: "ann@contoso.com", Source: "manual", AssignedAt: time.Now().UTC()}).Error)
		payload := `{"resolved":{"id":"x","subscription":{"purchaser":{"emailId":"buyer@reseller.example","tenantId":"t-purchaser","objectId":"o1"},` +
			`"beneficiary":{"emailId":"it@contoso.com","tenantId":"t-contoso","objectId":"o2"}}},"signed_in":{}}`
		must(t, db.Create(&store.TimelineEvent{SubscriptionID: az.ID, At: changedAt, Kind: "azure.resolved", Source: "landing", Payload: payload, CreatedAt: changedAt}).Error)

		a := e.login("it@contoso.com")
		var list struct {
			Items []struct {
				ID          uint   `json:"id"`
				Marketplace string `json:"marketplace"`
				Offer       string `json:"offer"`
				Plan        string `json:"plan"`
			} `json:"items"`
		}
		a.get("/api/my/subscriptions").json(t, &list)
		if len(list.Items) != 2 || list.Items[0].ID != az.ID || list.Items[1].ID != aws.ID ||
			list.Items[0].Offer != "Northwind azure" || list.Items[0].Plan != "Standard" || list.Items[1].Marketplace != "aws" {
			t.Fatalf("list: %+v", list.Items)
		}

		var got mySubResp
		a.get(fmt.Sprintf("/api/my/subscriptions/%d", az.ID)).json(t, &got)
		s := got.Subscription
		if s.Seats == nil || s.Seats.Quantity != 10 || s.Seats.Assigned != 1 || !s.AutoRenew || s.RenewsOn == nil || !strings.HasPrefix(*s.RenewsOn, "2027-02-01") {
			t.Errorf("seats/renewal: %+v renews %v", s.Seats, deref(s.RenewsOn))
		}
		if s.Purchaser == nil || s.Purchaser.Email != "buyer@reseller.example" || s.Beneficiary == nil || s.Beneficiary.Email != "it@contoso.com" || s.Beneficiary.TenantID != "t-contoso" {
			t.Errorf("parties: %+v %+v", s.Purchaser, s.Beneficiary)
		}
		got = mySubResp{}
		a.get(fmt.Sprintf("/api/my/subscriptions/%d", aws.ID)).json(t, &got)
		if b := got.Subscription.Beneficiary; b == nil || b.AWSAccountID != "123456789012" || got.Subscription.Seats != nil {
			t.Errorf("aws: %+v", got.Subscription)
		}

		// Another customer's subscription does not exist for them.
		a.get(fmt.Sprintf("/api/my/subscriptions/%d", other.ID)).errCode(t, 404, "not_found")
		a.get("/api/my/subscriptions/0").errCode(t, 400, "invalid_input")

		// Seller staff: the customer portal's API is not theirs.
		for _, role := range []string{store.RoleAdmin, store.RoleOperator, store.RoleViewer} {
			email := role + "@seller.example"
			e.user(email, role, nil)
			b := e.login(email)
			for _, rt := range []struct{ method, path, body string }{
				{http.MethodGet, "/api/my/subscriptions", ""},
				{http.MethodGet, fmt.Sprintf("/api/my/subscriptions/%d", az.ID), ""},
				{http.MethodGet, "/api/my/organisation", ""},
				{http.MethodPut, "/api/my/organisation", `{"name":"X","billing_contact":{"name":"","email":"","phone":""},"technical_contact":{"name":"","email":"","phone":""}}`},
			} {
				b.do(rt.method, rt.path, rt.body, nil).errCode(t, 403, "customer_portal_only")
			}
		}
		(&browser{e: e}).get("/api/my/subscriptions").errCode(t, 401, "unauthenticated")
	})
}

// TestMyOrganisation: the customer admin corrects the registration
// information; it is validated field by field, stored, audited and shown
// to the seller on the customer's page.
func TestMyOrganisation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		w := newMyWorld(t, st)
		e.user("it@contoso.com", store.RoleCustomerAdmin, &w.custA)
		e.user("seller@seller.example", store.RoleAdmin, nil)
		a := e.login("it@contoso.com")

		type org struct {
			Organisation struct {
				Name           string `json:"name"`
				BillingContact struct {
					Name, Email, Phone string
				} `json:"billing_contact"`
				TechnicalContact struct {
					Name, Email, Phone string
				} `json:"technical_contact"`
			} `json:"organisation"`
		}
		var o org
		a.get("/api/my/organisation").json(t, &o)
		if o.Organisation.Name != "Contoso" {
			t.Fatalf("organisation: %+v", o)
		}

		// Invalid: every field's problem, with a stable code, and no
		// internal field path in the messages.
		r := a.do(http.MethodPut, "/api/my/organisation", `{"name":"  ","billing_contact":{"name":"Ann","email":"ann@","phone":"call me"},`+
			`"technical_contact":{"name":"`+strings.Repeat("x", 201)+`","email":"","phone":""}}`, nil)
		r.errCode(t, 400, "invalid_input")
		var fe struct {
			Error struct {
				Message string `json:"message"`
				Fields  []struct{ Field, Code, Message string }
			} `json:"error"`
		}
		r.json(t, &fe)
		want := map[string]string{"name": "required", "billing_contact.email": "invalid_email", "billing_contact.phone": "invalid_phone", "technical_contact.name": "too_long"}
		if len(fe.Error.Fields) != len(want) {
			t.Fatalf("fields: %+v", fe.Error.Fields)
		}
		for _, f := range fe.Error.Fields {
			if want[f.Field] != f.Code || f.Message == "" || strings.Contains(f.Message, "_contact") || strings.Contains(f.Message, ":") {
				t.Errorf("field %+v", f)
			}
		}
		if strings.Contains(fe.Error.Message, "_contact") {
			t.Errorf("message names a field path: %q", fe.Error.Message)
		}

		body := `{"name":" Contoso Ltd ","billing_contact":{"name":"Ann Billing","email":"billing@contoso.com","phone":"+81 3-1234-5678"},` +
			`"technical_contact":{"name":"Tom Tech","email":"tech@contoso.com","phone":""}}`
		r = a.do(http.MethodPut, "/api/my/organisation", body, nil)
		if r.code != 200 {
			t.Fatalf("save: %d %s", r.code, r.body)
		}
		o = org{}
		a.get("/api/my/organisation").json(t, &o)
		if o.Organisation.Name != "Contoso Ltd" || o.Organisation.BillingContact.Email != "billing@contoso.com" ||
			o.Organisation.BillingContact.Phone != "+81 3-1234-5678" || o.Organisation.TechnicalContact.Name != "Tom Tech" {
			t.Fatalf("after saving: %+v", o)
		}
		page, err := st.ListAudit(context.Background(), store.AuditFilter{Action: "customer.organisation_update", Limit: 10})
		entries := page.Items
		must(t, err)
		if len(entries) != 1 || entries[0].ActorEmail != "it@contoso.com" || entries[0].TargetID != fmt.Sprint(w.custA) ||
			!strings.Contains(entries[0].Before, `"Contoso"`) || !strings.Contains(entries[0].After, "billing@contoso.com") {
			t.Fatalf("audit: %+v", entries)
		}

		// The seller sees the same contacts on the customer's page.
		s := e.login("seller@seller.example")
		var cust struct {
			Customer struct {
				Name             string                              `json:"name"`
				BillingContact   struct{ Name, Email, Phone string } `json:"billing_contact"`
				TechnicalContact struct{ Name, Email, Phone string } `json:"technical_contact"`
			} `json:"customer"`
		}
		s.get(fmt.Sprintf("/api/customers/%d", w.custA)).json(t, &cust)
		if cust.Customer.Name != "Contoso Ltd" || cust.Customer.BillingContact.Name != "Ann Billing" || cust.Customer.TechnicalContact.Email != "tech@contoso.com" {
			t.Fatalf("seller's view: %+v", cust.Customer)
		}
		// Customer B is untouched.
		cb, err := st.CustomerByID(context.Background(), w.custB)
		must(t, err)
		if cb.Name != "Fabrikam" || cb.BillingContactEmail != "" {
			t.Fatalf("B changed: %+v", cb)
		}
	})
}
