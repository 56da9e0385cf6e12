// Package alerts tells the seller's team when something needs a person:
// by e-mail (SMTP) or through a Slack- or Teams-compatible incoming
// webhook. Alerts are rows keyed by type and subject; repeats add to the
// count instead of raising new ones, and each channel hears of an alert at
// once, then at most once per window with the number of repeats — no
// alert storms.
package alerts

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/marketgate/marketgate/server/netguard"
	"github.com/marketgate/marketgate/server/views"
	"github.com/marketgate/marketgate/store"
)

// Alert types.
const (
	MarketplaceFailing = "marketplace_failing"
	MeteringExpiring   = "metering_expiring"
	MeteringRejected   = "metering_rejected"
	InboxFailed        = "inbox_failed"
	WebhookDisabled    = "webhook_disabled"
	ApprovalWaiting    = "approval_waiting"
	AgreementEnding    = "agreement_ending"
	RenewalUpcoming    = "renewal_upcoming"
	AgreementAdvisory  = "agreement_advisory"
	DisbursementPaused = "disbursement_paused"
	ChangeRequested    = "change_requested"
	AutoRenewalOff     = "auto_renewal_off"

	AgreementRequest = "agreement_request" // a refund, cancellation or payment request on an AWS agreement reached its outcome
	SecretExpiring   = "azure_secret_expiring"
)

// Types lists the alert types a channel may choose.
var Types = []views.EventType{
	{Type: MarketplaceFailing, Description: "calls to a marketplace keep failing (metering records retried again and again)"},
	{Type: MeteringExpiring, Description: "metering records are close to the end of the marketplace's 24-hour window"},
	{Type: MeteringRejected, Description: "a marketplace refused metering records, or holds another quantity for their hour"},
	{Type: InboxFailed, Description: "an inbound marketplace message failed to apply"},
	{Type: WebhookDisabled, Description: "an outbound webhook endpoint kept failing and was disabled"},
	{Type: ApprovalWaiting, Description: "a subscription waits for the seller's approval"},
	{Type: AgreementEnding, Description: "AWS: an agreement ends in 180, 120, 90, 60 or 30 days"},
	{Type: RenewalUpcoming, Description: "AWS: an agreement is about to renew"},
	{Type: AgreementAdvisory, Description: "AWS issued an advisory on an agreement"},
	{Type: DisbursementPaused, Description: "AWS paused disbursements (payments to you) for an agreement"},
	{Type: AutoRenewalOff, Description: "AWS: auto-renewal of an agreement was turned off (by the buyer or the seller)"},

	{Type: AgreementRequest, Description: "AWS: a refund, cancellation request or payment request reached its outcome (completed, approved, rejected, failed)"},
	{Type: ChangeRequested, Description: "a customer admin asked for a plan, seat or unsubscribe change that needs your approval"},
	{Type: SecretExpiring, Description: "Microsoft: the app's client secret expires in 30, 7 or 1 days (or has expired)"},
}

// KnownType reports whether t is an alert type.
func KnownType(t string) bool {
	return views.HasType(Types, t)
}

func wants(types, t string) bool {
	for _, x := range strings.Split(types, ",") {
		if x = strings.TrimSpace(x); x == t || x == "*" {
			return true
		}
	}
	return false
}

// SMTP is how e-mail alerts are sent.
type SMTP struct {
	Addr     string // host:port
	Username string
	Password string
	From     string
	// RootCAs: the certificates a STARTTLS server's chain must lead to
	// (nil: the system's; tests set their own).
	RootCAs *x509.CertPool
}

// Service raises alerts and sends them.
type Service struct {
	Store *store.Store
	Log   *slog.Logger
	SMTP  *SMTP        // nil: e-mail alerts are not available
	HTTP  *http.Client // for incoming webhooks (nil: Policy's client, 10 s timeout, no redirects)
	// Policy says which addresses Slack and Teams targets may have
	// (default: public ones only).
	Policy  netguard.Policy
	BaseURL string // links in alerts
	// Window: after the first notice, a channel hears of an alert's repeats
	// at most once per window (default 1 h).
	Window time.Duration
}

func (s *Service) window() time.Duration {
	if s.Window > 0 {
		return s.Window
	}
	return time.Hour
}

func (s *Service) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return s.Policy.Client(10 * time.Second)
}

