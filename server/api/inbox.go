package api

import (
	"context"
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/store"
)

// The inbox: every inbound message from the marketplaces (AWS
// registrations and notifications, Microsoft's landing and webhook calls),
// stored before it is applied, and replayable (seller staff).

type inboxMessageView struct {
	ID             uint       `json:"id"`
	Marketplace    string     `json:"marketplace"`
	Source         string     `json:"source"`
	DedupKey       string     `json:"dedup_key"`
	Action         string     `json:"action"`
	Status         string     `json:"status"`
	Error          string     `json:"error"`
	Attempts       int        `json:"attempts"`
	SubscriptionID *uint      `json:"subscription_id"`
	ReceivedAt     time.Time  `json:"received_at"`
	ProcessedAt    *time.Time `json:"processed_at"`
	Body           *string    `json:"body,omitempty"`
	ContentType    *string    `json:"content_type,omitempty"`
	Headers        *string    `json:"headers,omitempty"`
}

func viewInbox(m *store.InboxMessage, withBody bool) inboxMessageView {
	v := inboxMessageView{ID: m.ID, Marketplace: m.Marketplace, Source: m.Source, DedupKey: m.DedupKey, Action: m.Action,
		Status: m.Status, Error: m.Error, Attempts: m.Attempts, SubscriptionID: m.SubscriptionID,
		ReceivedAt: m.ReceivedAt, ProcessedAt: m.ProcessedAt}
	if withBody {
		v.Body, v.ContentType, v.Headers = &m.Body, &m.ContentType, &m.Headers
	}
	return v
}

// inboxQuery names the inbox list's query parameters.
type inboxQuery struct {
	Marketplace  string    `form:"marketplace"`
	Status       string    `form:"status"`
	Source       string    `form:"source"`
	Action       string    `form:"action"`
	Q            string    `form:"q"` // part of the deduplication key
	From         time.Time `form:"from"`
	To           time.Time `form:"to"`
	Subscription uint      `form:"subscription"`
	Limit        int       `form:"limit"`
	Offset       int       `form:"offset"`
}

// inboxList is a page of inbound messages, without their bodies.
type inboxList struct {
	Items []inboxMessageView `json:"items"`
	// Total is how many match: exactly, or when total_capped is true more
	// than that (counting stops at 10,000, or at the end of the page asked
	// for when further: a next page exists).
	Total       int64 `json:"total"`
	TotalCapped bool  `json:"total_capped"`
	Limit       int   `json:"limit"`
	Offset      int   `json:"offset"`
}

func (s *Server) listInbox(c *gin.Context) (inboxList, error) {
	p := params{c: c}
	f := store.InboxFilter{
		Marketplace:    p.oneOf("marketplace", marketplaces),
		Status:         p.oneOf("status", []string{store.InboxReceived, store.InboxProcessed, store.InboxFailed, store.InboxIgnored}),
		Source:         p.text("source", 64),
		Action:         p.text("action", 128),
		Q:              p.text("q", 200),
		From:           p.time("from"),
		To:             p.time("to"),
		SubscriptionID: p.id("subscription"),
		Limit:          p.intRange("limit", 50, 1, 200),
		Offset:         p.intRange("offset", 0, 0, maxOffset),
	}
	if p.err != nil {
		return inboxList{}, p.err
	}
	page, err := s.Store.ListInbox(c.Request.Context(), f)
	if err != nil {
		return inboxList{}, err
	}
	out := inboxList{Items: make([]inboxMessageView, 0, len(page.Items)), Total: page.Total, TotalCapped: page.TotalCapped, Limit: f.Limit, Offset: f.Offset}
	for i := range page.Items {
		out.Items = append(out.Items, viewInbox(&page.Items[i], false))
	}
	return out, nil
}

// inboxAnswer is one inbound message with its body.
type inboxAnswer struct {
	Message inboxMessageView `json:"message"`
}

// inboxMessage loads the message named by the path's :id.
func (s *Server) inboxMessage(c *gin.Context) (*store.InboxMessage, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return nil, err
	}
	m, err := s.Store.GetInbox(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "inbox message %d does not exist", id)
	}
	return m, err
}

func (s *Server) getInbox(c *gin.Context) (inboxAnswer, error) {
	m, err := s.inboxMessage(c)
	if err != nil {
		return inboxAnswer{}, err
	}
	return inboxAnswer{Message: viewInbox(m, true)}, nil
}

// replayInbox applies a stored inbound message again. Processing is
// idempotent, so a replay of a processed message changes nothing.
func (s *Server) replayInbox(c *gin.Context) (inboxAnswer, error) {
	m, err := s.inboxMessage(c)
	if err != nil {
		return inboxAnswer{}, err
	}
	ctx, id := c.Request.Context(), m.ID
	var apply func(context.Context, *store.InboxMessage) error
	switch {
	case m.Source == "aws_sqs" && s.AWSEvents != nil:
		apply = s.AWSEvents.Apply
	case azuremp.RejectedByPolicy(m):
		return inboxAnswer{}, apperr.New(apperr.Conflict, "this customer change was refused by the plan's policy when it arrived (%s); replaying it would approve it at Microsoft",
			azuremp.RejectionReason(m))
	case m.Source == azuremp.SourceNotification && s.Azure != nil:
		apply = s.Azure.ProcessNotification // confirmed with Get Operation again first
	case m.Source == "aws_registration" || m.Source == azuremp.SourceLanding:
		return inboxAnswer{}, apperr.New(apperr.Conflict, "%s messages cannot be replayed: the marketplace's purchase token works for the buyer's visit only; the buyer opens the product from the marketplace again", m.Source)
	default:
		return inboxAnswer{}, apperr.New(apperr.Conflict, "%s messages cannot be replayed on this instance", m.Source)
	}
	before := viewInbox(m, false)
	applyErr := apply(ctx, m)
	after, err := s.Store.GetInbox(ctx, id)
	if err != nil {
		return inboxAnswer{}, err
	}
	s.audit(c, currentUser(c), "inbox.replayed", "inbox_message", id, before, viewInbox(after, false))
	if applyErr != nil {
		s.Log.Info("inbox replay failed", "request_id", requestID(c), "inbox_id", id, "err", applyErr)
	}
	return inboxAnswer{Message: viewInbox(after, true)}, nil
}
