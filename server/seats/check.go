package seats

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/marketgate/marketgate/store"
)

// Reasons the seat check gives (stable: the seller's app may branch on them).
const (
	ReasonAssigned       = "seat_assigned"
	ReasonAutoAssigned   = "seat_auto_assigned"
	ReasonNoSeat         = "no_seat"
	ReasonNoFreeSeat     = "no_free_seat"
	ReasonOverQuantity   = "seat_over_quantity"
	ReasonNotActive      = "subscription_not_active"
	ReasonUnknown        = "unknown_customer"
	ReasonNoSeatBasedSub = "no_seat_based_subscription"
)

// Query asks whether a user of an organisation holds a seat. The
// organisation is named by exactly one of CustomerID, TenantID (Entra) or
// AWSAccountID; Offer (a marketplace offer id or AWS product code)
// narrows it to one product.
type Query struct {
	CustomerID   uint
	TenantID     string
	AWSAccountID string
	User         User
	Offer        string
}

// CheckedSubscription is the subscription an answer is about.
type CheckedSubscription struct {
	ID            uint   `json:"id"`
	Marketplace   string `json:"marketplace"`
	State         string `json:"state"`
	Offer         string `json:"offer"`
	Plan          string `json:"plan"`
	SeatsBought   int    `json:"seats_bought"`
	SeatsAssigned int    `json:"seats_assigned"`

	// What the tenant's admin consent is read from (not in the answer).
	OfferRef      uint   `json:"-"`
	AzureTenantID string `json:"-"`
}

// Answer is the seat check's answer.
type Answer struct {
	Licensed     bool                 `json:"licensed"`
	Reason       string               `json:"reason"`
	Message      string               `json:"message"`
	Subscription *CheckedSubscription `json:"subscription"`
	Seat         *store.Seat          `json:"seat"`
}

// candidate is a per-user subscription of the organisation.
type candidate = store.SeatCandidate

func view(c *candidate, assigned int) *CheckedSubscription {
	return &CheckedSubscription{ID: c.ID, Marketplace: c.Marketplace, State: c.State, Offer: c.OfferID, Plan: c.PlanID,
		SeatsBought: c.Quantity, SeatsAssigned: assigned, OfferRef: c.OfferRef, AzureTenantID: c.TenantID}
}

// checkTouchEvery bounds how often a check writes a seat's last-checked
// time (the check is a read; most answers write nothing).
const checkTouchEvery = time.Hour

// Check answers whether the user holds a seat, handing out a free one
// first when the plan auto-assigns. What it reads of the organisation's
// subscriptions is cached (see CheckCacheTTL); the seat never is.
func (s *Service) Check(ctx context.Context, q Query) (*Answer, error) {
	org := store.SeatOrganisation{CustomerID: q.CustomerID, TenantID: q.TenantID, AWSAccountID: q.AWSAccountID}
	key := orgKey{org: org, offer: q.Offer}
	gen, now := s.Store.GrantGeneration(), s.Store.Now()
	if e, ok := s.checks().Get(key, gen, now); ok {
		return s.checkCached(ctx, e, q.User)
	}
	db := s.reads(ctx)
	cands, err := db.SeatCandidates(org, q.Offer)
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		return noCandidate(db, org, q.Offer)
	}
	sortCandidates(cands)
	e := newOrgEntry(cands)
	seat, assigned, err := db.FindSeatCounted(e.ids, q.User.Email, q.User.ObjectID)
	if err != nil {
		return nil, err
	}
	if seat != nil {
		e.setCount(seat.SubscriptionID, assigned)
	}
	s.checks().Put(key, e, gen, now)
	if seat != nil {
		return s.held(ctx, e.byID[seat.SubscriptionID], seat, assigned)
	}
	return s.unseated(ctx, e, q.User)
}

