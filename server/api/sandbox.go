package api

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
)

// The sandbox's buyer pages: a person acts as an AWS buyer. Their browser
// goes through the same registration POST AWS would send, and the
// simulated AWS puts the same notifications on the SQS queue that AWS would.

var sandboxAWSPage = page("Sandbox: AWS buyer", `<h1>Sandbox: buy on AWS Marketplace</h1>
<p>Act as an AWS buyer. Subscribing sends your browser to this seller's registration URL with a fresh token, exactly as
AWS Marketplace does, and AWS's confirmation arrives on the notification queue.</p>
{{range .Offers}}<form method="post" action="/sandbox/aws/subscribe" style="margin:1em 0">
<input type="hidden" name="offer" value="{{.ID}}"><strong>{{.Name}}</strong> <span class="muted">{{.MarketplaceID}} · {{.IdentityModel}}</span><br>
<button type="submit" name="trial" value="false">Subscribe</button> <button type="submit" name="trial" value="true">Start a free trial</button>
</form>{{else}}<p>No AWS offers yet.</p>{{end}}
<h2>Recent AWS subscriptions</h2>
{{range .Subs}}<form method="post" action="/sandbox/aws/notify" style="margin:.6em 0">
<input type="hidden" name="subscription" value="{{.ID}}">#{{.ID}} {{.CustomerName}} · {{.OfferName}} · <strong>{{.State}}</strong><br>
<button type="submit" name="action" value="subscribe-success">Confirm (subscribe-success)</button>
<button type="submit" name="action" value="subscribe-fail">Payment fails</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>{{else}}<p class="muted">None yet.</p>{{end}}`)

var autoPostPage = page("Redirecting", `<h1>Redirecting to the seller…</h1>
<form id="f" method="post" action="/marketplace/aws/register">
<input type="hidden" name="x-amzn-marketplace-token" value="{{.Token}}">
{{if .Trial}}<input type="hidden" name="x-amzn-marketplace-offer-type" value="free-trial">{{end}}
<noscript><button type="submit">Continue</button></noscript></form>
<script>document.getElementById('f').submit()</script>`)

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
	s.renderPage(c, http.StatusOK, sandboxAWSPage, map[string]any{"Offers": aws, "Subs": subs.Items})
}

// sandboxNotify puts a notification on the sandbox queue, as AWS would; it
// reports false when AWS has no such notification for this identity model.
func (s *Server) sandboxNotify(id awsfake.Identity, action string, freeTrial bool) bool {
	now := s.Now()
	var body string
	if id.LicenseArn != "" {
		switch action {
		case "subscribe-success":
			body = awsfake.LicenseEvent("License Updated", id, now)
		case "unsubscribe-pending":
			body = awsfake.LicenseEvent("License Deprovisioned", id, now)
		default:
			return false // no EventBridge event carries this for a license
		}
	} else {
		body = awsfake.SNSNotification(action, id, freeTrial, now)
	}
	s.Sandbox.AWSSQS.Send(s.Sandbox.AWSQueueURL, body)
	return true
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
	s.sandboxEntitle(c, &offer, ident, 10)
	token := s.Sandbox.AWSMetering.IssueToken(ident)
	s.sandboxNotify(ident, "subscribe-success", trial)
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
	switch c.PostForm("action") {
	case "subscribe-success":
		if sub.Offer != nil {
			s.sandboxEntitle(c, sub.Offer, ident, max(sub.Quantity, 1))
		}
		s.sandboxNotify(ident, "subscribe-success", sub.FreeTrial)
	case "subscribe-fail":
		if !s.sandboxNotify(ident, "subscribe-fail", sub.FreeTrial) {
			s.problem(c, http.StatusBadRequest, "No such AWS event",
				"AWS sends no payment-failure event that names a license (concurrent-agreement products).", "/sandbox/aws", "Back")
			return
		}
	case "cancel":
		s.sandboxNotify(ident, "unsubscribe-pending", false)
		if ident.LicenseArn == "" {
			// AWS completes the cancellation about an hour later; the sandbox
			// sends it at once, dated a second after.
			body := awsfake.SNSNotification("unsubscribe-success", ident, false, s.Now().Add(time.Second))
			s.Sandbox.AWSSQS.Send(s.Sandbox.AWSQueueURL, body)
		}
	default:
		s.problem(c, http.StatusBadRequest, "Unknown action", "Choose an action on the sandbox page.", "/sandbox/aws", "Back")
		return
	}
	c.Redirect(http.StatusSeeOther, "/sandbox/aws")
}

// sandboxEntitle gives a contract buyer a year of the offer's first plan:
// its dimensions at the quantity, as AWS would after a contract purchase.
func (s *Server) sandboxEntitle(c *gin.Context, offer *store.Offer, ident awsfake.Identity, quantity int) {
	if !offer.Contract {
		return
	}
	var plan store.Plan
	if err := s.Store.R.WithContext(c.Request.Context()).Where("offer_id = ?", offer.ID).Order("id").First(&plan).Error; err != nil {
		return
	}
	var dims []struct{ Key string }
	_ = json.Unmarshal([]byte(plan.Dimensions), &dims)
	var ents []awsfake.Entitlement
	for _, d := range dims {
		ents = append(ents, awsfake.Entitlement{Dimension: d.Key, Value: int32(quantity), Expiration: s.Now().AddDate(1, 0, 0)})
	}
	s.Sandbox.AWSEntitlements.Set(ident, ents...)
}
