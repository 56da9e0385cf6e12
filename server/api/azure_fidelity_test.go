package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// postWebhook sends a webhook call with a valid Entra token, as Microsoft
// (or someone holding a valid token) would.
func (e *azureEnv) postWebhook(body string) resp {
	e.t.Helper()
	return (&browser{e: e.env}).do(http.MethodPost, "/marketplace/azure/webhook", body,
		map[string]string{"Authorization": "Bearer " + e.entra.WebhookToken(msTenant, msClient)})
}

func (e *azureEnv) timelineCount(id uint) int {
	var n int64
	e.st.TestingReadDB(e.t).Model(&store.TimelineEvent{}).Where("subscription_id = ?", id).Count(&n)
	return int(n)
}

// Reference §6.3: "Dedup on id in the inbox; a repeat … changes nothing",
// and §6.1: a 4xx answer rejects a ChangePlan/ChangeQuantity. A repeat must
// therefore get the 400 again: a 200 would count as acceptance.
func TestAzureRejectedChangeRedeliveredGetsTheSameAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		msID, token, who := e.buy("seats", 5)
		e.land(&browser{e: e.env}, token, who)
		sub := e.ours(msID)

		// The customer asks for 40 seats; the plan allows at most 30: 400.
		e.lose.Store(true) // Microsoft's first attempt never gets our answer…
		opID, err := e.mk.ChangeQuantity(msID, 40)
		if err != nil {
			t.Fatal(err)
		}
		e.lose.Store(false)
		for i := 0; i < 10; i++ { // …so it delivers the same call again, ten times.
			code, err := e.mk.RedeliverWebhook(msID, opID)
			if err != nil || code != http.StatusBadRequest {
				t.Fatalf("redelivery %d: %d %v, want 400 every time", i, code, err)
			}
		}
		eventually(t, "the refusal recorded", func() bool { return e.timeline(sub.ID, "azure.change_rejected") == 1 })
		var rows int64
		st.TestingReadDB(t).Model(&store.InboxMessage{}).Where("source = ? AND body LIKE ?", azuremp.SourceNotification, "%"+opID+"%").Count(&rows)
		if got := e.ours(msID); got.Quantity != 5 || rows != 1 {
			t.Fatalf("after ten redeliveries: quantity %d, %d inbox rows", got.Quantity, rows)
		}
		// A redelivery after the call was confirmed (it claimed the operation id) is still refused.
		if code, _ := e.mk.RedeliverWebhook(msID, opID); code != http.StatusBadRequest {
			t.Fatalf("redelivery after confirmation: %d", code)
		}
		// Microsoft never saw an approval.
		for _, o := range e.mk.Operations(msID) {
			if o.ID == opID && o.Status == "Succeeded" {
				t.Fatal("the refused change went through at Microsoft")
			}
		}
		e.pollUntil(t, "nothing applied", func() bool { return e.ours(msID).Quantity == 5 })

		// An accepted change redelivered gets 200 each time and applies once.
		opID, err = e.mk.ChangeQuantity(msID, 7)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			if code, err := e.mk.RedeliverWebhook(msID, opID); err != nil || code != http.StatusOK {
				t.Fatalf("accepted redelivery %d: %d %v", i, code, err)
			}
		}
		e.pollUntil(t, "7 seats", func() bool { return e.ours(msID).Quantity == 7 })
	})
}

