// Package seats keeps who holds the seats of per-user subscriptions:
// customer admins assign and release them (one at a time or from a CSV
// file), and the seller's application asks whether a user holds one.
//
// The rules: never more seats assigned than bought unless the plan allows
// over-assignment; when the quantity drops below the seats assigned nobody
// loses a seat silently — the newest seats beyond the quantity are marked
// "over" and the plan's over-quantity policy decides what the seat check
// answers for them until an admin chooses whom to release. An ended
// subscription keeps its seat list (the check answers "not active"), so a
// reinstated or renewed subscription finds its users where they were.
package seats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// Errors a caller shows to people.
var (
	ErrNotSeatBased = errors.New("this plan is not per-user: it has no seats to assign")
	ErrClosed       = errors.New("the subscription has ended: seats can no longer be assigned")
	ErrTaken        = errors.New("this user already holds a seat")
)

// NoFreeSeatError: every seat bought is assigned.
type NoFreeSeatError struct{ Bought, Assigned int }

func (e *NoFreeSeatError) Error() string {
	return fmt.Sprintf("no free seat: %d bought, %d assigned", e.Bought, e.Assigned)
}

// InvalidUserError: the value is neither an e-mail address nor an Entra object id.
type InvalidUserError struct{ Value string }

func (e *InvalidUserError) Error() string {
	return fmt.Sprintf("%q is not an e-mail address or an Entra object id", e.Value)
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// User identifies a seat holder: an e-mail address, an Entra object id, or both.
type User struct {
	Email    string
	ObjectID string
}

func (u User) String() string { return cmp.Or(u.Email, u.ObjectID) }

// ParseUser reads "ann@contoso.com" or an Entra object id (a GUID).
func ParseUser(v string) (User, error) {
	v = strings.TrimSpace(v)
	if guidRE.MatchString(v) {
		return User{ObjectID: strings.ToLower(v)}, nil
	}
	if email, ok := parseEmail(v); ok {
		return User{Email: email}, nil
	}
	return User{}, &InvalidUserError{Value: v}
}

func parseEmail(v string) (string, bool) {
	if len(v) > 320 || strings.ContainsAny(v, " \t<>,;\"") || strings.Count(v, "@") != 1 {
		return "", false
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v {
		return "", false
	}
	at := strings.LastIndexByte(v, '@')
	if at < 1 || !strings.Contains(v[at+1:], ".") || strings.HasSuffix(v, ".") {
		return "", false
	}
	return store.NormalizeEmail(v), true
}

// Service reads and changes seats.
//
// The methods that change the seats of a subscription take the customer
// scope of the person acting: a customer admin's customer id (another
// customer's subscription is then store.ErrNotFound), 0 for the seller's
// staff.
type Service struct {
	Store *store.Store

	hotOnce sync.Once
	hot     *store.Tx                            // reads with cached prepared statements (the seat check)
	cache   *store.GrantCache[orgKey, *orgEntry] // the seat check's (check_cache.go)

	mu        sync.Mutex
	pending   map[uint]struct{} // seats checked, last-checked time not yet written
	flushing  bool
	flushes   sync.WaitGroup // the batch being written off the request
	lastFlush time.Time
}

// reads is the read pool with prepared statements kept for reuse: the
// seat check runs the same few statements at a high rate. They run without
// the request's cancellation: each is a lookup of a few rows by key, and a
// context that can be cancelled costs more than the lookup (database/sql
// watches each statement on a goroutine of its own, and the SQLite driver
// steps each row on another: about 8 µs of a 26 µs lookup).
func (s *Service) reads(ctx context.Context) *store.Tx {
	return s.prepared().WithContext(context.WithoutCancel(ctx))
}

// prepared is the read pool of reads, under no request's context.
func (s *Service) prepared() *store.Tx {
	s.hotOnce.Do(s.init)
	return s.hot
}

// checks is the seat check's cache of organisations.
func (s *Service) checks() *store.GrantCache[orgKey, *orgEntry] {
	s.hotOnce.Do(s.init)
	return s.cache
}

func (s *Service) init() {
	s.hot, s.cache = s.Store.PreparedReads(), newCheckCache()
}

// Summary is what a subscription's seats look like.
type Summary struct {
	SeatBased           bool   `json:"seat_based"`
	Bought              int    `json:"bought"`
	Assigned            int    `json:"assigned"`
	Free                int    `json:"free"`
	Over                int    `json:"over"`
	AllowOverAssignment bool   `json:"allow_over_assignment"`
	OverQuantityPolicy  string `json:"over_quantity_policy"`
	AutoAssign          bool   `json:"auto_assign"`
	Usable              bool   `json:"usable"`
	State               string `json:"state"`
}

// OverPolicy is a plan's over-quantity policy ("" reads as keep_all).
func OverPolicy(p *store.Plan) string {
	if p != nil && p.OverQuantityPolicy == store.OverQuantityNewestUnlicensed {
		return store.OverQuantityNewestUnlicensed
	}
	return store.OverQuantityKeepAll
}

// Usable reports whether a subscription's state lets its users in.
func Usable(state string) bool { return state == "active" || state == "unsubscribe_pending" }

func closed(state string) bool { return state == "ended" || state == "failed" }

func summarize(sub *store.Subscription, assigned int) Summary {
	sm := Summary{State: sub.State, Usable: Usable(sub.State), Assigned: assigned, OverQuantityPolicy: OverPolicy(sub.Plan)}
	if sub.Plan == nil || !sub.Plan.SeatBased {
		return sm
	}
	sm.SeatBased, sm.Bought = true, sub.Quantity
	sm.AllowOverAssignment, sm.AutoAssign = sub.Plan.AllowOverAssignment, sub.Plan.AutoAssignSeats
	sm.Free = max(sm.Bought-assigned, 0)
	sm.Over = max(assigned-sm.Bought, 0)
	return sm
}

// Summary returns the seats summary of a subscription.
func (s *Service) Summary(ctx context.Context, sub *store.Subscription) (Summary, error) {
	n, err := s.Store.Reads(ctx).CountSeats(sub.ID)
	return summarize(sub, n), err
}

// Item is a seat as listed: Over marks the seats beyond the quantity.
type Item struct {
	store.Seat
	Over bool `json:"over"`
}

// overIDs returns the ids of the seats beyond the quantity: the newest ones.
func overIDs(tx *store.Tx, subID uint, over int) (map[uint]bool, error) {
	out := map[uint]bool{}
	if over <= 0 {
		return out, nil
	}
	ids, err := tx.NewestSeatIDs(subID, over)
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// List returns a page of a subscription's seats, oldest first, matching q
// (part of the e-mail, name or object id).
func (s *Service) List(ctx context.Context, sub *store.Subscription, q string, limit, offset int) ([]Item, int, Summary, error) {
	db := s.Store.Reads(ctx)
	n, err := db.CountSeats(sub.ID)
	if err != nil {
		return nil, 0, Summary{}, err
	}
	sm := summarize(sub, n)
	rows, total, err := db.ListSeats(sub.ID, strings.ToLower(strings.TrimSpace(q)), limit, offset)
	if err != nil {
		return nil, 0, sm, err
	}
	over, err := overIDs(db, sub.ID, sm.Over)
	if err != nil {
		return nil, 0, sm, err
	}
	items := make([]Item, len(rows))
	for i, r := range rows {
		items[i] = Item{Seat: r, Over: over[r.ID]}
	}
	return items, total, sm, nil
}

// All returns every seat of a subscription, oldest first (for export).
func (s *Service) All(ctx context.Context, sub *store.Subscription) ([]Item, error) {
	items, _, _, err := s.List(ctx, sub, "", 1<<30, 0)
	return items, err
}

// findSeat looks a user up among the seats of the given subscriptions.
func findSeat(tx *store.Tx, subIDs []uint, u User) (*store.Seat, error) {
	return tx.FindSeat(subIDs, u.Email, u.ObjectID)
}

// assign adds a seat inside a transaction that holds the subscription.
func assign(tx *store.Tx, now time.Time, sub *store.Subscription, u User, name, source, actor string) (*store.Seat, error) {
	if sub.Plan == nil || !sub.Plan.SeatBased {
		return nil, ErrNotSeatBased
	}
	if closed(sub.State) {
		return nil, ErrClosed
	}
	if have, err := findSeat(tx, []uint{sub.ID}, u); err != nil {
		return nil, err
	} else if have != nil {
		return have, ErrTaken
	}
	n, err := tx.CountSeats(sub.ID)
	if err != nil {
		return nil, err
	}
	if n >= sub.Quantity && !sub.Plan.AllowOverAssignment {
		return nil, &NoFreeSeatError{Bought: sub.Quantity, Assigned: n}
	}
	seat := &store.Seat{SubscriptionID: sub.ID, CustomerID: sub.CustomerID, Email: u.Email, EntraObjectID: u.ObjectID,
		Name: strings.TrimSpace(name), Source: source, AssignedBy: actor, AssignedAt: now}
	if err := tx.CreateSeat(seat); err != nil {
		if store.IsUniqueViolation(err) {
			return nil, ErrTaken
		}
		return nil, err
	}
	if err := emitSeats(tx, now, sub.ID, webhooks.SeatAssigned, []store.Seat{*seat}); err != nil {
		return nil, err
	}
	return seat, nil
}

// emitSeats tells the seller's systems about seats assigned or released
// (one event a seat).
func emitSeats(tx *store.Tx, now time.Time, subID uint, typ string, seats []store.Seat) error {
	if len(seats) == 0 {
		return nil
	}
	extras := make([]map[string]any, len(seats))
	for i := range seats {
		extras[i] = map[string]any{"seat": seats[i]}
	}
	return webhooks.EmitSubscription(tx, now, subID, now, []string{typ}, extras...)
}

// Assign gives a user a seat of a subscription of customerID (0: any).
func (s *Service) Assign(ctx context.Context, customerID, subID uint, u User, name, actor string) (*store.Seat, Summary, error) {
	var seat *store.Seat
	var sm Summary
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		sub, err := tx.SeatSubscription(subID, customerID, true)
		if err != nil {
			return err
		}
		if seat, err = assign(tx, s.Store.Now(), sub, u, name, store.SeatManual, actor); err != nil {
			return err
		}
		n, err := tx.CountSeats(sub.ID)
		sm = summarize(sub, n)
		return err
	})
	return seat, sm, err
}

// Release removes seats (ids of this subscription of customerID only; 0:
// any customer) and returns how many were removed.
func (s *Service) Release(ctx context.Context, customerID, subID uint, ids []uint) (int, Summary, error) {
	var released int
	var sm Summary
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		sub, err := tx.SeatSubscription(subID, customerID, true)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			gone, err := tx.SeatsByID(subID, ids)
			if err != nil {
				return err
			}
			if released, err = tx.DeleteSeats(subID, ids); err != nil {
				return err
			}
			if err := emitSeats(tx, s.Store.Now(), subID, webhooks.SeatReleased, gone); err != nil {
				return err
			}
		}
		n, err := tx.CountSeats(sub.ID)
		sm = summarize(sub, n)
		return err
	})
	return released, sm, err
}
