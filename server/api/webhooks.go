package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/webhooks"
	"github.com/marketgate/marketgate/store"
)

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
	db := s.Store.R.WithContext(c.Request.Context()).Model(&store.WebhookDelivery{})
	db.Session(&gorm.Session{}).Where("endpoint_id = ? AND status = ?", ep.ID, store.DeliveryPending).Count(&v.Pending)
	db.Session(&gorm.Session{}).Where("endpoint_id = ? AND status = ?", ep.ID, store.DeliveryFailed).Count(&v.Failed)
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

func (s *Server) listWebhooks(c *gin.Context) {
	var eps []store.WebhookEndpoint
	if err := s.Store.R.WithContext(c.Request.Context()).Order("id").Find(&eps).Error; err != nil {
		s.fail(c, err)
		return
	}
	items := make([]endpointView, len(eps))
	for i := range eps {
		items[i] = s.viewEndpoint(c, &eps[i])
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "event_types": webhooks.Types})
}

func (s *Server) createWebhook(c *gin.Context) {
	var in struct {
		URL         string   `json:"url"`
		Description string   `json:"description"`
		EventTypes  []string `json:"event_types"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	if err := s.checkURL(in.URL); err != nil {
		s.failCode(c, apperr.Invalid, "%s", err.Error())
		return
	}
	types, err := checkTypes(in.EventTypes, webhooks.KnownType)
	if err != nil {
		s.failCode(c, apperr.Invalid, "event_types: %s", err.Error())
		return
	}
	if len(in.Description) > 500 {
		s.failCode(c, apperr.Invalid, "description is longer than 500 characters")
		return
	}
	now := s.Now().UTC()
	u := currentUser(c)
	ep := store.WebhookEndpoint{URL: strings.TrimSpace(in.URL), Description: in.Description, Secret: webhooks.NewSecret(), EventTypes: types,
		Enabled: true, CreatedBy: u.Email, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.W.WithContext(c.Request.Context()).Create(&ep).Error; err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, u, "webhook.create", "webhook", ep.ID, nil, map[string]any{"url": ep.URL, "event_types": types})
	c.JSON(http.StatusCreated, gin.H{"endpoint": s.viewEndpoint(c, &ep), "secret": ep.Secret})
}

// byPathID loads the row named by the path's :id, answering 404 (with
// what it is) or the error itself when it cannot.
func byPathID[T any](s *Server, c *gin.Context, what string) (*T, bool) {
	id, ok := s.pathID(c)
	if !ok {
		return nil, false
	}
	return byID[T](s, c, id, what)
}

// byID loads a row by id, answering 404 (with what it is) when it does not exist.
func byID[T any](s *Server, c *gin.Context, id uint, what string) (*T, bool) {
	var row T
	if err := s.Store.W.WithContext(c.Request.Context()).First(&row, id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			s.failCode(c, apperr.NotFound, "%s %d does not exist", what, id)
		} else {
			s.fail(c, err)
		}
		return nil, false
	}
	return &row, true
}

func (s *Server) webhookByID(c *gin.Context) (*store.WebhookEndpoint, bool) {
	return byPathID[store.WebhookEndpoint](s, c, "webhook endpoint")
}

func (s *Server) getWebhook(c *gin.Context) {
	ep, ok := s.webhookByID(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, gin.H{"endpoint": s.viewEndpoint(c, ep), "event_types": webhooks.Types})
}

func (s *Server) updateWebhook(c *gin.Context) {
	ep, ok := s.webhookByID(c)
	if !ok {
		return
	}
	var in struct {
		URL         *string   `json:"url"`
		Description *string   `json:"description"`
		EventTypes  *[]string `json:"event_types"`
		Enabled     *bool     `json:"enabled"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	before := s.viewEndpoint(c, ep)
	now := s.Now().UTC()
	set := map[string]any{"updated_at": now}
	if in.URL != nil {
		if err := s.checkURL(*in.URL); err != nil {
			s.failCode(c, apperr.Invalid, "%s", err.Error())
			return
		}
		set["url"] = strings.TrimSpace(*in.URL)
	}
	if in.Description != nil {
		set["description"] = *in.Description
	}
	if in.EventTypes != nil {
		types, err := checkTypes(*in.EventTypes, webhooks.KnownType)
		if err != nil {
			s.failCode(c, apperr.Invalid, "event_types: %s", err.Error())
			return
		}
		set["event_types"] = types
	}
	if in.Enabled != nil {
		set["enabled"] = *in.Enabled
		if *in.Enabled && !ep.Enabled {
			// Enabled again: a fresh start; waiting deliveries resume now.
			set["disabled_reason"], set["disabled_at"], set["failing_since"], set["consecutive_failures"] = "", nil, nil, 0
			s.Store.W.WithContext(c.Request.Context()).Model(&store.WebhookDelivery{}).
				Where("endpoint_id = ? AND status = ?", ep.ID, store.DeliveryPending).Update("next_attempt_at", now)
		}
		if !*in.Enabled && ep.Enabled {
			set["disabled_reason"], set["disabled_at"] = "disabled by "+currentUser(c).Email, now
		}
	}
	if err := s.Store.W.WithContext(c.Request.Context()).Model(&store.WebhookEndpoint{}).Where("id = ?", ep.ID).Updates(set).Error; err != nil {
		s.fail(c, err)
		return
	}
	s.Store.W.WithContext(c.Request.Context()).First(ep, ep.ID)
	after := s.viewEndpoint(c, ep)
	s.audit(c, currentUser(c), "webhook.update", "webhook", ep.ID, before, after)
	c.JSON(http.StatusOK, gin.H{"endpoint": after})
}

func (s *Server) rotateWebhookSecret(c *gin.Context) {
	ep, ok := s.webhookByID(c)
	if !ok {
		return
	}
	secret := webhooks.NewSecret()
	if err := s.Store.W.WithContext(c.Request.Context()).Model(&store.WebhookEndpoint{}).Where("id = ?", ep.ID).
		Updates(map[string]any{"secret": secret, "updated_at": s.Now().UTC()}).Error; err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, currentUser(c), "webhook.rotate_secret", "webhook", ep.ID, nil, nil)
	c.JSON(http.StatusOK, gin.H{"endpoint": s.viewEndpoint(c, ep), "secret": secret})
}

