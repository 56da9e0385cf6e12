package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The queries of per-user subscriptions' seats (server/seats). A customer
// admin's scope (their customer id) is a parameter of the queries that
// find a subscription: 0 means every customer (the seller's staff).

// SeatSubscription reads a subscription with its plan, as ErrNotFound when
// customerID != 0 and it belongs to another customer. With lock, on
// Postgres, it locks the row so that seat changes of one subscription
// queue (SQLite's single writer connection already serialises them).
func (t *Tx) SeatSubscription(id, customerID uint, lock bool) (*Subscription, error) {
	q := t.db.Preload("Plan")
	if lock && t.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: clause.CurrentTable}})
	}
	if customerID != 0 {
		q = q.Where("customer_id = ?", customerID)
	}
	var sub Subscription
	if err := q.First(&sub, id).Error; err != nil {
		return nil, notFound(err)
	}
	return &sub, nil
}

// CountSeats counts a subscription's seats.
func (t *Tx) CountSeats(subID uint) (int, error) {
	var n int64
	err := t.db.Model(&Seat{}).Where("subscription_id = ?", subID).Count(&n).Error
	return int(n), err
}

// NewestSeatIDs returns the ids of a subscription's n newest seats (the
// ones beyond the quantity when it has n too many).
func (t *Tx) NewestSeatIDs(subID uint, n int) ([]uint, error) {
	var ids []uint
	err := t.db.Model(&Seat{}).Where("subscription_id = ?", subID).
		Order("assigned_at DESC, id DESC").Limit(n).Pluck("id", &ids).Error
	return ids, err
}

// ListSeats returns a page of a subscription's seats, oldest first,
// matching q (part of the e-mail, name or object id, lower case; "" for
// all), and how many match.
func (t *Tx) ListSeats(subID uint, q string, limit, offset int) ([]Seat, int, error) {
	base := t.db.Model(&Seat{}).Where("subscription_id = ?", subID)
	if q != "" {
		like := "%" + escapeLike(q) + "%"
		base = base.Where(`(email LIKE ? ESCAPE '\' OR entra_object_id LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\')`, like, like, like)
	}
	var total int64
	if err := base.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []Seat
	if err := base.Order("assigned_at, id").Limit(limit).Offset(offset).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	return rows, int(total), nil
}

// SeatsOf returns every seat of a subscription, oldest first.
func (t *Tx) SeatsOf(subID uint) ([]Seat, error) {
	var rows []Seat
	return rows, t.db.Where("subscription_id = ?", subID).Order("assigned_at, id").Find(&rows).Error
}

// whereSeatHolder matches a seat by e-mail or Entra object id (either,
// when both are given). The repeated "not empty" terms let both
// databases use the partial unique indexes.
func whereSeatHolder(q *gorm.DB, email, objectID string) *gorm.DB {
	cond, args := seatHolder(email, objectID)
	return q.Where(cond, args...)
}

// seatHolder is the condition on seats naming a holder by e-mail and/or
// Entra object id.
func seatHolder(email, objectID string) (string, []any) {
	switch {
	case email != "" && objectID != "":
		return "((email = ? AND email <> '') OR (entra_object_id = ? AND entra_object_id <> ''))", []any{email, objectID}
	case email != "":
		return "email = ? AND email <> ''", []any{email}
	default:
		return "entra_object_id = ? AND entra_object_id <> ''", []any{objectID}
	}
}

// FindSeat looks a holder (e-mail and/or Entra object id) up among the
// seats of the given subscriptions; nil when none holds one.
func (t *Tx) FindSeat(subIDs []uint, email, objectID string) (*Seat, error) {
	if t.seats != nil && len(subIDs) > 0 && (email != "" || objectID != "") {
		return t.seats.find(t.db.Statement.Context, subIDs, email, objectID)
	}
	var rows []Seat
	if err := whereSeatHolder(t.db.Where("subscription_id IN ?", subIDs), email, objectID).Order("id").Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// FindSeatCounted is FindSeat with the number of seats of the holder's
// subscription, in one statement.
func (t *Tx) FindSeatCounted(subIDs []uint, email, objectID string) (*Seat, int, error) {
	var rows []struct {
		Seat
		Assigned int
	}
	q := whereSeatHolder(t.db.Table("seats").Select("seats.*, (SELECT count(*) FROM seats x WHERE x.subscription_id = seats.subscription_id) AS assigned").
		Where("subscription_id IN ?", subIDs), email, objectID)
	if err := q.Order("id").Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, 0, err
	}
	seat := rows[0].Seat
	return &seat, rows[0].Assigned, nil
}