// Reference §6.4: the token and Get Operation together authenticate a call.
// A call Get Operation does not confirm must not claim the operation's id
// (issue 15, finding 7), nor write to the subscription's timeline.
func TestAzureUnconfirmedCallCannotSuppressTheGenuineOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		msID, token, who := e.buy("seats", 5)
		e.land(&browser{e: e.env}, token, who)
		sub := e.ours(msID)

		// Microsoft suspends the subscription; its webhook is delayed.
		e.lose.Store(true)
		opID, err := e.mk.Suspend(msID)
		if err != nil {
			t.Fatal(err)
		}
		e.lose.Store(false)
		entries := e.timelineCount(sub.ID)
		// Calls that reuse the operation id, which Get Operation does not
		// confirm: another action, another subscription.
		other, _, _ := e.buy("auto", 0)
		forged := []string{
			fmt.Sprintf(`{"id":"%s","subscriptionId":"%s","action":"Reinstate","status":"Succeeded"}`, opID, msID),
			fmt.Sprintf(`{"id":"%s","subscriptionId":"%s","action":"Suspend","status":"Succeeded"}`, opID, other),
		}
		for _, body := range forged {
			if r := e.postWebhook(body); r.code != http.StatusOK {
				t.Fatalf("forged call: %d %s", r.code, r.body)
			}
		}
		eventually(t, "the forged calls marked unverified", func() bool {
			var n int64
			st.TestingReadDB(t).Model(&store.InboxMessage{}).Where("source = ? AND error LIKE ?", azuremp.SourceNotification, "rejected_unverified%").Count(&n)
			return n == 2
		})
		var linked int64
		st.TestingReadDB(t).Model(&store.InboxMessage{}).Where("source = ? AND subscription_id IS NOT NULL AND error LIKE ?", azuremp.SourceNotification, "rejected_unverified%").Count(&linked)
		if got := e.ours(msID); got.State != "active" || e.timelineCount(sub.ID) != entries || linked != 0 {
			t.Fatalf("unconfirmed calls changed something: %s, timeline %d → %d, %d linked", got.State, entries, e.timelineCount(sub.ID), linked)
		}
		// Microsoft's own delivery arrives and is acted on.
		if code, err := e.mk.RedeliverWebhook(msID, opID); err != nil || code != http.StatusOK {
			t.Fatalf("genuine delivery: %d %v", code, err)
		}
		eventually(t, "the genuine suspend applied", func() bool { return e.ours(msID).State == "suspended" })

		// A call whose payload passes the plan's policy cannot approve an
		// operation that Microsoft holds with a quantity the policy refuses.
		if _, err := e.mk.Reinstate(msID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "reinstated", func() bool { return e.ours(msID).State == "active" })
		e.lose.Store(true)
		opID, err = e.mk.ChangeQuantity(msID, 40) // over the plan's 30
		if err != nil {
			t.Fatal(err)
		}
		e.lose.Store(false)
		body := fmt.Sprintf(`{"id":"%s","subscriptionId":"%s","action":"ChangeQuantity","quantity":10,"status":"InProgress","operationRequestSource":"Azure"}`, opID, msID)
		if r := e.postWebhook(body); r.code != http.StatusOK {
			t.Fatalf("payload within the policy: %d", r.code)
		}
		eventually(t, "Microsoft's operation failed by us", func() bool { o, _ := e.mk.Operation(msID, opID); return o.Status == "Failed" })
		if q := e.ours(msID).Quantity; q != 5 {
			t.Fatalf("quantity %d", q)
		}
		eventually(t, "the refusal on the timeline", func() bool {
			return strings.Contains(lastTimelineSummary(t, st, sub.ID), "allows at most 30 seats")
		})
	})
}

func lastTimelineSummary(t *testing.T, st *store.Store, id uint) string {
	t.Helper()
	var ev store.TimelineEvent
	st.TestingReadDB(t).Where("subscription_id = ?", id).Order("id DESC").Limit(1).Find(&ev)
	return ev.Summary
}

func form(subID uint) (string, map[string]string) {
	return fmt.Sprintf("subscription=%d", subID), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
}