func (s *Server) deleteWebhook(c *gin.Context) {
	ep, ok := s.webhookByID(c)
	if !ok {
		return
	}
	if err := s.Store.W.WithContext(c.Request.Context()).Delete(&store.WebhookEndpoint{}, ep.ID).Error; err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, currentUser(c), "webhook.delete", "webhook", ep.ID, map[string]any{"url": ep.URL}, nil)
	c.Status(http.StatusNoContent)
}

type deliveryView struct {
	ID              uint       `json:"id"`
	EventID         string     `json:"event_id"`
	EventType       string     `json:"event_type"`
	SubscriptionID  *uint      `json:"subscription_id"`
	Status          string     `json:"status"`
	Attempts        int        `json:"attempts"`
	NextAttemptAt   time.Time  `json:"next_attempt_at"`
	LastAttemptAt   *time.Time `json:"last_attempt_at"`
	ResponseStatus  int        `json:"response_status"`
	ResponseExcerpt string     `json:"response_excerpt"`
	Error           string     `json:"error"`
	DeliveredAt     *time.Time `json:"delivered_at"`
	CreatedAt       time.Time  `json:"created_at"`
	Request         struct {
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
}

func (s *Server) viewDelivery(ep *store.WebhookEndpoint, d *store.WebhookDelivery, ev *store.Event) deliveryView {
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

func (s *Server) listDeliveries(c *gin.Context) {
	ep, ok := s.webhookByID(c)
	if !ok {
		return
	}
	p := params{c: c}
	status := p.oneOf("status", []string{store.DeliveryPending, store.DeliverySucceeded, store.DeliveryFailed})
	limit := p.intRange("limit", 50, 1, 200)
	offset := p.intRange("offset", 0, 0, maxOffset)
	if p.err != nil {
		s.fail(c, p.err)
		return
	}
	db := s.Store.R.WithContext(c.Request.Context())
	q := db.Model(&store.WebhookDelivery{}).Where("endpoint_id = ?", ep.ID)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		s.fail(c, err)
		return
	}
	var ds []store.WebhookDelivery
	if err := q.Order("id DESC").Limit(limit).Offset(offset).Find(&ds).Error; err != nil {
		s.fail(c, err)
		return
	}
	ids := make([]uint, len(ds))
	for i, d := range ds {
		ids[i] = d.EventID
	}
	var evs []store.Event
	if err := db.Where("id IN ?", ids).Find(&evs).Error; err != nil {
		s.fail(c, err)
		return
	}
	byID := map[uint]*store.Event{}
	for i := range evs {
		byID[evs[i].ID] = &evs[i]
	}
	items := make([]deliveryView, 0, len(ds))
	for i := range ds {
		if ev := byID[ds[i].EventID]; ev != nil {
			items = append(items, s.viewDelivery(ep, &ds[i], ev))
		}
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": total})
}

func (s *Server) oneDelivery(c *gin.Context, ep *store.WebhookEndpoint, id uint) (*deliveryView, error) {
	var d store.WebhookDelivery
	if err := s.Store.W.WithContext(c.Request.Context()).Where("id = ? AND endpoint_id = ?", id, ep.ID).First(&d).Error; err != nil {
		return nil, err
	}
	var ev store.Event
	if err := s.Store.W.WithContext(c.Request.Context()).First(&ev, d.EventID).Error; err != nil {
		return nil, err
	}
	v := s.viewDelivery(ep, &d, &ev)
	return &v, nil
}

func (s *Server) redeliver(c *gin.Context) {
	ep, ok := s.webhookByID(c)
	if !ok {
		return
	}
	id, err := strconv.ParseUint(c.Param("delivery"), 10, 32)
	if err != nil || id == 0 {
		s.failCode(c, apperr.Invalid, "delivery id must be a positive whole number")
		return
	}
	if err := webhooks.Redeliver(c.Request.Context(), s.Store, ep.ID, uint(id)); err != nil {
		if errors.Is(err, webhooks.ErrNotFound) {
			s.failCode(c, apperr.NotFound, "delivery %d does not exist on endpoint %d", id, ep.ID)
		} else {
			s.fail(c, err)
		}
		return
	}
	s.audit(c, currentUser(c), "webhook.redeliver", "webhook", ep.ID, nil, map[string]any{"delivery": id})
	v, err := s.oneDelivery(c, ep, uint(id))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"delivery": v})
}

