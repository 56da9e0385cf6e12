package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

type changeReq struct {
	ID          uint   `json:"id"`
	Kind        string `json:"kind"`
	PlanID      string `json:"plan_id"`
	Quantity    int    `json:"quantity"`
	Status      string `json:"status"`
	Answer      string `json:"answer"`
	DecidedBy   string `json:"decided_by"`
	Error       string `json:"error"`
	OperationID string `json:"operation_id"`
	Customer    string `json:"customer_name"`
	Operation   *struct {
		OperationID string `json:"operation_id"`
		Status      string `json:"status"`
	} `json:"operation"`
}

type changeAns struct {
	Outcome   string    `json:"outcome"`
	Existing  bool      `json:"existing"`
	Request   changeReq `json:"request"`
	Operation *struct {
		OperationID string `json:"operation_id"`
		Action      string `json:"action"`
		Status      string `json:"status"`
	} `json:"operation"`
}

type changeOpts struct {
	Marketplace string `json:"marketplace"`
	PlanID      string `json:"plan_id"`
	Quantity    int    `json:"quantity"`
	MinQuantity int    `json:"min_quantity"`
	MaxQuantity int    `json:"max_quantity"`
	Kinds       []struct {
		Kind, Policy, Outcome, Reason string
	} `json:"kinds"`
	Plans []struct {
		PlanID  string `json:"plan_id"`
		Current bool   `json:"current"`
	} `json:"plans"`
	Requests []changeReq `json:"requests"`
}

func (o changeOpts) kind(k string) string {
	for _, x := range o.Kinds {
		if x.Kind == k {
			return x.Outcome + "/" + x.Policy + "/" + x.Reason
		}
	}
	return "missing"
}

func submit(t *testing.T, b *browser, subID uint, body, key string) (resp, changeAns) {
	t.Helper()
	var hdr map[string]string
	if key != "" {
		hdr = map[string]string{"Idempotency-Key": key}
	}
	r := b.do(http.MethodPost, fmt.Sprintf("/api/my/subscriptions/%d/changes", subID), body, hdr)
	var a changeAns
	if r.code < 300 {
		r.json(t, &a)
	}
	return r, a
}

func countRows(t *testing.T, st *store.Store, model any, where string, args ...any) int {
	t.Helper()
	var n int64
	must(t, st.TestingReadDB(t).Model(model).Where(where, args...).Count(&n).Error)
	return int(n)
}