// Reference §3: purchaser and beneficiary "differ for CSP or reseller
// purchases; seats and sign-in belong to the beneficiary tenant". Whoever
// Microsoft sends with a valid token and signs in reaches that purchase's
// welcome page, may activate it when the plan lets the buyer, is told who
// administers it; the beneficiary's organisation gets its customer admin
// (issue 14, defect 1). Every activation policy.
func TestAzurePurchaserFromAnotherTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		for _, tc := range []struct {
			plan      string
			landed    string // state right after the landing page
			canAct    bool   // the purchaser sees (and may use) the Activate button
			activated bool   // state after the purchaser posts the form
		}{
			{"auto", "active", false, true},
			{"confirm", "pending", true, true},
			{"approve", "pending", false, false},
		} {
			t.Run(tc.plan, func(t *testing.T) {
				purchaser := azurefake.Party{EmailID: "buyer@procurement-" + tc.plan + ".example", ObjectID: azuremp.NewGUID(), TenantID: azuremp.NewGUID()}
				beneficiary := azurefake.Party{EmailID: "it@fabrikam-" + tc.plan + ".example", ObjectID: azuremp.NewGUID(), TenantID: azuremp.NewGUID()}
				msID, token, err := e.mk.Purchase(msOffer, tc.plan, 0, purchaser, beneficiary, "Fabrikam "+tc.plan)
				if err != nil {
					t.Fatal(err)
				}
				mailsBefore := len(e.sent())
				b := &browser{e: e.env}
				r := e.land(b, token, purchaser)
				if r.code != http.StatusSeeOther {
					t.Fatalf("callback: %d %s", r.code, r.body)
				}
				page := b.get(r.hdr.Get("Location"))
				body := string(page.body)
				if page.code != http.StatusOK || !strings.Contains(body, "Administered by") || !strings.Contains(body, beneficiary.EmailID) {
					t.Fatalf("welcome page for the purchaser: %d %s", page.code, body)
				}
				sub := e.ours(msID)
				if sub.State != tc.landed {
					t.Fatalf("after landing: %s, want %s", sub.State, tc.landed)
				}
				if strings.Contains(body, "Activate subscription") != tc.canAct {
					t.Fatalf("activate button shown=%v, want %v: %s", !tc.canAct, tc.canAct, body)
				}
				// The purchaser is no one's customer admin; the beneficiary's organisation is the customer.
				var cust store.Customer
				st.TestingReadDB(t).First(&cust, *sub.CustomerID)
				if _, err := st.UserByEmail(context.Background(), purchaser.EmailID); err == nil || cust.AzureTenantID != beneficiary.TenantID {
					t.Fatalf("purchaser got an account, or customer %+v", cust)
				}
				// The beneficiary is invited by e-mail, once.
				mails := e.sent()[mailsBefore:]
				if len(mails) != 1 || mails[0].To != beneficiary.EmailID || !strings.Contains(mails[0].Text, "/invite?token=") {
					t.Fatalf("invitation mails: %+v", mails)
				}
				// The purchaser activates when the plan lets the buyer (and only then: issue 15 finding 2).
				f, h := form(sub.ID)
				r = b.do(http.MethodPost, "/marketplace/azure/activate", f, h)
				want := map[bool]int{true: http.StatusSeeOther, false: http.StatusForbidden}[tc.activated || tc.landed == "active"]
				if r.code != want {
					t.Fatalf("purchaser activates: %d, want %d: %s", r.code, want, r.body)
				}
				ms, _ := e.mk.Get(msID)
				if got := e.ours(msID).State; (got == "active") != tc.activated || (ms.Status == "Subscribed") != tc.activated {
					t.Fatalf("after the purchaser's activation: ours %s, Microsoft %s", got, ms.Status)
				}
				// Opening it again ("Manage account") invites no one twice.
				tok2, _ := e.mk.PurchaseToken(msID)
				e.land(&browser{e: e.env}, tok2, purchaser)
				if n := len(e.sent()) - mailsBefore; n != 1 {
					t.Fatalf("%d invitations", n)
				}
				// The beneficiary accepts the invitation and administers the subscription.
				link := mails[0].Text[strings.Index(mails[0].Text, "/invite?token="):]
				link = strings.TrimSpace(link)
				admin := &browser{e: e.env}
				tok := strings.TrimPrefix(link, "/invite?token=")
				tokDecoded, _ := url.QueryUnescape(tok)
				r = admin.do(http.MethodPost, "/invite", url.Values{"token": {tokDecoded}, "name": {"Fabrikam IT"}, "password": {"a long enough password 1"}}.Encode(),
					map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
				if r.code != http.StatusSeeOther {
					t.Fatalf("accept the invitation: %d %s", r.code, r.body)
				}
				if email, cid := admin.me(t); email != beneficiary.EmailID || cid == nil || *cid != cust.ID {
					t.Fatalf("beneficiary admin: %s %v", email, cid)
				}
				if page := admin.get(fmt.Sprintf("/marketplace/azure/welcome?subscription=%d", sub.ID)); page.code != 200 || !strings.Contains(string(page.body), "(you)") {
					t.Fatalf("welcome page for the admin: %d %s", page.code, page.body)
				}
				// Another purchase's page stays closed to this purchaser.
				other, otherTok, otherWho := e.buy("auto", 0)
				e.land(&browser{e: e.env}, otherTok, otherWho)
				if r := b.get(fmt.Sprintf("/marketplace/azure/welcome?subscription=%d", e.ours(other).ID)); r.code != http.StatusForbidden {
					t.Fatalf("someone else's purchase: %d", r.code)
				}
			})
		}
	})
}

