package console

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/api"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/awsmp"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
)

// The sandbox's buyer pages: a person acts as an AWS buyer. Their browser
// goes through the same registration POST AWS would send, and the
// simulated AWS puts the same notifications on the SQS queue that AWS would.

var sandboxAWSPage = api.NewPage("Sandbox: AWS buyer", `<h1>Sandbox: buy on AWS Marketplace</h1>
<p>Act as an AWS buyer. Subscribing sends your browser to this seller's registration URL with a fresh token, exactly as
AWS Marketplace does, and AWS's notifications arrive on the notification queue: SNS messages (subscription and
entitlement topics) for legacy products, EventBridge events for concurrent-agreement products. Contracts hold
entitlements that GetEntitlements answers; a contract with consumption also meters its usage dimensions.</p>
{{range .Offers}}<form method="post" action="/sandbox/aws/subscribe" class="sandbox-item">
<input type="hidden" name="offer" value="{{.ID}}"><strong>{{.Name}}</strong>
<span class="muted">{{.MarketplaceID}} · {{.Model}} · {{.Kind}}</span><br>
{{if .Contract}}<label>Contract tier <select name="plan">{{range .Tiers}}<option value="{{.PlanID}}">{{.Name}}{{if .Consumption}} (contract with consumption){{end}}</option>{{end}}</select></label>
<label>units <input name="units" type="number" min="1" max="100000" value="10" class="narrow"></label><br>{{end}}
<button type="submit" name="trial" value="false">Subscribe</button>{{if not .Contract}} <button type="submit" name="trial" value="true">Start a free trial</button>{{end}}
</form>{{else}}<p>No AWS offers yet.</p>{{end}}
<h2>Recent AWS subscriptions</h2>
<p><a href="/sandbox/aws/agreement-requests">Answer the seller's cancellation and payment requests (as the buyer)</a></p>
{{range .Subs}}<form method="post" action="/sandbox/aws/notify" class="sandbox-sub">
<input type="hidden" name="subscription" value="{{.ID}}">#{{.ID}} {{.CustomerName}} · {{.OfferName}} · <strong>{{.State}}</strong>{{if .Contract}} · contract{{end}}<br>
<button type="submit" name="action" value="subscribe-success">Confirm (subscribe-success)</button>
{{if not .CA}}<button type="submit" name="action" value="subscribe-fail">Payment fails</button>{{end}}
<button type="submit" name="action" value="cancel">Cancel</button>
{{if .Contract}}<button type="submit" name="action" value="upgrade">Upgrade contract (+10)</button>
<button type="submit" name="action" value="expire">Let the contract expire</button>
<button type="submit" name="action" value="renew">Renew the contract</button>{{end}}
{{if .CA}}<br><select name="event" aria-label="Agreement event">{{range $.Notices}}<option>{{.}}</option>{{end}}</select>
<button type="submit" name="action" value="agreement-event">Send this agreement event</button>
<br><select name="days" aria-label="Days before the end">{{range $.EndingDays}}<option value="{{.}}">{{.}} days</option>{{end}}</select>
<button type="submit" name="action" value="advance-ending">Advance to that many days before the end</button>
<button type="submit" name="action" value="auto-renew-off">Turn auto-renew off (by the buyer)</button>{{end}}
</form>{{else}}<p class="muted">None yet.</p>{{end}}
<p class="muted">Legacy products get SNS notifications (subscription and entitlement topics); concurrent-agreement
products get EventBridge events (Purchase Agreement Created, Amended and Ended; License Updated and Deprovisioned), and
can be sent any of the agreement events that change no state (ending, renewal, cancellation request, billing adjustment,
advisory, disbursement paused).</p>
<p class="muted">Cancelling takes the simulated AWS a few seconds (AWS: about an hour, for the final usage): then the
cancellation completes, a contract's entitlements end, and metering for the buyer is refused (CustomerNotSubscribed).</p>`)

