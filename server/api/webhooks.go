package api

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/views"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

// The seller's outbound webhook endpoints (admins): signed deliveries of
// events to the seller's systems, their deliveries, redelivery and a test
// event. (Microsoft's inbound webhook is in azure.go; alert channels in
// alert_channels.go.)

type endpointView struct {
	store.WebhookEndpoint
	EventTypes []string `json:"event_types"`
	Pending    int64    `json:"pending"`
	Failed     int64    `json:"failed"`
}

func splitTypes(s string) []string {
	out := []string{}
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func (s *Server) viewEndpoint(c *gin.Context, ep *store.WebhookEndpoint) endpointView {
	v := endpointView{WebhookEndpoint: *ep, EventTypes: splitTypes(ep.EventTypes)}
	// The counts are a guide: an endpoint is shown even when they fail.
	v.Pending, v.Failed, _ = s.Store.CountWebhookDeliveries(c.Request.Context(), ep.ID)
	return v
}

// checkTypes validates a list of event (or alert) types; "*" means all.
func checkTypes(types []string, known func(string) bool) (string, error) {
	if len(types) == 0 {
		return "", errors.New("choose at least one type, or \"*\" for all")
	}
	for _, t := range types {
		if t != "*" && !known(t) {
			return "", errors.New("unknown type " + strconv.Quote(t))
		}
	}
	return strings.Join(types, ","), nil
}

// checkURL checks an endpoint's URL as entered; the address it resolves
// to is checked again on every connection (netguard).
func (s *Server) checkURL(raw string) error {
	return s.Outbound.CheckURL(raw)
}

// endpointList is the endpoints and the event types they may choose.
type endpointList struct {
	Items      []endpointView    `json:"items"`
	EventTypes []views.EventType `json:"event_types"`
}

func (s *Server) listWebhooks(c *gin.Context) (endpointList, error) {
	eps, err := s.Store.ListWebhookEndpoints(c.Request.Context())
	if err != nil {
		return endpointList{}, err
	}
	items := make([]endpointView, len(eps))
	for i := range eps {
		items[i] = s.viewEndpoint(c, &eps[i])
	}
	return endpointList{Items: items, EventTypes: webhooks.Types}, nil
}

// endpointInput is a new endpoint.
type endpointInput struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
}

// endpointSecretAnswer is an endpoint and its signing secret (shown on
// creation and rotation only).
type endpointSecretAnswer struct {
	Endpoint endpointView `json:"endpoint"`
	Secret   string       `json:"secret"`
}

func (s *Server) createWebhook(c *gin.Context, in endpointInput) (endpointSecretAnswer, error) {
	if err := s.checkURL(in.URL); err != nil {
		return endpointSecretAnswer{}, apperr.New(apperr.Invalid, "%s", err.Error())
	}
	types, err := checkTypes(in.EventTypes, webhooks.KnownType)
	if err != nil {
		return endpointSecretAnswer{}, apperr.New(apperr.Invalid, "Event types: %s", err.Error())
	}
	if len(in.Description) > 500 {
		return endpointSecretAnswer{}, apperr.New(apperr.Invalid, "description is longer than 500 characters")
	}
	now := s.Now().UTC()
	u := currentUser(c)
	ep := store.WebhookEndpoint{URL: strings.TrimSpace(in.URL), Description: in.Description, Secret: webhooks.NewSecret(), EventTypes: types,
		Enabled: true, CreatedBy: u.Email, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateWebhookEndpoint(c.Request.Context(), &ep); err != nil {
		return endpointSecretAnswer{}, err
	}
	s.audit(c, u, "webhook.create", "webhook", ep.ID, nil, map[string]any{"url": ep.URL, "event_types": types})
	return endpointSecretAnswer{Endpoint: s.viewEndpoint(c, &ep), Secret: ep.Secret}, nil
}

func (s *Server) webhookByID(c *gin.Context) (*store.WebhookEndpoint, error) {
	return rowByPathID[store.WebhookEndpoint](s, c, "webhook endpoint")
}

// endpointDetail is one endpoint and the event types it may choose.
type endpointDetail struct {
	Endpoint   endpointView      `json:"endpoint"`
	EventTypes []views.EventType `json:"event_types"`
}

func (s *Server) getWebhook(c *gin.Context) (endpointDetail, error) {
	ep, err := s.webhookByID(c)
	if err != nil {
		return endpointDetail{}, err
	}
	return endpointDetail{Endpoint: s.viewEndpoint(c, ep), EventTypes: webhooks.Types}, nil
}

// endpointChanges are the changes of an endpoint (absent: unchanged).
type endpointChanges struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	EventTypes  *[]string `json:"event_types"`
	Enabled     *bool     `json:"enabled"`
}