// Issue 15, finding 2: the plan's activation policy holds on every path;
// a customer admin cannot activate a plan the seller approves.
func TestAzureBuyerCannotActivateWhatTheSellerApproves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		msID, token, who := e.buy("approve", 0)
		b := &browser{e: e.env}
		e.land(b, token, who)
		if email, _ := b.me(t); email != who.EmailID {
			t.Fatalf("the buyer is not signed in as customer admin: %q", email)
		}
		sub := e.ours(msID)
		f, h := form(sub.ID)
		if r := b.do(http.MethodPost, "/marketplace/azure/activate", f, h); r.code != http.StatusForbidden {
			t.Fatalf("customer admin activates a seller-approved plan: %d %s", r.code, r.body)
		}
		if ms, _ := e.mk.Get(msID); e.ours(msID).State != "pending" || ms.Status != "PendingFulfillmentStart" {
			t.Fatalf("activated against the policy: %s / %s", e.ours(msID).State, ms.Status)
		}
		// The seller still can.
		e.user("operator@example.com", store.RoleOperator, nil)
		if r := e.login("operator@example.com").do(http.MethodPost, fmt.Sprintf("/api/subscriptions/%d/azure/activate", sub.ID), "", nil); r.code != 200 {
			t.Fatalf("seller activate: %d %s", r.code, r.body)
		}
	})
}

// Issue 15, finding 6: once a customer admin is bound to an Entra object
// id, another identity of the same tenant with the same e-mail claim does
// not sign in as them (portal sign-in and landing page alike).
func TestAzureBoundAdminMatchedByObjectIDOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		_, token, who := e.buy("auto", 0)
		e.land(&browser{e: e.env}, token, who) // binds who.ObjectID
		var admin store.User
		st.TestingReadDB(t).Where("email = ?", who.EmailID).First(&admin)
		if admin.EntraObjectID != who.ObjectID {
			t.Fatalf("not bound: %+v", admin)
		}
		impostor := azurefake.Party{EmailID: who.EmailID, ObjectID: azuremp.NewGUID(), TenantID: who.TenantID}
		b := &browser{e: e.env}
		r := e.signInWithEntra(b, "/auth/microsoft", impostor)
		if loc := r.hdr.Get("Location"); !strings.HasPrefix(loc, "/login?error=") {
			t.Fatalf("impostor signed in: %d %s", r.code, loc)
		}
		if email, _ := b.me(t); email != "" {
			t.Fatalf("impostor is signed in as %s", email)
		}
		// Through the landing page of a purchase of that organisation: no session as the admin either.
		msID, tok2, err := e.mk.Purchase(msOffer, "confirm", 0, who, who, "Second")
		if err != nil {
			t.Fatal(err)
		}
		b2 := &browser{e: e.env}
		e.land(b2, tok2, impostor)
		if email, _ := b2.me(t); email != "" {
			t.Fatalf("impostor signed in through the landing page as %s", email)
		}
		// The bound admin from another tenant with the same object id is not them either.
		elsewhere := azurefake.Party{EmailID: who.EmailID, ObjectID: who.ObjectID, TenantID: azuremp.NewGUID()}
		if r := e.signInWithEntra(&browser{e: e.env}, "/auth/microsoft", elsewhere); !strings.HasPrefix(r.hdr.Get("Location"), "/login?error=") {
			t.Fatalf("object id from another tenant signed in: %s", r.hdr.Get("Location"))
		}
		// The real admin still signs in.
		real := &browser{e: e.env}
		if r := e.signInWithEntra(real, "/auth/microsoft", who); r.code != http.StatusSeeOther || strings.HasPrefix(r.hdr.Get("Location"), "/login") {
			t.Fatalf("admin sign-in: %d %s", r.code, r.hdr.Get("Location"))
		}
		_ = msID
	})
}