var autoPostPage = api.NewPage("Redirecting", `<h1>Redirecting to the seller…</h1>
<form id="f" method="post" action="/marketplace/aws/register">
<input type="hidden" name="x-amzn-marketplace-token" value="{{.Token}}">
{{if .Trial}}<input type="hidden" name="x-amzn-marketplace-offer-type" value="free-trial">{{end}}
<noscript><button type="submit">Continue</button></noscript></form>
<script src="/page-assets/autosubmit.js"></script>`)

// sandboxTier is a contract tier a buyer can choose: a plan and whether it
// also meters usage (a contract with consumption).
type sandboxTier struct {
	PlanID, Name string
	Consumption  bool
}

func (s *Console) sandboxAWS(c *gin.Context) {
	ctx := c.Request.Context()
	offers, err := s.Store.ListOffers(ctx)
	if err != nil {
		s.pages.Fail(c, err)
		return
	}
	type offerRow struct {
		store.Offer
		Model, Kind string
		Tiers       []sandboxTier
	}
	var aws []offerRow
	contract := map[uint]bool{}
	for _, o := range offers {
		if o.Marketplace != "aws" {
			continue
		}
		contract[o.ID] = o.Contract
		r := offerRow{Offer: o, Model: "legacy identity (SNS notifications)", Kind: "SaaS subscription"}
		if o.IdentityModel == "concurrent_agreements" {
			r.Model = "concurrent agreements (EventBridge events)"
		}
		if o.Contract {
			r.Kind = "contract"
			plans, err := s.Store.SandboxPlans(ctx, o.ID)
			if err != nil {
				s.pages.Fail(c, err)
				return
			}
			for _, p := range plans {
				t := sandboxTier{PlanID: p.PlanID, Name: p.Name}
				for _, d := range p.DimensionList() {
					t.Consumption = t.Consumption || d.Metered
				}
				if t.Consumption {
					r.Kind = "contract, contract with consumption"
				}
				r.Tiers = append(r.Tiers, t)
			}
		}
		aws = append(aws, r)
	}
	subs, err := s.Store.ListSubscriptions(ctx, store.SubscriptionFilter{Marketplaces: []string{"aws"}, Limit: 15, NoTotal: true,
		Sort: []store.SortField{{Field: "updated_at", Desc: true}}})
	if err != nil {
		s.pages.Fail(c, err)
		return
	}
	type row struct {
		store.SubscriptionRow
		Contract bool
		CA       bool // a concurrent-agreements buyer: EventBridge events, not SNS (awsfake.Identity.Legacy)
	}
	rows := make([]row, 0, len(subs.Items))
	for _, it := range subs.Items {
		r := row{SubscriptionRow: it, CA: !awsfake.Identity{CustomerIdentifier: it.AWSCustomerIdentifier}.Legacy()}
		if it.OfferID != nil {
			r.Contract = contract[*it.OfferID]
		}
		rows = append(rows, r)
	}
	notices := make([]string, 0, len(awsfake.SandboxNotices))
	for _, n := range awsfake.SandboxNotices {
		notices = append(notices, n.DetailType)
	}
	s.pages.RenderPage(c, http.StatusOK, sandboxAWSPage, map[string]any{"Offers": aws, "Subs": rows, "Notices": notices, "EndingDays": EndingDays})
}

// CancelDelay is how long the simulated AWS takes to complete a
// cancellation (AWS: about an hour), leaving time for the final usage.
var CancelDelay = 5 * time.Second

// sandboxSend puts a body on the sandbox queue, as AWS would.
func (s *Console) sandboxSend(body string) {
	s.AWSSQS.Send(s.AWSQueueURL, body)
}

// TrialDays is the free trial the sandbox's trial offers give.
const TrialDays = 14

// sandboxAgreement returns the running agreement of a concurrent-agreements
// subscription; for one the sandbox never sold (seeded data) it makes one
// up and links it with a License Updated, as AWS's first event would.
func (s *Console) sandboxAgreement(c *gin.Context, sub *store.Subscription, id awsfake.Identity) string {
	// the running agreement, else the last one (a renewal names it)
	ag, _ := s.Store.SandboxLatestAgreement(c.Request.Context(), sub.ID)
	if ag.AgreementID != "" {
		return ag.AgreementID
	}
	agreement := "agmt-" + strings.ToLower(auth.RandomToken(12))
	s.recordAgreement(agreement, id, "offer-sandbox-"+id.ProductCode, awsfake.DemoTerms(sub.CreatedAt, 0, sub.Offer != nil && sub.Offer.Contract, nil))
	s.sandboxSend(awsfake.LicenseEvent("License Updated", id, agreement, s.now()))
	return agreement
}

