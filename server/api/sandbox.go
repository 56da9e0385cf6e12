package api

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
)

// The sandbox's buyer pages: a person acts as an AWS buyer. Their browser
// goes through the same registration POST AWS would send, and the
// simulated AWS puts the same notifications on the SQS queue that AWS would.

var sandboxAWSPage = page("Sandbox: AWS buyer", `<h1>Sandbox: buy on AWS Marketplace</h1>
<p>Act as an AWS buyer. Subscribing sends your browser to this seller's registration URL with a fresh token, exactly as
AWS Marketplace does, and AWS's confirmation arrives on the notification queue.</p>
{{range .Offers}}<form method="post" action="/sandbox/aws/subscribe" class="sandbox-item">
<input type="hidden" name="offer" value="{{.ID}}"><strong>{{.Name}}</strong> <span class="muted">{{.MarketplaceID}} · {{.IdentityModel}}</span><br>
<button type="submit" name="trial" value="false">Subscribe</button> <button type="submit" name="trial" value="true">Start a free trial</button>
</form>{{else}}<p>No AWS offers yet.</p>{{end}}
<h2>Recent AWS subscriptions</h2>
{{range .Subs}}<form method="post" action="/sandbox/aws/notify" class="sandbox-sub">
<input type="hidden" name="subscription" value="{{.ID}}">#{{.ID}} {{.CustomerName}} · {{.OfferName}} · <strong>{{.State}}</strong>{{if .Contract}} · contract{{end}}<br>
<button type="submit" name="action" value="subscribe-success">Confirm (subscribe-success)</button>
{{if not .License}}<button type="submit" name="action" value="subscribe-fail">Payment fails</button>{{end}}
<button type="submit" name="action" value="cancel">Cancel</button>
{{if .Contract}}<button type="submit" name="action" value="upgrade">Upgrade contract (+10)</button>
<button type="submit" name="action" value="expire">Let the contract expire</button>{{end}}
</form>{{else}}<p class="muted">None yet.</p>{{end}}
<p class="muted">Legacy products get SNS notifications (subscription and entitlement topics); concurrent-agreement
products get EventBridge events (Purchase Agreement Created, Amended and Ended; License Updated and Deprovisioned).</p>`)

var autoPostPage = page("Redirecting", `<h1>Redirecting to the seller…</h1>
<form id="f" method="post" action="/marketplace/aws/register">
<input type="hidden" name="x-amzn-marketplace-token" value="{{.Token}}">
{{if .Trial}}<input type="hidden" name="x-amzn-marketplace-offer-type" value="free-trial">{{end}}
<noscript><button type="submit">Continue</button></noscript></form>
<script src="/page-assets/autosubmit.js"></script>`)