// checkCached answers from the organisation's cached subscriptions: only
// the seat is read (with the count when it is not kept yet). The seat is
// read through the prepared reads as they are: FindSeat's statement would
// take nothing of ctx (reads drops its cancellation), and a session for it
// is a third of what the check allocates. What is read less often (a
// count, a seat's rank) is read under ctx.
func (s *Service) checkCached(ctx context.Context, e *orgEntry, u User) (*Answer, error) {
	seat, err := s.prepared().FindSeat(e.ids, u.Email, u.ObjectID)
	if err != nil {
		return nil, err
	}
	if seat == nil {
		return s.unseated(ctx, e, u)
	}
	n, err := s.seatCount(ctx, e, seat.SubscriptionID)
	if err != nil {
		return nil, err
	}
	return s.held(ctx, e.byID[seat.SubscriptionID], seat, n)
}

// seatCount is the number of seats assigned on a subscription of the
// organisation: as kept in its entry, else read (and kept).
func (s *Service) seatCount(ctx context.Context, e *orgEntry, id uint) (int, error) {
	if n, ok := e.count(id); ok {
		return n, nil
	}
	n, err := s.reads(ctx).CountSeats(id)
	if err == nil {
		e.setCount(id, n)
	}
	return n, err
}

// noCandidate answers for an organisation without a per-user subscription
// (of the offer): unknown, or known without one.
func noCandidate(db *store.Tx, org store.SeatOrganisation, offer string) (*Answer, error) {
	known, err := db.OrganisationKnown(org)
	if err != nil {
		return nil, err
	}
	if !known {
		return &Answer{Reason: ReasonUnknown, Message: "This organisation has no subscription: it can subscribe in the marketplace."}, nil
	}
	msg := "This organisation has no per-user subscription"
	if offer != "" {
		msg += " of " + offer
	}
	return &Answer{Reason: ReasonNoSeatBasedSub, Message: msg + "."}, nil
}

// sortCandidates puts usable subscriptions first, then the newest.
func sortCandidates(cands []candidate) {
	sort.SliceStable(cands, func(i, j int) bool {
		ui, uj := Usable(cands[i].State), Usable(cands[j].State)
		if ui != uj {
			return ui
		}
		return cands[i].CreatedAt.After(cands[j].CreatedAt)
	})
}

// unseated answers for a user who holds no seat of the organisation's
// (sorted) candidates: a free seat of an auto-assigning one, else why not.
// The candidates are the cached entry's: read, never written.
func (s *Service) unseated(ctx context.Context, e *orgEntry, u User) (*Answer, error) {
	cands := e.cands
	c := &cands[0]
	if !Usable(c.State) {
		n, err := s.seatCount(ctx, e, c.ID)
		if err != nil {
			return nil, err
		}
		return &Answer{Reason: ReasonNotActive, Subscription: view(c, n),
			Message: fmt.Sprintf("The subscription is %s: nobody may use the product.", c.State)}, nil
	}
	for i := range cands {
		if c := &cands[i]; c.Auto && Usable(c.State) {
			a, err := s.autoAssign(ctx, c, u)
			if err == nil || !isNoFreeSeat(err) {
				return a, err
			}
		}
	}
	n, err := s.seatCount(ctx, e, c.ID)
	if err != nil {
		return nil, err
	}
	if c.Auto {
		return &Answer{Reason: ReasonNoFreeSeat, Subscription: view(c, n),
			Message: fmt.Sprintf("Every seat is taken (%d bought, %d assigned): a customer admin can release one or buy more.", c.Quantity, n)}, nil
	}
	return &Answer{Reason: ReasonNoSeat, Subscription: view(c, n),
		Message: "This user holds no seat: a customer admin of the organisation can assign one."}, nil
}

func isNoFreeSeat(err error) bool {
	var nf *NoFreeSeatError
	return errors.As(err, &nf)
}

// held answers for a user who holds a seat of c (the cached entry's: read,
// never written).
func (s *Service) held(ctx context.Context, c *candidate, seat *store.Seat, n int) (*Answer, error) {
	a := &Answer{Subscription: view(c, n), Seat: seat}
	if !Usable(c.State) {
		a.Reason, a.Message = ReasonNotActive, fmt.Sprintf("The subscription is %s: nobody may use the product.", c.State)
		return a, nil
	}
	if n > c.Quantity && c.Policy == store.OverQuantityNewestUnlicensed {
		before, err := s.reads(ctx).SeatRank(seat)
		if err != nil {
			return nil, err
		}
		if before > c.Quantity {
			a.Reason = ReasonOverQuantity
			a.Message = fmt.Sprintf("The organisation has %d seats assigned but %d bought; this seat is one of the newest beyond the quantity. A customer admin chooses whom to release, or buys more.", n, c.Quantity)
			return a, nil
		}
	}
	a.Licensed, a.Reason, a.Message = true, ReasonAssigned, "This user holds a seat."
	s.touch(ctx, seat)
	return a, nil
}

