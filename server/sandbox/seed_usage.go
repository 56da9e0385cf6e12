package sandbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/server/metering"
	"github.com/marketgate/marketgate/store"
)

// The demo's usage history: so that a newcomer sees usage charts, records
// and their statuses at once, the first active metered subscriptions get
// usage for every hour of the last days, sealed into records settled as
// the marketplaces answer them (AWS accepts every hour, zero included;
// Microsoft is not sent a zero hour). The history stops usageHistoryGap
// before the seed: the recent hours, still inside the marketplaces' window,
// stay open for the usage the sandbox's user (or their app, or the crash
// and replica tests) reports there, billed in its own hour by the real
// meter; usage for a seeded hour counts, late, in the open hour.
const (
	usageSubscriptions = 20 // per marketplace
	usageDays          = 10
	usageHistoryGap    = 8 * time.Hour
)

// seedUsage writes the usage history; it returns how many hours it wrote.
func seedUsage(ctx context.Context, st *store.Store, now time.Time, seed uint64) (int, error) {
	rng := rand.New(rand.NewPCG(seed, 11))
	subs, err := st.Reads(ctx).SubscriptionsInStatesWithPlan([]string{string(lifecycle.Active)})
	if err != nil {
		return 0, err
	}
	last := now.UTC().Truncate(time.Hour).Add(-usageHistoryGap)
	first := last.Add(-usageDays * 24 * time.Hour)
	var hours []store.SealedUsageHour
	var recs []store.MeteringRecord
	n := map[string]int{}
	for i := range subs {
		s := &subs[i]
		dims := metering.MeteredDimensions(s.Plan, s.Offer != nil && s.Offer.Contract)
		if len(dims) == 0 || n[s.Marketplace] == usageSubscriptions {
			continue
		}
		n[s.Marketplace]++
		start := first
		if s.CreatedAt.After(start) {
			start = s.CreatedAt.UTC().Truncate(time.Hour).Add(time.Hour)
		}
		scale := float64(5 + rng.IntN(60))
		for _, d := range dims {
			for h := start; !h.After(last); h = h.Add(time.Hour) {
				q := demoQuantity(rng, h, scale)
				// Every hour with a record is a sealed hour, an idle one too:
				// usage arriving later for it counts, late, in the open hour
				// (a record already holds this one).
				events := 0
				if q > 0 {
					events = 1 + rng.IntN(20)
				}
				hours = append(hours, store.SealedUsageHour{SubscriptionID: s.ID, Dimension: d.Key, Hour: h, Quantity: q, Events: events})
				recs = append(recs, demoRecord(s, d.Key, h, q))
			}
		}
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateSealedUsageHours(hours, now); err != nil {
			return err
		}
		return tx.CreateMeteringRecordsInBatches(recs)
	})
	return len(hours), err
}

// demoQuantity is an hour's usage: busy in the working hours of Tokyo
// (00:00 to 09:00 UTC) on weekdays, quiet at night, idle some hours.
func demoQuantity(rng *rand.Rand, h time.Time, scale float64) float64 {
	busy := h.Hour() < 9 && h.Weekday() != time.Saturday && h.Weekday() != time.Sunday
	switch {
	case busy:
		return float64(int(scale * (0.6 + rng.Float64())))
	case rng.IntN(3) == 0:
		return 0
	default:
		return float64(rng.IntN(int(scale/4) + 2))
	}
}

// demoRecord is an hour's metering record, settled as the marketplace
// answers it.
func demoRecord(s *store.Subscription, dim string, h time.Time, q float64) store.MeteringRecord {
	sent := h.Add(time.Hour + 5*time.Minute)
	r := store.MeteringRecord{SubscriptionID: s.ID, Marketplace: s.Marketplace, Dimension: dim, Hour: h, Quantity: q,
		Status: store.RecordAccepted, Attempts: 1, SentAt: &sent, SettledAt: &sent, AzureSubscriptionID: s.AzureSubscriptionID,
		MarketplaceRecordID: fmt.Sprintf("sandbox-%d-%s-%d", s.ID, dim, h.Unix()), CreatedAt: sent, UpdatedAt: sent}
	if s.Plan != nil {
		r.PlanID = s.Plan.PlanID
	}
	if s.Marketplace == string(lifecycle.AWS) {
		id := awsmp.MeteringIdentityFor(awsmp.OfferModel(s), s)
		r.AWSProductCode, r.AWSCustomerIdentifier = s.AWSProductCode, id.CustomerIdentifier
		r.AWSCustomerAccountID, r.AWSLicenseArn = id.CustomerAWSAccountID, id.LicenseArn
	} else if q == 0 {
		r.Status, r.Reason, r.Attempts, r.SentAt, r.MarketplaceRecordID = store.RecordNotSentZero, "Microsoft does not accept zero: idle hour kept here", 0, nil, ""
	}
	return r
}
