package api

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/views"
	"github.com/marketgate/marketgate/store"
)

// The read API of the seller's application (API key scope "read"): the
// subscriptions, one with its seats and entitlements, a customer, and the
// outbound events as a pull feed for an application that cannot receive
// webhooks. Described in openapi.yaml.

// v1SubscriptionList is a page of subscriptions.
type v1SubscriptionList struct {
	Items      []views.Subscription `json:"items"`
	NextCursor *string              `json:"next_cursor"`
}

func (s *Server) v1ListSubscriptions(c *gin.Context) {
	p := params{c: c}
	f := store.SubscriptionFilter{
		Marketplaces: p.list("marketplace", marketplaces),
		States:       p.list("state", stateNames),
		OfferID:      p.id("offer"),
		CustomerID:   p.id("customer"),
		UpdatedFrom:  p.time("updated_since"),
		Limit:        p.intRange("limit", 50, 1, 200),
		Cursor:       p.text("cursor", 4096),
		NoTotal:      true, // (the answer has no total)
	}
	if p.err != nil {
		s.fail(c, p.err)
		return
	}
	var err error
	if f.Sort, err = parseSort("id"); err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.Store.ListSubscriptions(c.Request.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		s.fail(c, apperr.New(apperr.Invalid, "the cursor is invalid"))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out := v1SubscriptionList{Items: make([]views.Subscription, 0, len(page.Items))}
	for i := range page.Items {
		out.Items = append(out.Items, viewRow(&page.Items[i]))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	c.JSON(200, out)
}

// v1SubscriptionAnswer is one subscription with its seats and entitlements.
type v1SubscriptionAnswer struct {
	Subscription views.Subscription `json:"subscription"`
	Seats        *v1Seats           `json:"seats"`
	Entitlements []entitlementView  `json:"entitlements"`
}

// v1Seats is a per-user subscription's seats.
type v1Seats struct {
	Bought   int  `json:"bought"`
	Assigned int  `json:"assigned"`
	Free     int  `json:"free"`
	Over     int  `json:"over"`
	Usable   bool `json:"usable"`
}

func (s *Server) v1GetSubscription(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	sub, err := s.Store.ScopedSubscription(ctx, id, 0)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(c, apperr.New(apperr.NotFound, "subscription %d does not exist", id))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.v1Subscription(ctx, sub)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(200, out)
}

func (s *Server) v1Subscription(ctx context.Context, sub *store.Subscription) (v1SubscriptionAnswer, error) {
	out := v1SubscriptionAnswer{Subscription: viewSubscriptionWith(sub)}
	var err error
	if out.Entitlements, err = s.subscriptionEntitlementViews(ctx, sub.ID); err != nil {
		return out, err
	}
	if sub.Plan != nil && sub.Plan.SeatBased {
		sm, err := s.seats.Summary(ctx, sub)
		if err != nil {
			return out, err
		}
		out.Seats = &v1Seats{Bought: sm.Bought, Assigned: sm.Assigned, Free: sm.Free, Over: sm.Over, Usable: sm.Usable}
	}
	return out, nil
}

// v1Customer is one organisation.
type v1Customer struct {
	ID                  uint      `json:"id"`
	Name                string    `json:"name"`
	Email               string    `json:"email"`
	AWSAccountID        string    `json:"aws_account_id"`
	AzureTenantID       string    `json:"azure_tenant_id"`
	Subscriptions       int64     `json:"subscriptions"`
	ActiveSubscriptions int64     `json:"active_subscriptions"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

func (s *Server) v1GetCustomer(c *gin.Context) {
	id, err := idParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	cu, err := s.Store.CustomerByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(c, apperr.New(apperr.NotFound, "customer %d does not exist", id))
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	n, err := s.Store.CountCustomer(ctx, cu.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(200, v1Customer{ID: cu.ID, Name: cu.Name, Email: cu.Email, AWSAccountID: cu.AWSAccountID, AzureTenantID: cu.AzureTenantID,
		Subscriptions: n.Subscriptions, ActiveSubscriptions: n.ActiveSubscriptions, CreatedAt: cu.CreatedAt, UpdatedAt: cu.UpdatedAt})
}

// v1Event is one outbound event in the pull feed: the same id, type,
// timestamp and data a webhook endpoint receives, and its position.
type v1Event struct {
	Position       uint            `json:"position"`
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Timestamp      time.Time       `json:"timestamp"`
	SubscriptionID *uint           `json:"subscription_id"`
	CustomerID     *uint           `json:"customer_id"`
	Data           json.RawMessage `json:"data"`
}

// v1EventList is a page of the feed; next is the after of the next page
// (the last position, or after itself when the page is empty).
type v1EventList struct {
	Items []v1Event `json:"items"`
	Next  uint      `json:"next"`
}

// eventSettle holds back the newest events on PostgreSQL, where ids come
// from a sequence and a transaction that took a lower id may commit after
// one that took a higher: a reader never steps past an event still
// committing. SQLite has one writer: ids commit in order.
const eventSettle = 5 * time.Second

func (s *Server) v1Events(c *gin.Context) {
	p := params{c: c}
	after := uint(p.intRange("after", 0, 0, 1<<32-1))
	limit := p.intRange("limit", 100, 1, 1000)
	if p.err != nil {
		s.fail(c, p.err)
		return
	}
	visible := s.Store.Now()
	if s.Store.Dialect == store.Postgres {
		visible = visible.Add(-eventSettle)
	}
	evs, err := s.Store.EventsAfter(c.Request.Context(), after, limit, visible)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := v1EventList{Items: make([]v1Event, 0, len(evs)), Next: after}
	for _, ev := range evs {
		data := json.RawMessage(ev.Data)
		if !json.Valid(data) {
			data = json.RawMessage("null")
		}
		out.Items = append(out.Items, v1Event{Position: ev.ID, ID: ev.EventID, Type: ev.Type, Timestamp: ev.OccurredAt.UTC(),
			SubscriptionID: ev.SubscriptionID, CustomerID: ev.CustomerID, Data: data})
		out.Next = ev.ID
	}
	c.JSON(200, out)
}