// CreateSeat inserts a seat. A holder who already has a seat of the
// subscription is a unique-key violation (IsUniqueViolation).
func (t *Tx) CreateSeat(s *Seat) error {
	return t.db.Create(s).Error
}

// SeatsByID returns the seats of a subscription among ids.
func (t *Tx) SeatsByID(subID uint, ids []uint) ([]Seat, error) {
	var rows []Seat
	return rows, t.db.Where("subscription_id = ? AND id IN ?", subID, ids).Find(&rows).Error
}

// DeleteSeats deletes the seats of a subscription among ids and returns
// how many it deleted.
func (t *Tx) DeleteSeats(subID uint, ids []uint) (int, error) {
	r := t.db.Where("subscription_id = ? AND id IN ?", subID, ids).Delete(&Seat{})
	return int(r.RowsAffected), r.Error
}

// SeatRank counts the seats of a subscription assigned no later than seat
// (its place, oldest first).
func (t *Tx) SeatRank(seat *Seat) (int, error) {
	var n int64
	err := t.db.Model(&Seat{}).Where("subscription_id = ? AND (assigned_at < ? OR (assigned_at = ? AND id <= ?))",
		seat.SubscriptionID, seat.AssignedAt, seat.AssignedAt, seat.ID).Count(&n).Error
	return int(n), err
}

// MarkSeatChecked records when a seat was last checked.
func (t *Tx) MarkSeatChecked(id uint, at time.Time) error {
	return t.db.Model(&Seat{}).Where("id = ?", id).Update("last_checked_at", at).Error
}

// TouchSeats records that seats were checked at at, on those not marked
// since notSince.
func (s *Store) TouchSeats(ctx context.Context, ids []uint, at, notSince time.Time) error {
	return s.w.WithContext(notAGrantChange(ctx)).Model(&Seat{}).Where("id IN ? AND (last_checked_at IS NULL OR last_checked_at < ?)", ids, notSince).
		Update("last_checked_at", at).Error
}

// SeatOrganisation names the organisation a seat check is about: exactly
// one of its fields.
type SeatOrganisation struct {
	CustomerID   uint
	TenantID     string // Entra
	AWSAccountID string
}

// ErrNoOrganisation: a SeatOrganisation names none.
var ErrNoOrganisation = errors.New("no organisation")

func (o SeatOrganisation) where() (string, any, error) {
	switch {
	case o.CustomerID != 0:
		return "c.id = ?", o.CustomerID, nil
	case o.TenantID != "":
		return "c.azure_tenant_id = ? AND c.azure_tenant_id <> ''", o.TenantID, nil
	case o.AWSAccountID != "":
		return "c.aws_account_id = ? AND c.aws_account_id <> ''", o.AWSAccountID, nil
	}
	return "", nil, ErrNoOrganisation
}

// SeatCandidate is a per-user subscription of an organisation, as the
// seat check weighs it.
type SeatCandidate struct {
	ID          uint
	State       string
	Quantity    int
	Marketplace string
	CreatedAt   time.Time
	PlanID      string // the marketplace's plan id
	PlanName    string
	Auto        bool // the plan assigns seats on first use
	AllowOver   bool // the plan allows more seats than bought
	Policy      string
	OfferID     string // the marketplace's offer id
	OfferName   string
	OfferRef    uint   // the offer's row (its permissions: admin consent)
	TenantID    string // the subscription's Microsoft tenant (admin consent)
}