// Plans the catalog does not know yet (issue 14, defect 3) and term units
// (reference §3 plus PAY and values Microsoft adds later).
func withNewPlans(o *azurefake.Options) {
	o.Offers[0].Plans = append(o.Offers[0].Plans,
		azurefake.Plan{PlanID: "team", DisplayName: "Team (per user)", PerSeat: true, MinQuantity: 1, MaxQuantity: 100, Dimensions: []string{"api_calls"}, TermUnit: "P1Y"},
		azurefake.Plan{PlanID: "payg", DisplayName: "Pay as you go", Dimensions: []string{"gb_stored"}, TermUnit: "PAY"},
		azurefake.Plan{PlanID: "p3y", DisplayName: "Three years", TermUnit: "P3Y"},
		azurefake.Plan{PlanID: "future", DisplayName: "Future term", TermUnit: "P18M"},
	)
}

// Reference §4.5 (listAvailablePlans: isPricePerSeat, displayName,
// meteringDimensions) and §4.2 (quantity only on per-seat plans, equal to
// the purchased one): a plan first seen in a purchase is learned from
// Microsoft, marked for review, and activated with the quantity it has.
func TestAzurePlanLearnedFromMicrosoft(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st, withNewPlans)
		// Microsoft does not answer listAvailablePlans: a placeholder, still
		// marked for review; activation takes Microsoft's quantity anyway.
		e.mk.FailNext("plans", 500, `{"error":{"code":"InternalError","message":"try later"}}`)
		p3yID, tok, w := e.buy("p3y", 0)
		e.land(&browser{e: e.env}, tok, w)
		var p3y store.Plan
		st.TestingReadDB(t).Where("plan_id = ?", "p3y").First(&p3y)
		if ms, _ := e.mk.Get(p3yID); !p3y.NeedsReview || p3y.Name != "p3y" || ms.Status != "Subscribed" {
			t.Fatalf("placeholder plan: %+v, Microsoft %s", p3y, ms.Status)
		}

		msID, token, who := e.buy("team", 7)
		b := &browser{e: e.env}
		r := e.land(b, token, who)
		sub := e.ours(msID)
		ms, _ := e.mk.Get(msID)
		if sub.State != "active" || ms.Status != "Subscribed" || sub.Quantity != 7 {
			t.Fatalf("per-seat plan not in the catalog: ours %s/%d, Microsoft %s", sub.State, sub.Quantity, ms.Status)
		}
		p := sub.Plan
		if p == nil || !p.SeatBased || p.Name != "Team (per user)" || !p.NeedsReview || !strings.Contains(p.Dimensions, `"api_calls"`) {
			t.Fatalf("learned plan: %+v", p)
		}
		// The other plans of the offer that the catalog lacked were learned with it.
		var payg store.Plan
		st.TestingReadDB(t).Where("plan_id = ?", "payg").First(&payg)
		if payg.SeatBased || !payg.NeedsReview || !strings.Contains(payg.Dimensions, "gb_stored") {
			t.Fatalf("payg: %+v", payg)
		}
		// The welcome page shows its seats.
		if page := b.get(r.hdr.Get("Location")); page.code != 200 || !strings.Contains(string(page.body), "<dt>Seats</dt><dd>7</dd>") ||
			!strings.Contains(string(page.body), "new to the seller") {
			t.Fatalf("welcome: %d %s", page.code, page.body)
		}
		// Shown to the seller as needing review; saving the plan marks it reviewed.
		e.user("admin@example.com", store.RoleAdmin, nil)
		admin := e.login("admin@example.com")
		var offers struct {
			Items []struct {
				Plans []struct {
					ID          uint   `json:"id"`
					PlanID      string `json:"plan_id"`
					NeedsReview bool   `json:"needs_review"`
				} `json:"plans"`
			} `json:"items"`
		}
		admin.get("/api/offers").json(t, &offers)
		review := map[string]bool{}
		for _, o := range offers.Items {
			for _, pl := range o.Plans {
				review[pl.PlanID] = pl.NeedsReview
			}
		}
		if !review["team"] || review["auto"] {
			t.Fatalf("needs_review in the portal: %v", review)
		}
		if r := admin.do(http.MethodPatch, fmt.Sprintf("/api/plans/%d", p.ID), `{"activation_policy":"automatic"}`, nil); r.code != 200 {
			t.Fatalf("save plan: %d %s", r.code, r.body)
		}
		if got := e.ours(msID).Plan; got.NeedsReview {
			t.Fatal("still needs review after the seller saved it")
		}
		// A flat plan Microsoft does not price per seat is activated without a quantity.
		flat, tok, w := e.buy("payg", 0)
		e.land(&browser{e: e.env}, tok, w)
		if ms, _ := e.mk.Get(flat); ms.Status != "Subscribed" || e.ours(flat).State != "active" {
			t.Fatalf("flat learned plan: Microsoft %s, ours %s", ms.Status, e.ours(flat).State)
		}
	})
}