func (s *Console) sandboxAWSSubscribe(c *gin.Context) {
	if err := s.pages.CheckOrigin(c.Request); err != nil {
		s.pages.Problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
		return
	}
	id, err := strconv.ParseUint(c.PostForm("offer"), 10, 32)
	var offer *store.Offer
	if err == nil {
		offer, err = s.Store.SandboxOffer(c.Request.Context(), "aws", uint(id))
	}
	if err != nil {
		s.pages.Problem(c, http.StatusBadRequest, "Unknown offer", "Choose an offer on the sandbox page.", "/sandbox/aws", "Back")
		return
	}
	ident := awsfake.NewIdentity(offer.MarketplaceID, offer.IdentityModel == "concurrent_agreements")
	trial := c.PostForm("trial") == "true" && !offer.Contract
	now := s.now()
	if offer.Contract {
		units, err := strconv.Atoi(cmp.Or(c.PostForm("units"), "10"))
		grants := contractGrants(offer.Plans, c.PostForm("plan"), units, now.AddDate(1, 0, 0))
		if err != nil || units < 1 || units > 100000 || len(grants) == 0 {
			s.pages.Problem(c, http.StatusBadRequest, "Choose a contract tier", "Choose one of the offer's contract tiers and from 1 to 100,000 units.", "/sandbox/aws", "Back")
			return
		}
		s.AWSEntitlements.Set(ident, grants...)
	}
	agreement := "agmt-" + strings.ToLower(auth.RandomToken(12))
	if !ident.Legacy() && s.AWSAgreements != nil {
		// The terms the buyer accepted, as GetAgreementTerms answers them
		// (a free trial offer carries a FreeTrialPricingTerm of 5 to 31 days).
		days := 0
		if trial {
			days = TrialDays
		}
		units, _ := strconv.Atoi(cmp.Or(c.PostForm("units"), "10"))
		s.recordAgreement(agreement, ident, "offer-sandbox-"+offer.MarketplaceID,
			awsfake.DemoTerms(now, days, offer.Contract, agreementRates(offer, c.PostForm("plan"), units)))
	}
	token := s.AWSMetering.IssueToken(ident)
	for _, body := range awsfake.Purchase(ident, offer.Contract, trial, agreement, "offer-sandbox-"+offer.MarketplaceID, now) {
		s.sandboxSend(body)
	}
	s.pages.RenderPage(c, http.StatusOK, autoPostPage, map[string]any{"Token": token, "Trial": trial})
}

// contractGrants is what a contract buys: the chosen tier's contract
// dimensions at the units bought, until expires. A tier's metered
// dimensions are consumption, billed through BatchMeterUsage, not
// entitlements. The first tier when planID names none.
func contractGrants(plans []store.Plan, planID string, units int, expires time.Time) []awsfake.Entitlement {
	var plan *store.Plan
	for i := range plans {
		if plans[i].PlanID == planID || (plan == nil && planID == "") {
			plan = &plans[i]
		}
	}
	if plan == nil {
		return nil
	}
	var out []awsfake.Entitlement
	for _, d := range plan.DimensionList() {
		if !d.Metered {
			out = append(out, awsfake.Entitlement{Dimension: d.Key, Value: int32(units), Expiration: expires})
		}
	}
	return out
}

