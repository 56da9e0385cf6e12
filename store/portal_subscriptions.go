package store

import (
	"context"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// The queries behind the portal's subscription pages and dashboard. A
// customerID parameter is a customer admin's scope: non-zero, it confines
// the query to that customer's rows (another customer's subscription does
// not exist for them); 0 is seller staff, who see everything.

// ScopedSubscription returns one subscription with its customer, offer and
// plan; with customerID non-zero, only when it belongs to that customer
// (ErrNotFound otherwise).
func (s *Store) ScopedSubscription(ctx context.Context, id, customerID uint) (*Subscription, error) {
	q := s.Reads(ctx).db.Preload("Customer").Preload("Offer").Preload("Plan")
	if customerID != 0 {
		q = q.Where("customer_id = ?", customerID)
	}
	var sub Subscription
	if err := q.First(&sub, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &sub, nil
}

// SubscriptionEntitlements lists a subscription's entitlements by dimension.
func (s *Store) SubscriptionEntitlements(ctx context.Context, subID uint) ([]Entitlement, error) {
	var ents []Entitlement
	err := s.Reads(ctx).db.Where("subscription_id = ?", subID).Order("dimension, id").Find(&ents).Error
	return ents, err
}

// SubscriptionAgreements lists a subscription's AWS agreements, oldest first.
func (s *Store) SubscriptionAgreements(ctx context.Context, subID uint) ([]AWSAgreement, error) {
	var ags []AWSAgreement
	err := s.Reads(ctx).db.Where("subscription_id = ?", subID).Order("created_at, id").Find(&ags).Error
	return ags, err
}

// SubscriptionOperations lists a subscription's latest Microsoft
// operations, newest first, at most limit.
func (s *Store) SubscriptionOperations(ctx context.Context, subID uint, limit int) ([]AzureOperation, error) {
	var ops []AzureOperation
	err := s.Reads(ctx).db.Where("subscription_id = ?", subID).Order("created_at DESC, id DESC").Limit(limit).Find(&ops).Error
	return ops, err
}

// SubscriptionAudit lists the audit log's entries about a subscription,
// oldest first, at most limit.
func (s *Store) SubscriptionAudit(ctx context.Context, subID uint, limit int) ([]AuditEntry, error) {
	var rows []AuditEntry
	err := s.Reads(ctx).db.Where("target_type = ? AND target_id = ?", "subscription", strconv.FormatUint(uint64(subID), 10)).
		Order("at, id").Limit(limit).Find(&rows).Error
	return rows, err
}

// SubscriptionMessages lists the inbound messages stored for a
// subscription, newest first, with their bodies, at most limit.
func (s *Store) SubscriptionMessages(ctx context.Context, subID uint, limit int) ([]InboxMessage, error) {
	var msgs []InboxMessage
	err := s.Reads(ctx).db.Where("subscription_id = ?", subID).Order("received_at DESC, id DESC").Limit(limit).Find(&msgs).Error
	return msgs, err
}

// AccessCandidates finds the subscriptions (with customer, offer and plan)
// that one identity of a customer names, for the seller's access check:
// an AWS account id, customer identifier or license ARN, a Microsoft
// subscription or tenant id, or (a number) a Marketgate customer id. An AWS
// account id also finds the subscriptions of the customer it belongs to: a
// legacy buyer's account id may be known only from the registration, which
// stores it on the customer (SNS messages carry no account id). Oldest
// first, at most 100.
func (s *Store) AccessCandidates(ctx context.Context, customer string) ([]Subscription, error) {
	one := []string{customer}
	q := referenceIDsSQL
	args := []any{one, one, one, one, one, one}
	if id, err := strconv.ParseUint(customer, 10, 32); err == nil && len(customer) < 12 {
		q += "\nUNION SELECT id FROM subscriptions WHERE customer_id = ?"
		args = append(args, id)
	}
	r := s.Reads(ctx)
	var ids []uint
	if err := r.db.Raw("SELECT id FROM ("+q+") refs ORDER BY id LIMIT 100", args...).Scan(&ids).Error; err != nil {
		return nil, err
	}
	return r.subscriptionsByReference(ids)
}

// subscriptionsByReference reads the subscriptions a reference lookup
// found (referenceIDsSQL), in id order (it sorts ids), with their
// customer, offer and plan.
func (t *Tx) subscriptionsByReference(ids []uint) ([]Subscription, error) {
	slices.Sort(ids)
	var subs []Subscription
	for at := 0; at < len(ids); at += 500 {
		var got []Subscription
		if err := t.db.Preload("Customer").Preload("Offer").Preload("Plan").Where("id IN ?", ids[at:min(at+500, len(ids))]).
			Order("id").Find(&got).Error; err != nil {
			return nil, err
		}
		subs = append(subs, got...)
	}
	return subs, nil
}

// referenceIDsSQL finds the ids of the subscriptions that a list of
// marketplace references names (six list arguments, the same list each
// time): by AWS account id, customer identifier or license ARN, Microsoft
// subscription or tenant id, and the subscriptions of the customer
// registered with an AWS account id. Each column is read by its own index
// in its own arm: one condition ORing them is a scan of every
// subscription (on Postgres an ORed subquery cannot join a BitmapOr, and
// SQLite's statistics, with the empty string in most rows of these
// columns, make the scan look cheaper: 37 ms an access check and 51-87 ms
// a usage lookup at 100,000 subscriptions). Each arm's "not empty" term
// lets both databases use the partial indexes of the rows that hold a
// reference.
const referenceIDsSQL = `SELECT id FROM subscriptions WHERE aws_customer_account_id IN ? AND aws_customer_account_id <> ''
UNION SELECT id FROM subscriptions WHERE aws_customer_identifier IN ? AND aws_customer_identifier <> ''
UNION SELECT id FROM subscriptions WHERE aws_license_arn IN ? AND aws_license_arn <> ''
UNION SELECT id FROM subscriptions WHERE azure_subscription_id IN ? AND azure_subscription_id <> ''
UNION SELECT id FROM subscriptions WHERE azure_tenant_id IN ? AND azure_tenant_id <> ''
UNION SELECT s.id FROM customers c JOIN subscriptions s ON s.customer_id = c.id WHERE c.aws_account_id IN ? AND c.aws_account_id <> ''`

// DimensionEntitlements lists a subscription's entitlements of one
// dimension (AWS may list an expired grant beside the current one).
func (s *Store) DimensionEntitlements(ctx context.Context, subID uint, dimension string) ([]Entitlement, error) {
	var grants []Entitlement
	err := s.Reads(ctx).db.Where("subscription_id = ? AND dimension = ?", subID, dimension).Order("id").Find(&grants).Error
	return grants, err
}

// DayCount is the number of things that happened on one day (UTC, YYYY-MM-DD).
type DayCount struct {
	Day   string
	Count int64
}

// RecentEvent is a timeline entry on the dashboard.
type RecentEvent struct {
	ID             uint
	SubscriptionID uint
	At             time.Time
	Kind           string
	Summary        string
	ToState        string
}

// DashboardFigures are the dashboard's figures beyond the state counts.
type DashboardFigures struct {
	SeatsSold     int64      // the quantities of live per-user subscriptions
	SeatsAssigned int64      // the seats assigned on them
	Created       []DayCount // subscriptions created per day, from since, one entry a day
	Ended         []DayCount // subscriptions ended per day, likewise
	Recent        []RecentEvent
	InboxFailed   int64 // failed inbound messages (seller staff only: 0 with a scope)
}

// liveStates are the states in which a subscription's seats count.
var liveStates = []string{"active", "unsubscribe_pending"}

// Dashboard counts seats sold and assigned, subscriptions created and
// ended per day over days days from since, and reads the latest ten
// events; with customerID non-zero, of that customer's subscriptions only
// (and without the inbox's failures, which are the seller's).
func (s *Store) Dashboard(ctx context.Context, customerID uint, since time.Time, days int) (DashboardFigures, error) {
	var out DashboardFigures
	db := s.Reads(ctx).db
	subs := func() *gorm.DB {
		q := db.Table("subscriptions s")
		if customerID != 0 {
			q = q.Where("s.customer_id = ?", customerID)
		}
		return q
	}
	var sold struct{ N int64 }
	if err := subs().Select("COALESCE(SUM(s.quantity), 0) AS n").Joins("JOIN plans p ON p.id = s.plan_id").
		Where("p.seat_based AND s.state IN ?", liveStates).Scan(&sold).Error; err != nil {
		return out, err
	}
	out.SeatsSold = sold.N
	aq := db.Table("seats x").Joins("JOIN subscriptions s ON s.id = x.subscription_id").Joins("JOIN plans p ON p.id = s.plan_id").
		Where("p.seat_based AND s.state IN ?", liveStates)
	if customerID != 0 {
		aq = aq.Where("s.customer_id = ?", customerID)
	}
	if err := aq.Count(&out.SeatsAssigned).Error; err != nil {
		return out, err
	}
	perDay := func(col, state string) ([]DayCount, error) {
		var times []time.Time
		q := subs().Where("s."+col+" >= ?", since)
		if state != "" {
			q = q.Where("s.state = ?", state)
		}
		if err := q.Pluck("s."+col, &times).Error; err != nil {
			return nil, err
		}
		counts := map[string]int64{}
		for _, t := range times {
			counts[t.UTC().Format("2006-01-02")]++
		}
		days := make([]DayCount, days)
		for i := range days {
			d := since.AddDate(0, 0, i).Format("2006-01-02")
			days[i] = DayCount{d, counts[d]}
		}
		return days, nil
	}
	var err error
	if out.Created, err = perDay("created_at", ""); err != nil {
		return out, err
	}
	if out.Ended, err = perDay("state_changed_at", "ended"); err != nil {
		return out, err
	}
	rq := db.Table("timeline_events t").Select("t.id, t.subscription_id, t.at, t.kind, t.summary, t.to_state").Order("t.at DESC, t.id DESC").Limit(10)
	if customerID != 0 {
		rq = rq.Joins("JOIN subscriptions s ON s.id = t.subscription_id").Where("s.customer_id = ?", customerID)
	}
	if err := rq.Scan(&out.Recent).Error; err != nil {
		return out, err
	}
	if customerID == 0 {
		if err := db.Model(&InboxMessage{}).Where("status = ?", InboxFailed).Count(&out.InboxFailed).Error; err != nil {
			return out, err
		}
	}
	return out, nil
}
