package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/marketgate/marketgate/server/azuremp"
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
	e.st.R.Model(&store.TimelineEvent{}).Where("subscription_id = ?", id).Count(&n)
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
		st.R.Model(&store.InboxMessage{}).Where("source = ? AND body LIKE ?", azuremp.SourceWebhook, "%"+opID+"%").Count(&rows)
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
			st.R.Model(&store.InboxMessage{}).Where("source = ? AND error LIKE ?", azuremp.SourceWebhook, "rejected_unverified%").Count(&n)
			return n == 2
		})
		var linked int64
		st.R.Model(&store.InboxMessage{}).Where("source = ? AND subscription_id IS NOT NULL AND error LIKE ?", azuremp.SourceWebhook, "rejected_unverified%").Count(&linked)
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
	st.R.Where("subscription_id = ?", id).Order("id DESC").Limit(1).Find(&ev)
	return ev.Summary
}