func (s *Console) sandboxAWSNotify(c *gin.Context) {
	if err := s.pages.CheckOrigin(c.Request); err != nil {
		s.pages.Problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
		return
	}
	id, _ := strconv.ParseUint(c.PostForm("subscription"), 10, 32)
	sub, err := s.Store.GetSubscription(c.Request.Context(), uint(id))
	if err != nil || sub.Marketplace != "aws" {
		s.pages.Problem(c, http.StatusBadRequest, "Unknown subscription", "Choose a subscription on the sandbox page.", "/sandbox/aws", "Back")
		return
	}
	ident := awsfake.Identity{CustomerAWSAccountID: sub.AWSCustomerAccountID, LicenseArn: sub.AWSLicenseArn,
		CustomerIdentifier: sub.AWSCustomerIdentifier, ProductCode: sub.AWSProductCode}
	// Which model the buyer is, and so whether AWS tells of them by
	// EventBridge (concurrent agreements) or SNS (legacy, even when the
	// legacy buyer also has a license).
	a := awsSandboxEvent{c: c, sub: sub, ident: ident, ca: !ident.Legacy(), contract: sub.Offer != nil && sub.Offer.Contract, now: s.now()}
	var title, text string
	switch action := c.PostForm("action"); action {
	case "subscribe-success":
		s.awsSubscribeSuccess(a)
	case "subscribe-fail":
		if a.ca {
			title, text = "No such AWS event", "AWS sends no payment-failure event for concurrent-agreement products (EventBridge)."
			break
		}
		s.sandboxSend(awsfake.SNSNotification("subscribe-fail", ident, sub.FreeTrial, a.now))
	case "cancel":
		s.awsCancel(a)
	case "upgrade", "expire", "renew":
		title, text = s.awsContractEvent(a, action)
	case "agreement-event":
		title, text = s.awsAgreementNotice(a)
	case "advance-ending", "auto-renew-off":
		title, text = s.awsRenewalControl(a, action)
	default:
		title, text = "Unknown action", "Choose an action on the sandbox page."
	}
	if title != "" {
		s.pages.Problem(c, http.StatusBadRequest, title, text, "/sandbox/aws", "Back")
		return
	}
	c.Redirect(http.StatusSeeOther, "/sandbox/aws")
}

// awsSandboxEvent is one request of the sandbox's AWS event form: the
// subscription, its buyer at AWS, whether the buyer has concurrent
// agreements (ca) and whether the offer is a contract.
type awsSandboxEvent struct {
	c            *gin.Context
	sub          *store.Subscription
	ident        awsfake.Identity
	ca, contract bool
	now          time.Time
}

// awsAgreementOf is the buyer's agreement id for concurrent agreements, "" for
// a legacy buyer.
func (s *Console) awsAgreementOf(a awsSandboxEvent) string {
	if !a.ca {
		return ""
	}
	return s.sandboxAgreement(a.c, a.sub, a.ident)
}

func (s *Console) awsSubscribeSuccess(a awsSandboxEvent) {
	s.AWSMetering.Subscribe(a.ident)
	if a.ca {
		s.sandboxSend(awsfake.LicenseEvent("License Updated", a.ident, s.sandboxAgreement(a.c, a.sub, a.ident), a.now))
	} else {
		s.sandboxSend(awsfake.SNSNotification("subscribe-success", a.ident, a.sub.FreeTrial, a.now))
	}
}

// awsCancel: AWS completes a cancellation about an hour later, after the
// seller's final usage; the sandbox does so after CancelDelay. Then the
// contract's grants end (GetEntitlements lists them expired) and metering
// is refused, before AWS says it is over.
func (s *Console) awsCancel(a awsSandboxEvent) {
	agreement := s.awsAgreementOf(a)
	pending := awsfake.CancelRequested(a.ident, agreement, a.now)
	final := awsfake.CancelCompleted(a.ident, a.contract, agreement, a.now.Add(CancelDelay))
	for _, b := range pending {
		s.sandboxSend(b)
	}
	time.AfterFunc(CancelDelay, func() {
		s.AWSEntitlements.Expire(a.ident, a.now.Add(CancelDelay))
		s.AWSMetering.Unsubscribe(a.ident)
		for _, b := range final {
			s.sandboxSend(b)
		}
	})
}