// Issue 14, defect 4: the term is there right after activation, and after
// a change that succeeded, without waiting for a reconciliation.
// Term units (reference §3 plus 2026's PAY, and any value Microsoft adds)
// are stored and shown as sent, never a failed activation or webhook.
func TestAzureTermAfterActivationAndUnits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st, withNewPlans)
		msID, token, who := e.buy("confirm", 0)
		b := &browser{e: e.env}
		r := e.land(b, token, who)
		f, h := form(e.ours(msID).ID)
		b.do(http.MethodPost, "/marketplace/azure/activate", f, h)
		sub := e.ours(msID)
		ms, _ := e.mk.Get(msID)
		if sub.State != "active" || sub.TermStart == nil || sub.TermEnd == nil || !sameDate(*sub.TermEnd, ms.EndDate) || sub.TermUnit != "P1M" {
			t.Fatalf("term after activation: %v – %v (%s), Microsoft %v", sub.TermStart, sub.TermEnd, sub.TermUnit, ms.EndDate)
		}
		if page := b.get(r.hdr.Get("Location")); !strings.Contains(string(page.body), "1 month, "+ms.StartDate.UTC().Format("2 January 2006")) {
			t.Fatalf("term on the welcome page: %s", page.body)
		}
		for unit, plan := range map[string]string{"PAY": "payg", "P3Y": "p3y", "P18M": "future", "P1Y": "team"} {
			id, tok, w := e.buy(plan, 0)
			r := e.land(&browser{e: e.env}, tok, w)
			if r.code != http.StatusSeeOther {
				t.Fatalf("%s: landing %d %s", unit, r.code, r.body)
			}
			got := e.ours(id)
			if got.State != "active" || got.TermUnit != unit || got.TermEnd == nil {
				t.Fatalf("%s: %s, unit %q, end %v", unit, got.State, got.TermUnit, got.TermEnd)
			}
			e.user("op-"+plan+"@example.com", store.RoleOperator, nil)
			var detail struct {
				Subscription struct {
					TermUnit string `json:"term_unit"`
				} `json:"subscription"`
			}
			e.login("op-"+plan+"@example.com").get(fmt.Sprintf("/api/subscriptions/%d", got.ID)).json(t, &detail)
			if detail.Subscription.TermUnit != unit {
				t.Fatalf("%s in the portal: %q", unit, detail.Subscription.TermUnit)
			}
			// A webhook for it (Renew) is processed, not failed.
			if _, err := e.mk.Renew(id); err != nil {
				t.Fatal(err)
			}
			eventually(t, unit+" renewal processed", func() bool {
				var m store.InboxMessage
				st.TestingReadDB(t).Where("source = ? AND subscription_id = ? AND action = ?", azuremp.SourceNotification, got.ID, "Renew").Limit(1).Find(&m)
				return m.Status == store.InboxProcessed
			})
		}
		// After a customer's seat change succeeds the term is read back too.
		seatsID, tok, w := e.buy("seats", 5)
		e.land(&browser{e: e.env}, tok, w)
		st.TestingDB(t).Model(&store.Subscription{}).Where("azure_subscription_id = ?", seatsID).Updates(map[string]any{"term_start": nil, "term_end": nil})
		if _, err := e.mk.ChangeQuantity(seatsID, 9); err != nil {
			t.Fatal(err)
		}
		e.pollUntil(t, "9 seats with the term", func() bool { s := e.ours(seatsID); return s.Quantity == 9 && s.TermEnd != nil })
	})
}

