package api

import (
	"errors"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/alerts"
	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/views"
	"github.com/marketgate/marketgate/store"
)

// Alerts (what needs a person) and alert channels (where they go: an
// e-mail address, or a Slack- or Teams-compatible incoming URL).

type channelView struct {
	store.AlertChannel
	AlertTypes []string `json:"alert_types"`
}

func viewChannel(ch *store.AlertChannel) channelView {
	return channelView{AlertChannel: *ch, AlertTypes: splitTypes(ch.AlertTypes)}
}

// alertChannelList is the alert channels, the alert types they may
// choose, and whether e-mail can be sent.
type alertChannelList struct {
	Items           []channelView     `json:"items"`
	AlertTypes      []views.EventType `json:"alert_types"`
	EmailConfigured bool              `json:"email_configured"`
}

func (s *Server) emailConfigured() bool {
	return s.Alerts != nil && s.Alerts.SMTP != nil && s.Alerts.SMTP.Addr != ""
}

func (s *Server) listAlertChannels(c *gin.Context) (alertChannelList, error) {
	chans, err := s.Store.ListAlertChannels(c.Request.Context())
	if err != nil {
		return alertChannelList{}, err
	}
	items := make([]channelView, len(chans))
	for i := range chans {
		items[i] = viewChannel(&chans[i])
	}
	return alertChannelList{Items: items, AlertTypes: alerts.Types, EmailConfigured: s.emailConfigured()}, nil
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
	if kind == "email" && !s.emailConfigured() {
		return "", alerts.ErrNoSMTP
	}
	return checkTypes(types, alerts.KnownType)
}

// alertChannelInput is a new alert channel.
type alertChannelInput struct {
	Kind       string   `json:"kind" enum:"email,slack,teams"`
	Name       string   `json:"name"`
	Target     string   `json:"target"`
	AlertTypes []string `json:"alert_types"`
}

// alertChannelAnswer is one alert channel.
type alertChannelAnswer struct {
	Channel channelView `json:"channel"`
}

func (s *Server) createAlertChannel(c *gin.Context, in alertChannelInput) (alertChannelAnswer, error) {
	if auth.HasControl(in.Name) {
		return alertChannelAnswer{}, apperr.New(apperr.Invalid, "name must not contain control characters")
	}
	types, err := s.checkChannel(in.Kind, strings.TrimSpace(in.Target), in.AlertTypes)
	if err != nil {
		return alertChannelAnswer{}, apperr.New(apperr.Invalid, "%s", err.Error())
	}
	now := s.Now().UTC()
	ch := store.AlertChannel{Kind: in.Kind, Name: in.Name, Target: strings.TrimSpace(in.Target), AlertTypes: types, Enabled: true,
		CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateAlertChannel(c.Request.Context(), &ch); err != nil {
		return alertChannelAnswer{}, err
	}
	s.audit(c, currentUser(c), "alert_channel.create", "alert_channel", ch.ID, nil, viewChannel(&ch))
	return alertChannelAnswer{Channel: viewChannel(&ch)}, nil
}

func (s *Server) channelByID(c *gin.Context) (*store.AlertChannel, error) {
	return rowByPathID[store.AlertChannel](s, c, "alert channel")
}

// alertChannelChanges are the changes of an alert channel (absent: unchanged).
type alertChannelChanges struct {
	Name       *string   `json:"name"`
	Target     *string   `json:"target"`
	AlertTypes *[]string `json:"alert_types"`
	Enabled    *bool     `json:"enabled"`
}

func (s *Server) updateAlertChannel(c *gin.Context, in alertChannelChanges) (alertChannelAnswer, error) {
	ch, err := s.channelByID(c)
	if err != nil {
		return alertChannelAnswer{}, err
	}
	before := viewChannel(ch)
	if in.Name != nil {
		if auth.HasControl(*in.Name) {
			return alertChannelAnswer{}, apperr.New(apperr.Invalid, "name must not contain control characters")
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
	if in.Target != nil || (in.Enabled != nil && *in.Enabled) {
		joined, err = s.checkChannel(ch.Kind, ch.Target, types)
	} else {
		// Renaming, retyping or pausing needs no SMTP settings.
		joined, err = checkTypes(types, alerts.KnownType)
	}
	if err != nil {
		return alertChannelAnswer{}, apperr.New(apperr.Invalid, "%s", err.Error())
	}
	ch.AlertTypes = joined
	if in.Enabled != nil {
		ch.Enabled = *in.Enabled
	}
	ch.UpdatedAt = s.Now().UTC()
	if err := s.Store.SaveAlertChannel(c.Request.Context(), ch); err != nil {
		return alertChannelAnswer{}, err
	}
	s.audit(c, currentUser(c), "alert_channel.update", "alert_channel", ch.ID, before, viewChannel(ch))
	return alertChannelAnswer{Channel: viewChannel(ch)}, nil
}

func (s *Server) deleteAlertChannel(c *gin.Context) (NoContent, error) {
	ch, err := s.channelByID(c)
	if err != nil {
		return NoContent{}, err
	}
	if err := s.Store.DeleteAlertChannel(c.Request.Context(), ch.ID); err != nil {
		return NoContent{}, err
	}
	s.audit(c, currentUser(c), "alert_channel.delete", "alert_channel", ch.ID, viewChannel(ch), nil)
	return NoContent{}, nil
}

// alertChannelTested says the test alert went out.
type alertChannelTested struct {
	Sent bool `json:"sent"`
}

func (s *Server) testAlertChannel(c *gin.Context) (alertChannelTested, error) {
	ch, err := s.channelByID(c)
	if err != nil {
		return alertChannelTested{}, err
	}
	if s.Alerts == nil {
		return alertChannelTested{}, apperr.New(apperr.Unavailable, "alerts are not running on this instance")
	}
	if err := s.Alerts.SendTest(c.Request.Context(), ch); err != nil {
		s.Log.Warn("test alert failed", "request_id", requestID(c), "channel", ch.ID, "err", err)
		return alertChannelTested{}, apperr.New(apperr.DeliveryFailed, "the test alert was not delivered: %s", err.Error())
	}
	return alertChannelTested{Sent: true}, nil
}

// alertsQuery bounds the list of alerts.
type alertsQuery struct {
	Limit int `form:"limit"`
}

func (s *Server) listAlerts(c *gin.Context) (list[store.Alert], error) {
	p := params{c: c}
	limit := p.intRange("limit", 50, 1, 500)
	if p.err != nil {
		return list[store.Alert]{}, p.err
	}
	as, err := s.Store.ListAlerts(c.Request.Context(), limit)
	if err != nil {
		return list[store.Alert]{}, err
	}
	return list[store.Alert]{Items: as}, nil
}