// awsContractEvent upgrades, expires or renews a contract's entitlements;
// it returns a problem's title and text when it cannot.
func (s *Console) awsContractEvent(a awsSandboxEvent, action string) (title, text string) {
	if !a.contract {
		return "Not a contract", "Only contract subscriptions have entitlements to upgrade, expire or renew."
	}
	grants := s.AWSEntitlements.Of(a.ident)
	if len(grants) == 0 {
		return "No contract at AWS", "The simulated AWS holds no entitlements for this buyer (it forgets them when the sandbox restarts without them stored)."
	}
	agreement := s.awsAgreementOf(a)
	switch action {
	case "upgrade":
		for i := range grants {
			if grants[i].Expiration.After(a.now) {
				grants[i].Value += 10
			}
		}
		s.AWSEntitlements.Set(a.ident, grants...)
		for _, b := range awsfake.ContractChanged(a.ident, agreement, a.now) {
			s.sandboxSend(b)
		}
	case "expire":
		s.AWSEntitlements.Expire(a.ident, a.now.Add(-time.Minute))
		s.AWSMetering.Unsubscribe(a.ident)
		if a.ca {
			s.sandboxSend(awsfake.AgreementEvent{DetailType: awsmp.AgreementEnded, Identity: a.ident, AgreementID: agreement, Status: "EXPIRED"}.Body(a.now))
		} else {
			s.sandboxSend(awsfake.SNSNotification("entitlement-updated", a.ident, false, a.now))
		}
	case "renew":
		s.awsRenew(a, grants, agreement)
	}
	return "", ""
}

// awsRenew: a renewal is a new term, the grants again for a year. AWS
// sends subscribe-success again on a renewal (reference §6.3) and
// entitlement-updated; for concurrent agreements a new agreement (intent
// RENEW, naming the one it renews) and License Updated.
func (s *Console) awsRenew(a awsSandboxEvent, grants []awsfake.Entitlement, agreement string) {
	renewed := make([]awsfake.Entitlement, 0, len(grants))
	seen := map[string]bool{}
	for i := len(grants) - 1; i >= 0; i-- { // the latest grant of each dimension
		if g := grants[i]; !seen[g.Dimension] {
			seen[g.Dimension] = true
			g.Expiration = a.now.AddDate(1, 0, 0)
			renewed = append(renewed, g)
		}
	}
	s.AWSEntitlements.Set(a.ident, renewed...)
	s.AWSMetering.Subscribe(a.ident)
	if a.ca {
		next := "agmt-" + strings.ToLower(auth.RandomToken(12))
		if s.AWSAgreements != nil {
			s.AWSAgreements.Renew(agreement, next, a.now) // RENEWED, and its successor (intent RENEW)
		}
		s.sandboxSend(awsfake.AgreementEvent{DetailType: awsmp.AgreementCreated, Identity: a.ident, AgreementID: next, Intent: "RENEW",
			PreviousID: agreement, Status: "ACTIVE", Start: a.now, End: a.now.AddDate(1, 0, 0), OfferID: "offer-sandbox-" + a.ident.ProductCode}.Body(a.now))
		s.sandboxSend(awsfake.LicenseEvent("License Updated", a.ident, next, a.now))
	} else {
		s.sandboxSend(awsfake.SNSNotification("subscribe-success", a.ident, false, a.now))
		s.sandboxSend(awsfake.SNSNotification("entitlement-updated", a.ident, false, a.now))
	}
}

// awsAgreementNotice sends one of the agreement events that change no
// state: AWS sends them for a running agreement; they show on the
// timeline, and some alert. It returns a problem's title and text when it
// cannot.
func (s *Console) awsAgreementNotice(a awsSandboxEvent) (title, text string) {
	if !a.ca {
		return "No such AWS event", "Agreement events are sent for concurrent-agreement products (EventBridge)."
	}
	i := slices.IndexFunc(awsfake.SandboxNotices, func(n awsfake.Notice) bool { return n.DetailType == a.c.PostForm("event") })
	if i < 0 {
		return "Unknown event", "Choose an agreement event on the sandbox page."
	}
	n := awsfake.SandboxNotices[i]
	agreement := s.sandboxAgreement(a.c, a.sub, a.ident)
	var extra map[string]any
	if n.Extra != nil {
		extra = n.Extra(agreement, a.now)
	}
	s.sandboxSend(awsfake.AgreementNotice(n.DetailType, a.ident, agreement, extra, a.now))
	return "", ""
}