func (s *Server) testWebhook(c *gin.Context) {
	ep, ok := s.webhookByID(c)
	if !ok {
		return
	}
	if !ep.Enabled {
		s.failCode(c, apperr.Conflict, "the endpoint is disabled: enable it to send")
		return
	}
	now := s.Now().UTC()
	u := currentUser(c)
	var did uint
	err := s.Store.Tx(c.Request.Context(), func(tx *gorm.DB) error {
		if err := webhooks.Emit(store.LegacyTx(tx), now, webhooks.Event{Type: webhooks.Test, Only: ep.ID,
			Data: map[string]any{"message": "A test event from Marketgate.", "sent_by": u.Email}}); err != nil {
			return err
		}
		return tx.Model(&store.WebhookDelivery{}).Where("endpoint_id = ?", ep.ID).Order("id DESC").Limit(1).Pluck("id", &did).Error
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	v, err := s.oneDelivery(c, ep, did)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"delivery": v})
}

// ---- alerts ----

type channelView struct {
	store.AlertChannel
	AlertTypes []string `json:"alert_types"`
}

func viewChannel(ch *store.AlertChannel) channelView {
	return channelView{AlertChannel: *ch, AlertTypes: splitTypes(ch.AlertTypes)}
}

func (s *Server) listAlertChannels(c *gin.Context) {
	var chans []store.AlertChannel
	if err := s.Store.R.WithContext(c.Request.Context()).Order("id").Find(&chans).Error; err != nil {
		s.fail(c, err)
		return
	}
	items := make([]channelView, len(chans))
	for i := range chans {
		items[i] = viewChannel(&chans[i])
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "alert_types": alerts.Types,
		"email_configured": s.Alerts != nil && s.Alerts.SMTP != nil && s.Alerts.SMTP.Addr != ""})
}

func (s *Server) checkChannel(kind, target string, types []string) (string, error) {
	if err := alerts.ValidTarget(kind, target); err != nil {
		return "", err
	}
	if kind == "slack" || kind == "teams" {
		if err := s.Outbound.CheckURL(target); err != nil {
			return "", errors.New(strings.Replace(err.Error(), "url", "target", 1))
		}
	}
	if kind == "email" && (s.Alerts == nil || s.Alerts.SMTP == nil || s.Alerts.SMTP.Addr == "") {
		return "", alerts.ErrNoSMTP
	}
	return checkTypes(types, alerts.KnownType)
}

