package awsmp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/store"
	"github.com/marketgate/marketgate/store/storetest"
)

// renewalEvent is an agreement event as §6.5 shows it, with the renewal
// fields: daysBeforeEndTime, endTime, autoRenewalEnabled (nil: not said)
// and any renewalSummary.
func renewalEvent(id, detailType string, at time.Time, days int, end time.Time, auto any, summary map[string]any) string {
	ag := map[string]any{"id": "agmt-r", "status": "ACTIVE", "endTime": end.Format(time.RFC3339)}
	if days > 0 {
		ag["daysBeforeEndTime"] = days
	}
	if auto != nil {
		ag["autoRenewalEnabled"] = auto
	}
	d := map[string]any{"agreement": ag, "acceptor": map[string]any{"accountId": "111122223333"}, "product": map[string]any{"code": "prod-ca"}}
	if summary != nil {
		d["renewalSummary"] = summary
	}
	return event(id, detailType, at, d)
}

// TestRenewalsFromAgreementEvents: Purchase Agreement Ending ("Sent 180,
// 120, 90, 60, and 30 days before a purchase agreement expires"), Amended
// (autoRenewalEnabled), Renewal Upcoming (renewalSummary.lockoutStartTime,
// "the last day you can turn auto-renewal off (or back on)") and Renewal
// Terms Finalized feed the agreement's renewal row. Turning auto-renewal
// off (autoRenewalEnabled "reflects only the acceptor's preference": the
// buyer) is one note, one alert and one agreement.auto_renewal_off webhook
// event, though AWS sends the Manufacturer and the Proposer variant and a
// message is redelivered.
func TestRenewalsFromAgreementEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		st.TestingDB(t).Create(&store.Offer{Marketplace: "aws", Name: "CA", MarketplaceID: "prod-ca", IdentityModel: "concurrent_agreements", CreatedAt: now, UpdatedAt: now})
		p := processor(st)
		at := now.Add(-time.Hour)
		end := at.AddDate(0, 0, 90).Truncate(time.Second)
		drain(t, p, event("l-r", "License Updated - Manufacturer", at.Add(-time.Hour), caLicense("111122223333", "r", "agmt-r", "prod-ca")))
		var link store.AWSAgreement
		st.TestingReadDB(t).Where("agreement_id = ?", "agmt-r").First(&link)
		if link.SubscriptionID == nil {
			t.Fatal("agmt-r not linked")
		}
		subID := *link.SubscriptionID
		amended := renewalEvent("am-m", "Purchase Agreement Amended - Manufacturer", at.Add(2*time.Minute), 0, end, false, nil)
		drain(t, p,
			renewalEvent("end-m", "Purchase Agreement Ending - Manufacturer", at, 90, end, true, nil),
			renewalEvent("end-p", "Purchase Agreement Ending - Proposer", at, 90, end, true, nil),
			amended,
			renewalEvent("am-p", "Purchase Agreement Amended - Proposer", at.Add(2*time.Minute), 0, end, false, nil),
			amended, // redelivered
			renewalEvent("up-m", "Purchase Agreement Renewal Upcoming - Manufacturer", at.Add(3*time.Minute), 0, end, nil,
				map[string]any{"lockoutStartTime": end.AddDate(0, 0, -7).Format(time.RFC3339), "lockoutReached": false}),
			renewalEvent("tf-m", "Purchase Agreement Renewal Terms Finalized - Manufacturer", at.Add(4*time.Minute), 0, end, nil, nil),
			renewalEvent("tf-p", "Purchase Agreement Renewal Terms Finalized - Proposer", at.Add(4*time.Minute), 0, end, nil, nil))

		rows, err := st.Reads(ctx).ListRenewals(store.RenewalFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("%d renewal rows, want 1", len(rows))
		}
		r := rows[0]
		if r.SubscriptionID == nil || *r.SubscriptionID != subID || r.EndsAt == nil || !r.EndsAt.Equal(end) || r.DaysBeforeEnd == nil || *r.DaysBeforeEnd != 90 ||
			r.AutoRenew != "false" || r.TurnedOffBy != "buyer" || r.TurnedOffAt == nil || r.LockoutAt == nil || !r.LockoutAt.Equal(end.AddDate(0, 0, -7)) ||
			r.TermsFinalizedAt == nil || r.RenewalUpcomingAt == nil || r.EndingAt == nil {
			t.Fatalf("renewal row: %+v", r.AgreementRenewal)
		}
		count := func(model any, where string, args ...any) int64 {
			var n int64
			st.TestingReadDB(t).Model(model).Where(where, args...).Count(&n)
			return n
		}
		for kind, want := range map[string]int64{awsmp.KindAgreementEnding: 1, awsmp.KindAutoRenewalOff: 1, awsmp.KindRenewalTerms: 1, awsmp.KindRenewalUpcoming: 1} {
			if n := count(&store.TimelineEvent{}, "subscription_id = ? AND kind = ?", subID, kind); n != want {
				t.Errorf("%d %s notes, want %d", n, kind, want)
			}
		}
		for typ, want := range map[string]int64{"agreement.ending": 1, "agreement.auto_renewal_off": 1, "agreement.renewal_terms_finalized": 1, "agreement.renewal_upcoming": 1} {
			if n := count(&store.Event{}, "subscription_id = ? AND type = ?", subID, typ); n != want {
				t.Errorf("%d %s webhook events, want %d", n, typ, want)
			}
		}
		var off store.Event
		st.TestingReadDB(t).Where("type = ?", "agreement.auto_renewal_off").First(&off)
		if !strings.Contains(off.Data, `"turned_off_by":"buyer"`) {
			t.Fatalf("webhook data: %s", off.Data)
		}
		svc := &alerts.Service{Store: st, Log: p.Log}
		if err := svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		var a store.Alert
		st.TestingReadDB(t).Where("type = ?", alerts.AutoRenewalOff).First(&a)
		if a.ID == 0 || a.Count != 1 || !strings.Contains(a.Detail, "turned off by the buyer") {
			t.Fatalf("alert: %+v", a)
		}
		// An older Ending arriving late (60 days is newer, so 90 then 60 is
		// the order; a late 120 changes nothing).
		drain(t, p, renewalEvent("end-60", "Purchase Agreement Ending - Manufacturer", at.Add(5*time.Minute), 60, end, false, nil),
			renewalEvent("end-120", "Purchase Agreement Ending - Manufacturer", at.Add(-time.Hour), 120, end, true, nil))
		rows, _ = st.Reads(ctx).ListRenewals(store.RenewalFilter{})
		if *rows[0].DaysBeforeEnd != 60 || rows[0].AutoRenew != "false" {
			t.Fatalf("late event overwrote the newer: %+v", rows[0].AgreementRenewal)
		}
		// Turned on again, the buyer no longer stands as having turned it off.
		drain(t, p, renewalEvent("am-on", "Purchase Agreement Amended - Manufacturer", at.Add(6*time.Minute), 0, end, true, nil))
		rows, _ = st.Reads(ctx).ListRenewals(store.RenewalFilter{AutoRenewOff: true})
		if len(rows) != 0 {
			t.Fatalf("auto-renewal back on still listed as off: %+v", rows)
		}
		// The window filter: ends within [from, to).
		from, to := end.Add(-time.Hour), end.Add(time.Hour)
		if rows, _ := st.Reads(ctx).ListRenewals(store.RenewalFilter{From: &from, To: &to}); len(rows) != 1 {
			t.Fatalf("within the window: %d", len(rows))
		}
		if rows, _ := st.Reads(ctx).ListRenewals(store.RenewalFilter{To: &from}); len(rows) != 0 {
			t.Fatalf("before the window: %d", len(rows))
		}
	})
}