func (s *Server) sandboxAWS(c *gin.Context) {
	ctx := c.Request.Context()
	offers, err := s.Store.ListOffers(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	var aws []store.Offer
	for _, o := range offers {
		if o.Marketplace == "aws" {
			aws = append(aws, o)
		}
	}
	subs, err := s.Store.ListSubscriptions(ctx, store.SubscriptionFilter{Marketplaces: []string{"aws"}, Limit: 15,
		Sort: []store.SortField{{Field: "updated_at", Desc: true}}})
	if err != nil {
		s.fail(c, err)
		return
	}
	contract := map[uint]bool{}
	for _, o := range aws {
		contract[o.ID] = o.Contract
	}
	type row struct {
		store.SubscriptionRow
		Contract, License bool
	}
	rows := make([]row, 0, len(subs.Items))
	for _, it := range subs.Items {
		r := row{SubscriptionRow: it, License: it.AWSLicenseArn != ""}
		if it.OfferID != nil {
			r.Contract = contract[*it.OfferID]
		}
		rows = append(rows, r)
	}
	s.renderPage(c, http.StatusOK, sandboxAWSPage, map[string]any{"Offers": aws, "Subs": rows})
}

// SandboxCancelDelay is how long the simulated AWS takes to complete a
// cancellation (AWS: about an hour), leaving time for the final usage.
var SandboxCancelDelay = 5 * time.Second

// sandboxSend puts a body on the sandbox queue, as AWS would.
func (s *Server) sandboxSend(body string) {
	s.Sandbox.AWSSQS.Send(s.Sandbox.AWSQueueURL, body)
}

// sandboxAgreement returns the running agreement of a concurrent-agreements
// subscription; for one the sandbox never sold (seeded data) it makes one
// up and links it with a License Updated, as AWS's first event would.
func (s *Server) sandboxAgreement(c *gin.Context, sub *store.Subscription, id awsfake.Identity) string {
	var ag store.AWSAgreement
	s.Store.R.WithContext(c.Request.Context()).Where("subscription_id = ? AND ended_at IS NULL", sub.ID).Order("id DESC").Limit(1).Find(&ag)
	if ag.AgreementID != "" {
		return ag.AgreementID
	}
	agreement := "agmt-" + strings.ToLower(auth.RandomToken(12))
	s.sandboxSend(awsfake.LicenseEvent("License Updated", id, agreement, s.Now()))
	return agreement
}

func (s *Server) sandboxAWSSubscribe(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
		return
	}
	id, err := strconv.ParseUint(c.PostForm("offer"), 10, 32)
	var offer store.Offer
	if err == nil {
		err = s.Store.R.WithContext(c.Request.Context()).Where("id = ? AND marketplace = 'aws'", id).First(&offer).Error
	}
	if err != nil {
		s.problem(c, http.StatusBadRequest, "Unknown offer", "Choose an offer on the sandbox page.", "/sandbox/aws", "Back")
		return
	}
	ident := awsfake.Identity{ProductCode: offer.MarketplaceID}
	if offer.IdentityModel == "concurrent_agreements" {
		n, _ := rand.Int(rand.Reader, big.NewInt(1e12))
		ident.CustomerAWSAccountID = fmt.Sprintf("%012d", n.Int64())
		ident.LicenseArn = fmt.Sprintf("arn:aws:license-manager::%s:license:l-%s", ident.CustomerAWSAccountID, auth.RandomToken(12))
	} else {
		ident.CustomerIdentifier = "SBX" + auth.RandomToken(6)
	}
	trial := c.PostForm("trial") == "true"
	s.sandboxEntitle(c, &offer, ident, 10, s.Now().AddDate(1, 0, 0))
	token := s.Sandbox.AWSMetering.IssueToken(ident)
	now := s.Now()
	if ident.LicenseArn != "" {
		agreement := "agmt-" + strings.ToLower(auth.RandomToken(12))
		ev := awsfake.AgreementEvent{DetailType: awsmp.AgreementCreated, Identity: ident, AgreementID: agreement, Intent: "NEW",
			Status: "ACTIVE", Start: now, OfferID: "offer-sandbox-" + offer.MarketplaceID}
		if offer.Contract {
			ev.End = now.AddDate(1, 0, 0)
		}
		s.sandboxSend(ev.Body(now))
		s.sandboxSend(awsfake.LicenseEvent("License Updated", ident, agreement, now))
	} else {
		s.sandboxSend(awsfake.SNSNotification("subscribe-success", ident, trial, now))
		if offer.Contract {
			s.sandboxSend(awsfake.SNSNotification("entitlement-updated", ident, false, now))
		}
	}
	s.renderPage(c, http.StatusOK, autoPostPage, map[string]any{"Token": token, "Trial": trial})
}