func (s *Server) createAlertChannel(c *gin.Context) {
	var in struct {
		Kind       string   `json:"kind"`
		Name       string   `json:"name"`
		Target     string   `json:"target"`
		AlertTypes []string `json:"alert_types"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	if auth.HasControl(in.Name) {
		s.failCode(c, apperr.Invalid, "name must not contain control characters")
		return
	}
	types, err := s.checkChannel(in.Kind, strings.TrimSpace(in.Target), in.AlertTypes)
	if err != nil {
		s.failCode(c, apperr.Invalid, "%s", err.Error())
		return
	}
	now := s.Now().UTC()
	ch := store.AlertChannel{Kind: in.Kind, Name: in.Name, Target: strings.TrimSpace(in.Target), AlertTypes: types, Enabled: true,
		CreatedAt: now, UpdatedAt: now}
	if err := s.Store.W.WithContext(c.Request.Context()).Create(&ch).Error; err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, currentUser(c), "alert_channel.create", "alert_channel", ch.ID, nil, viewChannel(&ch))
	c.JSON(http.StatusCreated, gin.H{"channel": viewChannel(&ch)})
}

func (s *Server) channelByID(c *gin.Context) (*store.AlertChannel, bool) {
	return byPathID[store.AlertChannel](s, c, "alert channel")
}

func (s *Server) updateAlertChannel(c *gin.Context) {
	ch, ok := s.channelByID(c)
	if !ok {
		return
	}
	var in struct {
		Name       *string   `json:"name"`
		Target     *string   `json:"target"`
		AlertTypes *[]string `json:"alert_types"`
		Enabled    *bool     `json:"enabled"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	before := viewChannel(ch)
	if in.Name != nil {
		if auth.HasControl(*in.Name) {
			s.failCode(c, apperr.Invalid, "name must not contain control characters")
			return
		}
		ch.Name = *in.Name
	}
	if in.Target != nil {
		ch.Target = strings.TrimSpace(*in.Target)
	}
	types := splitTypes(ch.AlertTypes)
	if in.AlertTypes != nil {
		types = *in.AlertTypes
	}
	var joined string
	var err error
	if in.Target != nil || (in.Enabled != nil && *in.Enabled) {
		joined, err = s.checkChannel(ch.Kind, ch.Target, types)
	} else {
		// Renaming, retyping or pausing needs no SMTP settings.
		joined, err = checkTypes(types, alerts.KnownType)
	}
	if err != nil {
		s.failCode(c, apperr.Invalid, "%s", err.Error())
		return
	}
	ch.AlertTypes = joined
	if in.Enabled != nil {
		ch.Enabled = *in.Enabled
	}
	ch.UpdatedAt = s.Now().UTC()
	if err := s.Store.W.WithContext(c.Request.Context()).Model(&store.AlertChannel{}).Where("id = ?", ch.ID).
		Updates(map[string]any{"name": ch.Name, "target": ch.Target, "alert_types": ch.AlertTypes, "enabled": ch.Enabled, "updated_at": ch.UpdatedAt}).Error; err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, currentUser(c), "alert_channel.update", "alert_channel", ch.ID, before, viewChannel(ch))
	c.JSON(http.StatusOK, gin.H{"channel": viewChannel(ch)})
}

func (s *Server) deleteAlertChannel(c *gin.Context) {
	ch, ok := s.channelByID(c)
	if !ok {
		return
	}
	if err := s.Store.W.WithContext(c.Request.Context()).Delete(&store.AlertChannel{}, ch.ID).Error; err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, currentUser(c), "alert_channel.delete", "alert_channel", ch.ID, viewChannel(ch), nil)
	c.Status(http.StatusNoContent)
}

func (s *Server) testAlertChannel(c *gin.Context) {
	ch, ok := s.channelByID(c)
	if !ok {
		return
	}
	if s.Alerts == nil {
		s.failCode(c, apperr.Unavailable, "alerts are not running on this instance")
		return
	}
	if err := s.Alerts.SendTest(c.Request.Context(), ch); err != nil {
		s.Log.Warn("test alert failed", "request_id", requestID(c), "channel", ch.ID, "err", err)
		s.failCode(c, apperr.DeliveryFailed, "the test alert was not delivered: %s", err.Error())
		return
	}
	c.JSON(http.StatusOK, gin.H{"sent": true})
}

func (s *Server) listAlerts(c *gin.Context) {
	p := params{c: c}
	limit := p.intRange("limit", 50, 1, 500)
	if p.err != nil {
		s.fail(c, p.err)
		return
	}
	var as []store.Alert
	if err := s.Store.R.WithContext(c.Request.Context()).Order("last_at DESC, id DESC").Limit(limit).Find(&as).Error; err != nil {
		s.fail(c, err)
		return
	}
	if as == nil {
		as = []store.Alert{}
	}
	c.JSON(http.StatusOK, gin.H{"items": as})
}