// endpointAnswer is one endpoint.
type endpointAnswer struct {
	Endpoint endpointView `json:"endpoint"`
}

func (s *Server) updateWebhook(c *gin.Context, in endpointChanges) (endpointAnswer, error) {
	ep, err := s.webhookByID(c)
	if err != nil {
		return endpointAnswer{}, err
	}
	ctx := c.Request.Context()
	before := s.viewEndpoint(c, ep)
	now := s.Now().UTC()
	set := map[string]any{"updated_at": now}
	var resume *time.Time
	if in.URL != nil {
		if err := s.checkURL(*in.URL); err != nil {
			return endpointAnswer{}, apperr.New(apperr.Invalid, "%s", err.Error())
		}
		set["url"] = strings.TrimSpace(*in.URL)
	}
	if in.Description != nil {
		set["description"] = *in.Description
	}
	if in.EventTypes != nil {
		types, err := checkTypes(*in.EventTypes, webhooks.KnownType)
		if err != nil {
			return endpointAnswer{}, apperr.New(apperr.Invalid, "Event types: %s", err.Error())
		}
		set["event_types"] = types
	}
	if in.Enabled != nil {
		set["enabled"] = *in.Enabled
		if *in.Enabled && !ep.Enabled {
			// Enabled again: a fresh start; waiting deliveries resume now.
			set["disabled_reason"], set["disabled_at"], set["failing_since"], set["consecutive_failures"] = "", nil, nil, 0
			resume = &now
		}
		if !*in.Enabled && ep.Enabled {
			set["disabled_reason"], set["disabled_at"] = "disabled by "+currentUser(c).Email, now
		}
	}
	if err := s.Store.UpdateWebhookEndpoint(ctx, ep.ID, set, resume); err != nil {
		return endpointAnswer{}, err
	}
	if ep, err = store.Row[store.WebhookEndpoint](ctx, s.Store, ep.ID); err != nil {
		return endpointAnswer{}, err
	}
	after := s.viewEndpoint(c, ep)
	s.audit(c, currentUser(c), "webhook.update", "webhook", ep.ID, before, after)
	return endpointAnswer{Endpoint: after}, nil
}

func (s *Server) rotateWebhookSecret(c *gin.Context) (endpointSecretAnswer, error) {
	ep, err := s.webhookByID(c)
	if err != nil {
		return endpointSecretAnswer{}, err
	}
	secret := webhooks.NewSecret()
	if err := s.Store.UpdateWebhookEndpoint(c.Request.Context(), ep.ID, map[string]any{"secret": secret, "updated_at": s.Now().UTC()}, nil); err != nil {
		return endpointSecretAnswer{}, err
	}
	s.audit(c, currentUser(c), "webhook.rotate_secret", "webhook", ep.ID, nil, nil)
	return endpointSecretAnswer{Endpoint: s.viewEndpoint(c, ep), Secret: secret}, nil
}

func (s *Server) deleteWebhook(c *gin.Context) (NoContent, error) {
	ep, err := s.webhookByID(c)
	if err != nil {
		return NoContent{}, err
	}
	if err := s.Store.DeleteWebhookEndpoint(c.Request.Context(), ep.ID); err != nil {
		return NoContent{}, err
	}
	s.audit(c, currentUser(c), "webhook.delete", "webhook", ep.ID, map[string]any{"url": ep.URL}, nil)
	return NoContent{}, nil
}