// touch records when a seat was last checked, at most once an hour per
// seat. The writes are batched off the request: the check stays a read, and
// the single SQLite writer sees one statement per few thousand seats, or
// every touchEvery. Each commit makes every read connection drop its page
// cache (SQLite in WAL mode), so fewer, larger batches keep the checks'
// reads cached: a wave of first checks (each user's first of the hour)
// answered 20-25 % more checks a second, with 20-24 % less CPU a check,
// with 5,000 seats or 10 s a batch than with 500 or 2 s (four runs side by
// side). A graceful stop writes what is queued (FlushTouches); a crash
// loses at most touchEvery of these informational times.
func (s *Service) touch(_ context.Context, seat *store.Seat) {
	now := s.Store.Now()
	if seat.LastCheckedAt != nil && now.Sub(*seat.LastCheckedAt) < checkTouchEvery {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[uint]struct{}{}
	}
	s.pending[seat.ID] = struct{}{}
	if s.flushing || (len(s.pending) < touchBatch && now.Sub(s.lastFlush) < touchEvery) {
		return
	}
	batch := make([]uint, 0, len(s.pending))
	for id := range s.pending {
		batch = append(batch, id)
	}
	s.pending, s.flushing, s.lastFlush = nil, true, now
	s.flushes.Add(1)
	go func() {
		defer s.flushes.Done()
		defer func() {
			s.mu.Lock()
			s.flushing = false
			s.mu.Unlock()
		}()
		s.writeTouches(batch, now)
	}()
}

const (
	touchBatch = 5000
	touchEvery = 10 * time.Second
)

// writeTouches writes the last-checked times of ids, touchBatch a
// statement.
func (s *Service) writeTouches(ids []uint, at time.Time) {
	for len(ids) > 0 {
		n := min(len(ids), touchBatch)
		_ = s.Store.TouchSeats(context.Background(), ids[:n], at, at.Add(-checkTouchEvery))
		ids = ids[n:]
	}
}

// FlushTouches writes the pending last-checked times now, after the batch
// being written (if any): run it when the server has stopped answering
// checks, before the database closes.
func (s *Service) FlushTouches() {
	s.flushes.Wait()
	s.mu.Lock()
	batch := make([]uint, 0, len(s.pending))
	for id := range s.pending {
		batch = append(batch, id)
	}
	s.pending = nil
	s.mu.Unlock()
	if len(batch) > 0 {
		s.writeTouches(batch, s.Store.Now())
	}
}

// autoAssign hands a free seat to a user on first check (first come,
// first served): the transaction holds the subscription, so two checks
// never take the last seat twice.
func (s *Service) autoAssign(ctx context.Context, c *candidate, u User) (*Answer, error) {
	var a *Answer
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		sub, err := tx.SeatSubscription(c.ID, 0, true)
		if err != nil {
			return err
		}
		if !Usable(sub.State) {
			return &NoFreeSeatError{Bought: sub.Quantity}
		}
		now := s.Store.Now()
		seat, err := assign(tx, now, sub, u, "", store.SeatAuto, "seat check")
		if errors.Is(err, ErrTaken) {
			// Another check of the same user got there first.
			n, cerr := tx.CountSeats(sub.ID)
			a = &Answer{Licensed: true, Reason: ReasonAssigned, Message: "This user holds a seat.", Subscription: view(c, n), Seat: seat}
			return cerr
		}
		if err != nil {
			return err
		}
		seat.LastCheckedAt = &now
		if err := tx.MarkSeatChecked(seat.ID, now); err != nil {
			return err
		}
		n, err := tx.CountSeats(sub.ID)
		a = &Answer{Licensed: true, Reason: ReasonAutoAssigned, Subscription: view(c, n), Seat: seat,
			Message: "A free seat was assigned to this user on first use."}
		return err
	})
	return a, err
}