// Raise records n occurrences of an alert (type and key identify it).
func (s *Service) Raise(ctx context.Context, typ, key, title, detail, link string, n int) error {
	if n <= 0 {
		return nil
	}
	return s.Store.RaiseAlert(ctx, typ, key, title, detail, link, n, s.Store.Now())
}

// Notify sends what each enabled channel has not heard yet: a new alert at
// once, repeats of a known one at most once per window. It returns how
// many messages it sent.
func (s *Service) Notify(ctx context.Context) (int, error) {
	now := s.Store.Now()
	chans, err := s.Store.EnabledAlertChannels(ctx)
	if err != nil || len(chans) == 0 {
		return 0, err
	}
	recent, err := s.Store.AlertsSince(ctx, now.Add(-7*24*time.Hour))
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, ch := range chans {
		for _, a := range recent {
			if !wants(ch.AlertTypes, a.Type) {
				continue
			}
			ok, err := s.notify(ctx, now, &ch, &a)
			if ok {
				sent++
			}
			if err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}

// notify tells one channel of one alert unless it heard of it recently or
// is backing off; it reports whether a message was sent. A failed send is
// recorded for the next attempt, not returned.
func (s *Service) notify(ctx context.Context, now time.Time, ch *store.AlertChannel, a *store.Alert) (bool, error) {
	n, err := s.Store.AlertNoticeOf(ctx, a.ID, ch.ID)
	if err != nil {
		return false, err
	}
	if n.NextAttemptAt != nil && n.NextAttemptAt.After(now) {
		return false, nil // backing off after a failed send
	}
	first := n.NotifiedAt == nil
	if !first && (a.Count <= n.NotifiedCount || now.Sub(*n.NotifiedAt) < s.window()) {
		return false, nil // nothing new, or told recently: coalesce
	}
	subject, text := s.message(a, n.NotifiedCount)
	if serr := s.send(ctx, ch, subject, text, s.link(a.Link)); serr != nil {
		next := now.Add(time.Duration(min(1<<min(n.Attempts, 6), 60)) * time.Minute)
		_ = s.Store.AlertChannelFailed(ctx, ch.ID, serr.Error())
		if s.Log != nil {
			s.Log.Warn("alert not sent", "channel", ch.ID, "kind", ch.Kind, "err", serr)
		}
		return false, s.Store.AlertNoticeFailed(ctx, n, n.Attempts+1, next, serr.Error())
	}
	_ = s.Store.AlertChannelSent(ctx, ch.ID, now)
	return true, s.Store.AlertNoticeSent(ctx, n, now, a.Count)
}

func (s *Service) link(l string) string {
	if l == "" || strings.HasPrefix(l, "http") {
		return l
	}
	return strings.TrimRight(s.BaseURL, "/") + l
}

// message is an alert's subject and text; told says how many occurrences
// the channel already heard of.
func (s *Service) message(a *store.Alert, told int) (string, string) {
	subject := "[Marketgate] " + a.Title
	var b strings.Builder
	b.WriteString(a.Title)
	if a.Detail != "" {
		b.WriteString("\n" + a.Detail)
	}
	if told > 0 {
		fmt.Fprintf(&b, "\nSeen %d more times since the last notice (%d in all since %s).", a.Count-told, a.Count, a.FirstAt.UTC().Format(time.RFC1123))
	} else if a.Count > 1 {
		fmt.Fprintf(&b, "\nSeen %d times since %s.", a.Count, a.FirstAt.UTC().Format(time.RFC1123))
	}
	return subject, b.String()
}

// ErrNoSMTP: e-mail alerts need SMTP settings.
var ErrNoSMTP = errors.New("e-mail alerts need SMTP settings (MARKETGATE_SMTP_ADDR and MARKETGATE_SMTP_FROM)")

// SendTest sends a test message to a channel.
func (s *Service) SendTest(ctx context.Context, ch *store.AlertChannel) error {
	err := s.send(ctx, ch, "[Marketgate] Test alert", "This is a test alert from Marketgate. Alerts for this channel will look like this.", s.link("/alerts"))
	if err != nil {
		_ = s.Store.AlertChannelFailed(ctx, ch.ID, err.Error())
	} else {
		_ = s.Store.AlertChannelSent(ctx, ch.ID, s.Store.Now())
	}
	return err
}

func (s *Service) send(ctx context.Context, ch *store.AlertChannel, subject, text, link string) error {
	switch ch.Kind {
	case "email":
		return s.sendMail(ctx, ch.Target, subject, text, link)
	case "slack":
		body := map[string]any{"text": text + linkLine(link)}
		return s.post(ctx, ch.Target, body)
	case "teams":
		card := map[string]any{"@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": subject,
			"title": subject, "text": strings.ReplaceAll(text, "\n", "\n\n") + linkLine(link)}
		return s.post(ctx, ch.Target, card)
	}
	return fmt.Errorf("unknown channel kind %q", ch.Kind)
}

func linkLine(link string) string {
	if link == "" {
		return ""
	}
	return "\n" + link
}

func (s *Service) post(ctx context.Context, target string, body any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client().Do(req)
	if err != nil {
		if netguard.Refused(err) {
			return errors.New("incoming webhook: its address is not allowed (loopback, private, link-local or reserved)")
		}
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			return errors.New("incoming webhook: no answer in time")
		}
		return errors.New("incoming webhook: could not connect")
	}
	defer res.Body.Close()
	// The answer's text is not shown (an admin could read other servers'
	// pages through it); a little goes to the log.
	excerpt, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		if s.Log != nil {
			s.Log.Warn("incoming webhook refused the alert", "status", res.StatusCode, "answer", strings.TrimSpace(string(excerpt)))
		}
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			return fmt.Errorf("incoming webhook answered HTTP %d (a redirect, not followed)", res.StatusCode)
		}
		return fmt.Errorf("incoming webhook answered HTTP %d", res.StatusCode)
	}
	return nil
}

