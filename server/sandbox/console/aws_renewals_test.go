package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// TestSandboxRenewalControls walks /sandbox/aws's renewal controls for a
// concurrent-agreements buyer: "advance to 90 days before the end" makes
// the simulated AWS send Purchase Agreement Ending (both variants) and
// moves the agreement's end; "turn auto-renew off (by the buyer)" sends
// Purchase Agreement Amended with autoRenewalEnabled false. The renewals
// row follows, one note each, and the agreement read through the SDK says
// the acceptor opted out (ACCEPTOR_RENEW_OPTED_OUT). A renewal makes a new
// agreement (intent RENEW) whose chain names the first.
func TestSandboxRenewalControls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSandboxEnv(t, st)
		sub := e.buy("ca-contract", "basic_users")
		send := func(action, days string) {
			rec := e.post("/sandbox/aws/notify", url.Values{"subscription": {itoa(sub.ID)}, "action": {action}, "days": {days}}, nil)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("%s: %d %.300s", action, rec.Code, rec.Body.String())
			}
			e.settle()
		}
		send("advance-ending", "90")
		if rec := e.post("/sandbox/aws/notify", url.Values{"subscription": {itoa(sub.ID)}, "action": {"advance-ending"}, "days": {"45"}}, nil); rec.Code != http.StatusBadRequest {
			t.Fatalf("45 days is not one AWS sends: %d", rec.Code)
		}
		send("auto-renew-off", "")
		rows, err := st.Reads(context.Background()).ListRenewals(store.RenewalFilter{})
		if err != nil || len(rows) != 1 {
			t.Fatalf("renewals: %+v %v", rows, err)
		}
		r := rows[0]
		if r.SubscriptionID == nil || *r.SubscriptionID != sub.ID || r.DaysBeforeEnd == nil || *r.DaysBeforeEnd != 90 || r.AutoRenew != "false" || r.TurnedOffBy != "buyer" {
			t.Fatalf("renewal row: %+v", r.AgreementRenewal)
		}
		n := map[string]int{}
		for _, ev := range e.timeline(sub.ID) {
			n[ev.Kind]++
		}
		if n[awsmp.KindAgreementEnding] != 1 || n[awsmp.KindAutoRenewalOff] != 1 {
			t.Fatalf("notes: %v", n)
		}
		got, err := e.proc.SubscriptionAgreement(context.Background(), sub.ID, true)
		if err != nil || got.Agreement == nil {
			t.Fatalf("agreement: %+v %v", got, err)
		}
		ag := got.Agreement
		if ag.Renewal.ReasonCode != "ACCEPTOR_RENEW_OPTED_OUT" || ag.Renewal.TurnedOffBy != "buyer" || ag.EndsAt == nil || !ag.EndsAt.Equal(*r.EndsAt) ||
			len(ag.Dimensions) == 0 || ag.Pricing[0].Kind != "configurable_upfront" || ag.AcceptorAccountID != sub.AWSCustomerAccountID {
			t.Fatalf("agreement read through the SDK: %+v", ag)
		}
		e.act(sub, "renew")
		got, err = e.proc.SubscriptionAgreement(context.Background(), sub.ID, true)
		if err != nil || got.AgreementID == ag.AgreementID || got.Agreement == nil || len(got.Agreement.Related) != 1 || got.Agreement.Related[0].AgreementID != ag.AgreementID ||
			got.Agreement.Related[0].Status != "RENEWED" {
			t.Fatalf("after the renewal: %+v %v", got, err)
		}
	})
}