// deliveryRequestView is what a delivery sends: its headers and body.
type deliveryRequestView struct {
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

type deliveryView struct {
	ID              uint                `json:"id"`
	EventID         string              `json:"event_id"`
	EventType       string              `json:"event_type"`
	SubscriptionID  *uint               `json:"subscription_id"`
	Status          string              `json:"status" enum:"pending,succeeded,failed"`
	Attempts        int                 `json:"attempts"`
	NextAttemptAt   time.Time           `json:"next_attempt_at"`
	LastAttemptAt   *time.Time          `json:"last_attempt_at"`
	ResponseStatus  int                 `json:"response_status"`
	ResponseExcerpt string              `json:"response_excerpt"`
	Error           string              `json:"error"`
	DeliveredAt     *time.Time          `json:"delivered_at"`
	CreatedAt       time.Time           `json:"created_at"`
	Request         deliveryRequestView `json:"request"`
}

func (s *Server) viewDelivery(d *store.WebhookDelivery, ev *store.Event) deliveryView {
	v := deliveryView{ID: d.ID, EventID: ev.EventID, EventType: ev.Type, SubscriptionID: ev.SubscriptionID, Status: d.Status,
		Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt, LastAttemptAt: d.LastAttemptAt, ResponseStatus: d.ResponseStatus,
		ResponseExcerpt: d.ResponseExcerpt, Error: d.Error, DeliveredAt: d.DeliveredAt, CreatedAt: d.CreatedAt}
	body, _ := webhooks.BodyOf(ev)
	v.Request.Body = body
	// The headers of the last attempt, as sent; before the first attempt,
	// what will be sent (its timestamp and signature are the attempt's own).
	if d.RequestHeaders != "" && json.Unmarshal([]byte(d.RequestHeaders), &v.Request.Headers) == nil && v.Request.Headers != nil {
		return v
	}
	v.Request.Headers = map[string]string{"content-type": "application/json", "webhook-id": ev.EventID, "user-agent": "Marketgate-Webhooks/1"}
	return v
}

// deliveriesQuery filters an endpoint's deliveries.
type deliveriesQuery struct {
	Status string `form:"status"`
	Limit  int    `form:"limit"`
	Offset int    `form:"offset"`
}

// deliveryPage is a page of an endpoint's deliveries.
type deliveryPage struct {
	Items       []deliveryView `json:"items"`
	Total       int64          `json:"total"`
	TotalCapped bool           `json:"total_capped"`
}

func (s *Server) listDeliveries(c *gin.Context) (deliveryPage, error) {
	ep, err := s.webhookByID(c)
	if err != nil {
		return deliveryPage{}, err
	}
	p := params{c: c}
	f := store.WebhookDeliveryFilter{EndpointID: ep.ID,
		Status: p.oneOf("status", []string{store.DeliveryPending, store.DeliverySucceeded, store.DeliveryFailed}),
		Limit:  p.intRange("limit", 50, 1, 200),
		Offset: p.intRange("offset", 0, 0, maxOffset)}
	if p.err != nil {
		return deliveryPage{}, p.err
	}
	page, events, err := s.Store.ListWebhookDeliveries(c.Request.Context(), f)
	if err != nil {
		return deliveryPage{}, err
	}
	items := make([]deliveryView, 0, len(page.Items))
	for i := range page.Items {
		if ev := events[page.Items[i].EventID]; ev != nil {
			items = append(items, s.viewDelivery(&page.Items[i], ev))
		}
	}
	return deliveryPage{Items: items, Total: page.Total, TotalCapped: page.TotalCapped}, nil
}

// deliveryAnswer is one delivery.
type deliveryAnswer struct {
	Delivery deliveryView `json:"delivery"`
}

func (s *Server) oneDelivery(c *gin.Context, ep *store.WebhookEndpoint, id uint) (deliveryAnswer, error) {
	d, ev, err := s.Store.WebhookDeliveryWithEvent(c.Request.Context(), ep.ID, id)
	if err != nil {
		return deliveryAnswer{}, err
	}
	return deliveryAnswer{Delivery: s.viewDelivery(d, ev)}, nil
}

func (s *Server) redeliver(c *gin.Context) (deliveryAnswer, error) {
	ep, err := s.webhookByID(c)
	if err != nil {
		return deliveryAnswer{}, err
	}
	id, err := strconv.ParseUint(c.Param("delivery"), 10, 32)
	if err != nil || id == 0 {
		return deliveryAnswer{}, apperr.New(apperr.Invalid, "delivery id must be a positive whole number")
	}
	if err := webhooks.Redeliver(c.Request.Context(), s.Store, ep.ID, uint(id)); err != nil {
		if errors.Is(err, webhooks.ErrNotFound) {
			return deliveryAnswer{}, apperr.New(apperr.NotFound, "delivery %d does not exist on endpoint %d", id, ep.ID)
		}
		return deliveryAnswer{}, err
	}
	s.audit(c, currentUser(c), "webhook.redeliver", "webhook", ep.ID, nil, map[string]any{"delivery": id})
	return s.oneDelivery(c, ep, uint(id))
}

func (s *Server) testWebhook(c *gin.Context) (deliveryAnswer, error) {
	ep, err := s.webhookByID(c)
	if err != nil {
		return deliveryAnswer{}, err
	}
	if !ep.Enabled {
		return deliveryAnswer{}, apperr.New(apperr.Conflict, "the endpoint is disabled: enable it to send")
	}
	did, err := webhooks.SendTest(c.Request.Context(), s.Store, s.Now().UTC(), ep.ID, currentUser(c).Email)
	if err != nil {
		return deliveryAnswer{}, err
	}
	return s.oneDelivery(c, ep, did)
}