func sameDate(a, b time.Time) bool {
	return a.UTC().Format("2006-01-02") == b.UTC().Format("2006-01-02")
}

// Issue 14, defect 5: the landing payload is stored as Microsoft sent it
// (camelCase, reference §2: "field names are camelCase and case-sensitive").
func TestAzureLandingPayloadAsMicrosoftSentIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st)
		_, token, who := e.buy("seats", 3)
		e.land(&browser{e: e.env}, token, who)
		var m store.InboxMessage
		st.TestingReadDB(t).Where("source = ?", azuremp.SourceLanding).Order("id DESC").First(&m)
		for _, want := range []string{`"subscriptionName"`, `"saasSubscriptionStatus"`, `"beneficiary"`, `"emailId"`, `"tenantId"`, `"signed_in"`} {
			if !strings.Contains(m.Body, want) {
				t.Fatalf("stored landing payload lacks %s: %s", want, m.Body)
			}
		}
		for _, goName := range []string{`"ID"`, `"Beneficiary"`, `"EmailID"`, `"SubscriptionName"`} {
			if strings.Contains(m.Body, goName) {
				t.Fatalf("stored landing payload has Go field name %s: %s", goName, m.Body)
			}
		}
		e.user("viewer@example.com", store.RoleViewer, nil)
		if r := e.login("viewer@example.com").get(fmt.Sprintf("/api/inbox/%d", m.ID)); r.code != 200 || !strings.Contains(string(r.body), `saasSubscriptionStatus`) {
			t.Fatalf("shown: %d %s", r.code, r.body)
		}
	})
}

// Reference §6.1: Subscribe, "acknowledge, no action: refresh from GET
// subscription" — answered 200, confirmed, processed, nothing broken.
func TestAzureSubscribeWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAzureEnv(t, st, func(o *azurefake.Options) { o.SubscribeWebhook = true })
		msID, token, who := e.buy("auto", 0)
		e.land(&browser{e: e.env}, token, who)
		e.mk.Tick()
		eventually(t, "the Subscribe call processed", func() bool {
			var m store.InboxMessage
			st.TestingReadDB(t).Where("source = ? AND action = ?", azuremp.SourceNotification, "Subscribe").Limit(1).Find(&m)
			return m.ID != 0 && m.Status == store.InboxProcessed && m.AnswerStatus == http.StatusOK
		})
		if s := e.ours(msID); s.State != "active" || e.timeline(s.ID, "azure.activated") != 1 {
			t.Fatalf("after Subscribe: %s, %d activations", s.State, e.timeline(s.ID, "azure.activated"))
		}
	})
}