// SendMail sends one plain-text e-mail with the SMTP settings (ErrNoSMTP
// without them): the beneficiary's invitation after a Microsoft purchase and
// the e-mail verification links.
func (s *Service) SendMail(ctx context.Context, to, subject, text string) error {
	return s.sendMail(ctx, to, subject, text, "")
}

func (s *Service) sendMail(ctx context.Context, to, subject, text, link string) error {
	if s.SMTP == nil || s.SMTP.Addr == "" || s.SMTP.From == "" {
		return ErrNoSMTP
	}
	c, err := s.SMTP.client()
	if err != nil {
		return err
	}
	m := gomail.NewMsg(gomail.WithEncoding(gomail.NoEncoding), gomail.WithCharset(gomail.CharsetUTF8), gomail.WithNoDefaultUserAgent())
	if err := m.From(s.SMTP.From); err != nil {
		return fmt.Errorf("SMTP sender: %w", err)
	}
	if err := m.To(to); err != nil {
		return fmt.Errorf("SMTP recipient: %w", err)
	}
	m.Subject(subject)
	m.SetDate()
	m.SetMessageID()
	m.SetGenHeader(gomail.HeaderXMailer, "Marketgate")
	m.SetBodyString(gomail.TypeTextPlain, text+linkLine(link)+"\n")
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("SMTP: %w", err)
	}
	return nil
}

// client is a mail client for these settings, with net/smtp's former
// behaviour: STARTTLS when the server offers it (its certificate checked
// against the host name), PLAIN authentication when a user name is set,
// which sends the password only over TLS or to a server on this machine.
func (m *SMTP) client() (*gomail.Client, error) {
	host, port, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return nil, fmt.Errorf("SMTP address: %w", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("SMTP address: port %q", port)
	}
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if m.RootCAs != nil {
		tc.RootCAs = m.RootCAs
	}
	opts := []gomail.Option{gomail.WithPort(p), gomail.WithTLSPolicy(gomail.TLSOpportunistic), gomail.WithTLSConfig(tc),
		gomail.WithTimeout(30 * time.Second), gomail.WithHELO("localhost")}
	if m.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(m.Username), gomail.WithPassword(m.Password))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("SMTP: %w", err)
	}
	return c, nil
}

// ValidTarget checks a channel's target for its kind.
func ValidTarget(kind, target string) error {
	switch kind {
	case "email":
		a, err := mail.ParseAddress(target)
		if err != nil || a.Address != target {
			return errors.New("target must be an e-mail address")
		}
	case "slack", "teams":
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("target must be the incoming webhook's http(s) URL")
		}
	default:
		return errors.New("kind must be email, slack or teams")
	}
	return nil
}