// SeatCandidates returns the organisation's subscriptions with a per-user
// plan (of one offer, by its marketplace id, when offer != "").
func (t *Tx) SeatCandidates(org SeatOrganisation, offer string) ([]SeatCandidate, error) {
	cond, arg, err := org.where()
	if err != nil {
		return nil, err
	}
	sq := t.db.Table("subscriptions s").
		Select(`s.id, s.state, s.quantity, s.marketplace, s.created_at, p.plan_id, p.name AS plan_name,
			p.auto_assign_seats AS auto, p.allow_over_assignment AS allow_over, p.over_quantity_policy AS policy,
			o.marketplace_id AS offer_id, o.name AS offer_name, o.id AS offer_ref, s.azure_tenant_id AS tenant_id`).
		Joins("JOIN customers c ON c.id = s.customer_id").
		Joins("JOIN plans p ON p.id = s.plan_id").Joins("LEFT JOIN offers o ON o.id = s.offer_id").
		Where(cond, arg).Where("p.seat_based")
	if offer != "" {
		sq = sq.Where("o.marketplace_id = ?", offer)
	}
	var cands []SeatCandidate
	return cands, sq.Find(&cands).Error
}

// OrganisationKnown reports whether a customer is the organisation.
func (t *Tx) OrganisationKnown(org SeatOrganisation) (bool, error) {
	cond, arg, err := org.where()
	if err != nil {
		return false, err
	}
	var known int64
	err = t.db.Table("customers c").Where(cond, arg).Limit(1).Count(&known).Error
	return known > 0, err
}

// PreparedReads is the reader pool with prepared statements kept for
// reuse, for queries run at a high rate (the seat check). Keep the Tx and
// use it WithContext per call: its statement cache lives as long as it.
func (s *Store) PreparedReads() *Tx {
	t := s.wrap(s.r.Session(&gorm.Session{PrepareStmt: true}))
	if db, err := s.r.DB(); err == nil {
		t.seats = &seatStatements{db: db, dialect: s.Dialect, m: map[seatShape]*sql.Stmt{}}
	}
	return t
}

// WithContext returns t running under ctx.
func (t *Tx) WithContext(ctx context.Context) *Tx {
	return t.on(t.db.WithContext(ctx))
}

// seatStatements are FindSeat's statements on the readers, prepared once
// per shape (how many subscriptions; e-mail, object id or both) and
// scanned by hand: the seat check runs FindSeat for nearly every answer,
// and building the query and scanning it through gorm cost a quarter of
// the lookup.
type seatStatements struct {
	db      *sql.DB
	dialect string
	mu      sync.Mutex
	m       map[seatShape]*sql.Stmt
}

// seatShape is what a FindSeat statement's text depends on.
type seatShape struct {
	subs       int
	email, oid bool
}

const seatColumns = "id, subscription_id, customer_id, email, entra_object_id, name, source, assigned_by, assigned_at, last_checked_at"

func (ss *seatStatements) find(ctx context.Context, subIDs []uint, email, objectID string) (*Seat, error) {
	holder, who := seatHolder(email, objectID)
	args := make([]any, 0, len(subIDs)+len(who))
	for _, id := range subIDs {
		args = append(args, int64(id))
	}
	args = append(args, who...)
	shape := seatShape{subs: len(subIDs), email: email != "", oid: objectID != ""}
	ss.mu.Lock()
	st := ss.m[shape]
	if st == nil {
		q := "SELECT " + seatColumns + " FROM seats WHERE subscription_id IN (?" + strings.Repeat(",?", len(subIDs)-1) + ") AND " + holder + " ORDER BY id LIMIT 1"
		if ss.dialect == Postgres {
			q = dollars(q)
		}
		var err error
		if st, err = ss.db.PrepareContext(context.Background(), q); err != nil {
			ss.mu.Unlock()
			return nil, err
		}
		ss.m[shape] = st
	}
	ss.mu.Unlock()
	var s Seat
	var customer sql.NullInt64
	var checked sql.NullTime
	err := st.QueryRowContext(ctx, args...).Scan(&s.ID, &s.SubscriptionID, &customer, &s.Email, &s.EntraObjectID, &s.Name, &s.Source,
		&s.AssignedBy, &s.AssignedAt, &checked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if customer.Valid {
		c := uint(customer.Int64)
		s.CustomerID = &c
	}
	if checked.Valid {
		at := checked.Time
		s.LastCheckedAt = &at
	}
	return &s, nil
}