// TestCustomerChangesMicrosoft walks a customer admin's changes of a
// Microsoft subscription against the simulated fulfillment API: the
// seller's policy per kind (allowed, approval, not allowed), requests the
// seller approves (performed through the seller's path, followed to the
// end) or declines, idempotent submission, and Microsoft's own rules.
func TestCustomerChangesMicrosoft(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		e.user("admin@seller.example", store.RoleAdmin, nil)
		seller := e.login("admin@seller.example")
		now := time.Now().UTC()
		must(t, st.TestingDB(t).Create(&store.WebhookEndpoint{URL: "https://hooks.seller.example/x", Secret: "whsec_AAAA",
			EventTypes: "change_request.created,change_request.approved,change_request.declined", Enabled: true, CreatedAt: now, UpdatedAt: now}).Error)

		msID, token, who := e.buy("seats", 5)
		cust := &browser{e: e.env}
		e.land(cust, token, who)
		sub := e.ours(msID)
		path := fmt.Sprintf("/api/my/subscriptions/%d/changes", sub.ID)

		// Existing and new plans need the seller's approval until the seller chooses.
		var opts changeOpts
		cust.get(path).json(t, &opts)
		for _, k := range []string{"plan", "seats", "unsubscribe"} {
			if got := opts.kind(k); got != "request/approval/" {
				t.Fatalf("%s by default: %s", k, got)
			}
		}
		// The seller sets the plan's policy: plan changes allowed, seats with approval, no unsubscribing.
		var plan store.Plan
		must(t, st.TestingReadDB(t).Where("plan_id = ?", "seats").First(&plan).Error)
		if r := seller.do(http.MethodPatch, fmt.Sprintf("/api/plans/%d", plan.ID),
			`{"customer_plan_change":"allowed","customer_seat_change":"approval","customer_unsubscribe":"not_allowed"}`, nil); r.code != 200 {
			t.Fatalf("policy: %d %s", r.code, r.body)
		}
		seller.do(http.MethodPatch, fmt.Sprintf("/api/plans/%d", plan.ID), `{"customer_seat_change":"sometimes"}`, nil).errCode(t, 400, "invalid_input")
		cust.get(path).json(t, &opts)
		if opts.kind("plan") != "perform/allowed/" || opts.kind("seats") != "request/approval/" || opts.kind("unsubscribe") != "refuse/not_allowed/policy" {
			t.Fatalf("after the policy: %+v", opts.Kinds)
		}
		// Microsoft's listed plans; the seat range is Microsoft's (1–50) narrowed by the seller's (30).
		if len(opts.Plans) != 5 || opts.MinQuantity != 1 || opts.MaxQuantity != 30 || opts.Quantity != 5 {
			t.Fatalf("options: %+v", opts)
		}

		// Refused: the policy says no (403 change_not_allowed); nothing is stored or asked.
		r, _ := submit(t, cust, sub.ID, `{"kind":"unsubscribe"}`, "")
		r.errCode(t, 403, "change_not_allowed")
		// Out of range, not listed by Microsoft, the current plan: 400.
		r, _ = submit(t, cust, sub.ID, `{"kind":"seats","quantity":31}`, "")
		r.errCode(t, 400, "invalid_input")
		r, _ = submit(t, cust, sub.ID, `{"kind":"plan","plan_id":"platinum"}`, "")
		r.errCode(t, 400, "invalid_input")
		r, _ = submit(t, cust, sub.ID, `{"kind":"plan","plan_id":"seats"}`, "")
		r.errCode(t, 400, "invalid_input")
		if n := countRows(t, st, &store.ChangeRequest{}, "subscription_id = ?", sub.ID); n != 0 {
			t.Fatalf("%d requests stored for refused changes", n)
		}

		// Approval: "buy more licences" becomes a request (201), an alert and a webhook event.
		r, req := submit(t, cust, sub.ID, `{"kind":"seats","quantity":8,"note":"Two new hires"}`, "click-1")
		if r.code != http.StatusCreated || req.Outcome != "request" || req.Request.Status != "pending" || req.Operation != nil {
			t.Fatalf("seat request: %d %s", r.code, r.body)
		}
		// A double click or a retry (same key), or the same change again, answers the same request.
		for _, key := range []string{"click-1", ""} {
			r2, again := submit(t, cust, sub.ID, `{"kind":"seats","quantity":8,"note":"Two new hires"}`, key)
			if r2.code != http.StatusCreated || !again.Existing || again.Request.ID != req.Request.ID {
				t.Fatalf("again (key %q): %d %s", key, r2.code, r2.body)
			}
		}
		// At most one open request per kind: another seat count waits for the first.
		r, _ = submit(t, cust, sub.ID, `{"kind":"seats","quantity":9}`, "")
		r.errCode(t, 409, "conflict")
		if n := countRows(t, st, &store.Alert{}, "type = ? AND key = ?", "change_requested", fmt.Sprintf("change_request:%d", req.Request.ID)); n != 1 {
			t.Fatalf("alerts: %d", n)
		}
		if n := countRows(t, st, &store.Event{}, "type = ? AND subscription_id = ?", "change_request.created", sub.ID); n != 1 {
			t.Fatalf("change_request.created events: %d", n)
		}
		// The seller's queue.
		var queue struct{ Items []changeReq }
		seller.get("/api/change-requests?status=pending&marketplace=azure").json(t, &queue)
		if len(queue.Items) != 1 || queue.Items[0].ID != req.Request.ID || queue.Items[0].Customer == "" {
			t.Fatalf("queue: %+v", queue.Items)
		}
		seller.get("/api/change-requests?status=whatever").errCode(t, 400, "invalid_input")
		seller.get("/api/change-requests?marketplace=aws").json(t, &queue)
		if len(queue.Items) != 0 {
			t.Fatalf("AWS queue: %+v", queue.Items)
		}
		// Seller staff have no customer portal routes.
		seller.get(path).errCode(t, 403, "customer_portal_only")

		// The seller approves: Marketgate asks Microsoft through the seller's path and follows the operation.
		var approved changeAns
		r = seller.do(http.MethodPost, fmt.Sprintf("/api/change-requests/%d/approve", req.Request.ID), `{"note":"Welcome aboard"}`, nil)
		if r.code != 200 {
			t.Fatalf("approve: %d %s", r.code, r.body)
		}
		r.json(t, &approved)
		if approved.Request.Status != "approved" || approved.Operation == nil || approved.Operation.Action != "ChangeQuantity" {
			t.Fatalf("approved: %s", r.body)
		}
		// Approving twice starts nothing more.
		seller.do(http.MethodPost, fmt.Sprintf("/api/change-requests/%d/approve", req.Request.ID), `{}`, nil).errCode(t, 409, "conflict")
		e.pollUntil(t, "the seat change", func() bool { return e.ours(msID).Quantity == 8 })
		cust.get(path).json(t, &opts)
		if len(opts.Requests) != 1 || opts.Requests[0].Status != "approved" || opts.Requests[0].Operation == nil ||
			opts.Requests[0].Operation.Status != "Succeeded" || opts.Requests[0].DecidedBy != "" || opts.Requests[0].Answer != "Welcome aboard" {
			t.Fatalf("customer's history: %+v", opts.Requests)
		}
		if ms, _ := e.mk.Get(msID); ms.Quantity != 8 {
			t.Fatalf("Microsoft's quantity: %d", ms.Quantity)
		}

		// Allowed: a plan change happens now (202) with Microsoft's operation;
		// concurrent double clicks with one Idempotency-Key start one operation.
		var wg sync.WaitGroup
		answers := make([]changeAns, 3)
		codes := make([]int, 3)
		for i := range answers {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r, a := submit(t, cust, sub.ID, `{"kind":"plan","plan_id":"locked"}`, "plan-click")
				codes[i], answers[i] = r.code, a
			}(i)
		}
		wg.Wait()
		for i := range answers {
			if codes[i] != http.StatusAccepted || answers[i].Outcome != "perform" || answers[i].Request.ID != answers[0].Request.ID {
				t.Fatalf("plan change click %d: %d %+v", i, codes[i], answers[i])
			}
		}
		if n := countRows(t, st, &store.AzureOperation{}, "subscription_id = ? AND action = ?", sub.ID, "ChangePlan"); n != 1 {
			t.Fatalf("%d plan change operations for one change", n)
		}
		// Microsoft: "Only a plan or quantity can be patched at one time, not both."
		// (SaaS fulfillment API v2, Change the plan / Change the quantity of seats.)
		// Marketgate never sends both: a seat request approved while the plan
		// change runs is refused by Microsoft (one operation at a time) and
		// stays pending for the seller to approve again.
		r, req = submit(t, cust, sub.ID, `{"kind":"seats","quantity":10}`, "")
		if r.code != http.StatusCreated {
			t.Fatalf("seat request during the plan change: %d %s", r.code, r.body)
		}
		seller.do(http.MethodPost, fmt.Sprintf("/api/change-requests/%d/approve", req.Request.ID), `{}`, nil).errCode(t, 409, "conflict")
		var pending store.ChangeRequest
		must(t, st.TestingReadDB(t).First(&pending, req.Request.ID).Error)
		if pending.Status != store.ChangePending || pending.DecidedBy != "" || pending.Error == "" {
			t.Fatalf("after Microsoft refused: %+v", pending)
		}
		both, _ := json.Marshal(map[string]any{"planId": "seats", "quantity": 12})
		if code := e.patchMicrosoft(t, msID, both); code != http.StatusBadRequest {
			t.Fatalf("a PATCH with plan and quantity answered %d", code)
		}
		e.pollUntil(t, "the plan change", func() bool { s := e.ours(msID); return s.Plan != nil && s.Plan.PlanID == "locked" })

		// Declined with a reason the customer sees; a decline needs one.
		decl := fmt.Sprintf("/api/change-requests/%d/decline", req.Request.ID)
		seller.do(http.MethodPost, decl, `{"reason":"  "}`, nil).errCode(t, 400, "invalid_input")
		if r := seller.do(http.MethodPost, decl, `{"reason":"Please talk to your account manager first."}`, nil); r.code != 200 {
			t.Fatalf("decline: %d %s", r.code, r.body)
		}
		cust.get(path).json(t, &opts)
		if opts.Requests[0].ID != req.Request.ID || opts.Requests[0].Status != "declined" || opts.Requests[0].Answer != "Please talk to your account manager first." {
			t.Fatalf("declined: %+v", opts.Requests[0])
		}
		if n := countRows(t, st, &store.Event{}, "type IN ? AND subscription_id = ?", []string{"change_request.approved", "change_request.declined"}, sub.ID); n != 2 {
			t.Fatalf("approved/declined events: %d", n)
		}
		if e.ours(msID).Quantity != 8 {
			t.Fatal("a declined seat change changed the quantity")
		}
	})
}