func (s *Server) sandboxAWSNotify(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
		return
	}
	id, _ := strconv.ParseUint(c.PostForm("subscription"), 10, 32)
	sub, err := s.Store.GetSubscription(c.Request.Context(), uint(id))
	if err != nil || sub.Marketplace != "aws" {
		s.problem(c, http.StatusBadRequest, "Unknown subscription", "Choose a subscription on the sandbox page.", "/sandbox/aws", "Back")
		return
	}
	ident := awsfake.Identity{CustomerAWSAccountID: sub.AWSCustomerAccountID, LicenseArn: sub.AWSLicenseArn,
		CustomerIdentifier: sub.AWSCustomerIdentifier, ProductCode: sub.AWSProductCode}
	contract := sub.Offer != nil && sub.Offer.Contract
	license := ident.LicenseArn != ""
	now := s.Now()
	back := func(title, text string) {
		s.problem(c, http.StatusBadRequest, title, text, "/sandbox/aws", "Back")
	}
	action := c.PostForm("action")
	switch action {
	case "subscribe-success":
		s.Sandbox.AWSMetering.Subscribe(ident)
		if contract {
			s.sandboxEntitle(c, sub.Offer, ident, max(sub.Quantity, 1), now.AddDate(1, 0, 0))
		}
		if license {
			s.sandboxSend(awsfake.LicenseEvent("License Updated", ident, s.sandboxAgreement(c, sub, ident), now))
		} else {
			s.sandboxSend(awsfake.SNSNotification("subscribe-success", ident, sub.FreeTrial, now))
		}
	case "subscribe-fail":
		if license {
			back("No such AWS event", "AWS sends no payment-failure event that names a license (concurrent-agreement products).")
			return
		}
		s.sandboxSend(awsfake.SNSNotification("subscribe-fail", ident, sub.FreeTrial, now))
	case "cancel":
		// AWS completes a cancellation about an hour later, after the
		// seller's final usage; the sandbox does so after SandboxCancelDelay.
		var final string
		if license {
			agreement := s.sandboxAgreement(c, sub, ident)
			s.sandboxSend(awsfake.LicenseEvent("License Deprovisioned", ident, agreement, now))
			final = awsfake.AgreementEvent{DetailType: awsmp.AgreementEnded, Identity: ident, AgreementID: agreement, Status: "CANCELLED"}.Body(now.Add(SandboxCancelDelay))
		} else {
			s.sandboxSend(awsfake.SNSNotification("unsubscribe-pending", ident, false, now))
			final = awsfake.SNSNotification("unsubscribe-success", ident, false, now.Add(SandboxCancelDelay))
		}
		time.AfterFunc(SandboxCancelDelay, func() {
			s.Sandbox.AWSMetering.Unsubscribe(ident)
			s.sandboxSend(final)
		})
	case "upgrade", "expire":
		if !contract {
			back("Not a contract", "Only contract subscriptions have entitlements to upgrade or expire.")
			return
		}
		if action == "upgrade" {
			s.sandboxEntitle(c, sub.Offer, ident, s.sandboxEntitled(c, sub)+10, now.AddDate(1, 0, 0))
		} else {
			s.sandboxEntitle(c, sub.Offer, ident, s.sandboxEntitled(c, sub), now.Add(-time.Minute))
		}
		switch {
		case !license:
			s.sandboxSend(awsfake.SNSNotification("entitlement-updated", ident, false, now))
		case action == "upgrade":
			s.sandboxSend(awsfake.AgreementEvent{DetailType: awsmp.AgreementAmended, Identity: ident,
				AgreementID: s.sandboxAgreement(c, sub, ident), Intent: "AMEND", Status: "ACTIVE"}.Body(now))
		default:
			s.sandboxSend(awsfake.AgreementEvent{DetailType: awsmp.AgreementEnded, Identity: ident,
				AgreementID: s.sandboxAgreement(c, sub, ident), Status: "EXPIRED"}.Body(now))
		}
	default:
		back("Unknown action", "Choose an action on the sandbox page.")
		return
	}
	c.Redirect(http.StatusSeeOther, "/sandbox/aws")
}

// sandboxEntitled is the largest integer entitlement a subscription holds
// (the sandbox grants every dimension the same value).
func (s *Server) sandboxEntitled(c *gin.Context, sub *store.Subscription) int {
	var v []int64
	s.Store.R.WithContext(c.Request.Context()).Model(&store.Entitlement{}).Where("subscription_id = ? AND integer_value IS NOT NULL", sub.ID).
		Order("integer_value DESC").Limit(1).Pluck("integer_value", &v)
	if len(v) == 0 {
		return max(sub.Quantity, 1)
	}
	return int(v[0])
}

// sandboxEntitle gives a contract buyer the offer's first plan until
// expires: its dimensions at the quantity, as AWS would after a contract
// purchase, upgrade or expiry.
func (s *Server) sandboxEntitle(c *gin.Context, offer *store.Offer, ident awsfake.Identity, quantity int, expires time.Time) {
	if !offer.Contract {
		return
	}
	var plan store.Plan
	if err := s.Store.R.WithContext(c.Request.Context()).Where("offer_id = ?", offer.ID).Order("id").First(&plan).Error; err != nil {
		return
	}
	var ents []awsfake.Entitlement
	for _, d := range plan.DimensionList() {
		ents = append(ents, awsfake.Entitlement{Dimension: d.Key, Value: int32(quantity), Expiration: expires})
	}
	s.Sandbox.AWSEntitlements.Set(ident, ents...)
}