// patchMicrosoft sends a PATCH of a subscription to the simulated
// fulfillment API directly (as a client that breaks its rules would),
// with a token from the simulated Entra's client credentials grant.
func (e *azureEnv) patchMicrosoft(t *testing.T, msID string, body []byte) int {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {msClient}, "client_secret": {msSecret},
		"scope": {"20e940b3-4c77-4b0b-9a53-9e16a1b010a7/.default"}}
	res, err := e.esrv.Client().PostForm(e.esrv.URL+"/"+msTenant+"/oauth2/v2.0/token", form)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if tok.AccessToken == "" {
		t.Fatalf("no token: %d", res.StatusCode)
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPatch,
		e.mkURL+"/saas/subscriptions/"+msID+"?api-version="+azurefake.APIVersion, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return res.StatusCode
}

// TestCustomerChangesAWS: no API changes an AWS buyer's subscription, so a
// change is always a request to the seller, who answers it (approve: a
// private offer follows, with a note; or decline with a reason).
func TestCustomerChangesAWS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		db := st.TestingDB(t)
		now := time.Now().UTC()
		offer := store.Offer{Marketplace: "aws", Name: "Acme on AWS", MarketplaceID: "acmeprod", IdentityModel: "concurrent_agreements", Contract: true, CreatedAt: now, UpdatedAt: now}
		must(t, db.Create(&offer).Error)
		plan := store.Plan{OfferID: offer.ID, PlanID: "standard", Name: "Standard", Dimensions: "[]", ActivationPolicy: store.ActivateAutomatic,
			CustomerPlanChange: "allowed", CustomerSeatChange: "not_allowed", CreatedAt: now, UpdatedAt: now}
		must(t, db.Create(&plan).Error)
		c := store.Customer{Name: "Northwind", AWSAccountID: "123456789012", CreatedAt: now, UpdatedAt: now}
		must(t, db.Create(&c).Error)
		sub := store.Subscription{Marketplace: "aws", State: "active", StateChangedAt: now, Name: "Northwind – Acme", CustomerID: &c.ID,
			OfferID: &offer.ID, PlanID: &plan.ID, AWSCustomerAccountID: "123456789012", Version: 1, CreatedAt: now, UpdatedAt: now}
		must(t, db.Create(&sub).Error)
		e.user("it@northwind.example", store.RoleCustomerAdmin, &c.ID)
		e.user("ops@seller.example", store.RoleOperator, nil)
		cust, seller := e.login("it@northwind.example"), e.login("ops@seller.example")
		path := fmt.Sprintf("/api/my/subscriptions/%d/changes", sub.ID)

		var opts changeOpts
		cust.get(path).json(t, &opts)
		// Allowed still means a request on AWS; seats: not a per-user plan; unsubscribe: in AWS's console.
		if opts.kind("plan") != "request/allowed/" || opts.kind("seats") != "refuse/not_allowed/not_seat_based" ||
			opts.kind("unsubscribe") != "refuse/approval/unsubscribe_aws" || len(opts.Plans) != 0 {
			t.Fatalf("AWS options: %+v", opts)
		}
		r, _ := submit(t, cust, sub.ID, `{"kind":"unsubscribe"}`, "")
		r.errCode(t, 403, "change_not_allowed")
		r, req := submit(t, cust, sub.ID, `{"kind":"plan","plan_id":"enterprise","note":"We need SSO"}`, "")
		if r.code != http.StatusCreated || req.Request.Status != "pending" || req.Request.PlanID != "enterprise" {
			t.Fatalf("AWS request: %d %s", r.code, r.body)
		}
		r = seller.do(http.MethodPost, fmt.Sprintf("/api/change-requests/%d/approve", req.Request.ID), `{"note":"A private offer for Enterprise follows this week."}`, nil)
		var ans changeAns
		r.json(t, &ans)
		if r.code != 200 || ans.Request.Status != "approved" || ans.Operation != nil || !strings.Contains(ans.Request.Answer, "private offer") {
			t.Fatalf("AWS approve: %d %s", r.code, r.body)
		}
		cust.get(path).json(t, &opts)
		if len(opts.Requests) != 1 || opts.Requests[0].Status != "approved" || opts.Requests[0].DecidedBy != "" {
			t.Fatalf("customer's AWS history: %+v", opts.Requests)
		}
		var after store.Subscription
		must(t, st.TestingReadDB(t).First(&after, sub.ID).Error)
		if after.Version != sub.Version {
			t.Fatal("an AWS request changed the subscription")
		}
	})
}
