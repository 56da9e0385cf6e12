package console

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/api"

	"github.com/marketgate/marketgate/server/azuremp"
	"github.com/marketgate/marketgate/server/sandbox/azurefake"
)

// The sandbox's Microsoft buyer page: a person acts as a customer of
// Microsoft's marketplace. Purchasing sends their browser to this seller's
// landing page with a fresh token; the customer-side changes go through
// the simulated marketplace, which calls this seller's webhook.

var sandboxAzurePage = api.NewPage("Sandbox: Microsoft buyer", `<h1>Sandbox: buy on Microsoft's marketplace</h1>
<p>Act as a Microsoft customer. Purchasing sends your browser to this seller's landing page with a fresh purchase token,
as Azure does after “Configure account”; you then sign in with the simulated Entra ID.</p>
{{range .Offers}}<form method="post" action="/sandbox/azure/purchase" class="sandbox-item">
<input type="hidden" name="offer" value="{{.MarketplaceID}}"><strong>{{.Name}}</strong> <span class="muted">{{.MarketplaceID}}</span><br>
<label>Plan <select name="plan">{{range .Plans}}<option value="{{.PlanID}}">{{.Name}} ({{.PlanID}}){{if .SeatBased}} · per seat{{end}}</option>{{end}}</select></label>
<label>Seats (per-seat plans) <input name="quantity" type="number" min="1" value="5"></label>
<label>Your name <input name="name" value="Megan Bowen" maxlength="100"></label>
<label>Organisation <input name="organization" value="Contoso" maxlength="100"></label>
<label>Buying for another organisation (a reseller, a procurement team, a parent company): beneficiary
<input name="beneficiary" placeholder="e.g. Fabrikam (empty: your own)" maxlength="100"></label>
<button type="submit">Purchase and configure account</button>
</form>{{else}}<p>No Microsoft offers yet.</p>{{end}}
<h2>Recent Microsoft subscriptions</h2>
{{range .Subs}}<form method="post" action="/sandbox/azure/act" class="sandbox-sub">
<input type="hidden" name="subscription" value="{{.ID}}">#{{.ID}} {{.Name}} · {{.Plan}}{{if .Quantity}} · {{.Quantity}} seats{{end}} · at Microsoft: <strong>{{.Status}}</strong><br>
<select name="plan" aria-label="New plan">{{range .Plans}}<option value="{{.}}">{{.}}</option>{{end}}</select>
<button type="submit" name="action" value="ChangePlan">Change plan</button>
<input name="quantity" type="number" min="1" value="{{.Quantity}}" aria-label="Seats" class="narrow">
<button type="submit" name="action" value="ChangeQuantity">Change seats</button>
<button type="submit" name="action" value="Suspend">Payment fails (suspend)</button>
<button type="submit" name="action" value="Reinstate">Reinstate</button>
<button type="submit" name="action" value="Renew">Renew</button>
<button type="submit" name="action" value="Unsubscribe">Unsubscribe</button>
<button type="submit" name="action" value="Landing">Configure account again</button>
</form>{{else}}<p class="muted">None yet.</p>{{end}}
{{if .Message}}<p role="status">{{.Message}}</p>{{end}}
{{if .Mails}}<h2>E-mail Marketgate sent</h2>
<p class="muted">No mail server in the sandbox: the beneficiary's invitation (a purchase for another organisation) shows here.</p>
{{range .Mails}}<details><summary>To {{.To}}: {{.Subject}}</summary><pre class="mail">{{.Text}}</pre></details>{{end}}{{end}}`)

// Mail keeps the e-mails Marketgate sent in the sandbox (where no
// mail server is set up), newest first, for the buyer page to show: a
// newcomer follows the beneficiary's invitation from there.
type Mail struct {
	mu   sync.Mutex
	sent []Message
}

// Message is one e-mail the sandbox kept.
type Message struct{ To, Subject, Text string }

// Send keeps one e-mail (the newest 20).
func (m *Mail) Send(_ context.Context, to, subject, text string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append([]Message{{to, subject, text}}, m.sent...)
	if len(m.sent) > 20 {
		m.sent = m.sent[:20]
	}
	return nil
}

// Sent returns the kept e-mails, newest first.
func (m *Mail) Sent() []Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Message(nil), m.sent...)
}

func (s *Console) sandboxAzure(c *gin.Context) {
	ctx := c.Request.Context()
	offers, err := s.Store.SandboxOffers(ctx, "azure")
	if err != nil {
		s.pages.Fail(c, err)
		return
	}
	subs, err := s.Store.SandboxRecentSubscriptions(ctx, "azure", 40)
	if err != nil {
		s.pages.Fail(c, err)
		return
	}
	plans := map[string][]string{}
	for _, o := range offers {
		for _, p := range o.Plans {
			plans[o.MarketplaceID] = append(plans[o.MarketplaceID], p.PlanID)
		}
	}
	type row struct {
		ID                 uint
		Name, Plan, Status string
		Quantity           int
		Plans              []string
	}
	var rows []row
	for _, sub := range subs {
		ms, ok := s.AzureMarketplace.Get(sub.AzureSubscriptionID)
		if !ok {
			continue // seeded demo data the simulated marketplace never sold
		}
		rows = append(rows, row{ID: sub.ID, Name: ms.Name, Plan: ms.PlanID, Status: ms.Status, Quantity: ms.Quantity, Plans: plans[ms.OfferID]})
		if len(rows) == 15 {
			break
		}
	}
	var mails []Message
	if s.Mail != nil {
		mails = s.Mail.Sent()
		if len(mails) > 5 {
			mails = mails[:5]
		}
	}
	s.pages.RenderPage(c, http.StatusOK, sandboxAzurePage, map[string]any{"Offers": offers, "Subs": rows, "Message": c.Query("message"), "Mails": mails})
}

// domainLabel is a name's ASCII letters and digits, lower-cased: the
// sandbox's made-up e-mail domains.
func domainLabel(name string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(name, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') }), ""))
}

func (s *Console) sandboxAzurePurchase(c *gin.Context) {
	if err := s.pages.CheckOrigin(c.Request); err != nil {
		s.pages.Problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
		return
	}
	name := strings.TrimSpace(c.PostForm("name"))
	org := strings.TrimSpace(c.PostForm("organization"))
	if name == "" || len(name) > 100 || org == "" || len(org) > 100 {
		s.pages.Problem(c, http.StatusBadRequest, "Name and organisation are required", "Fill in both fields on the sandbox page.", "/sandbox/azure", "Back")
		return
	}
	q, _ := strconv.Atoi(c.PostForm("quantity"))
	domain := cmp.Or(domainLabel(org), "org") + "-" + azuremp.NewGUID()[:4] + ".example"
	email := strings.ToLower(strings.Fields(name)[0]) + "@" + domain
	buyer := azurefake.Party{EmailID: email, ObjectID: azuremp.NewGUID(), TenantID: azuremp.NewGUID()}
	beneficiary, subName := buyer, org+" subscription"
	// Purchaser and beneficiary in different Entra tenants (reference §3:
	// "they differ for CSP or reseller purchases"): the beneficiary's IT
	// administrator can sign in too, after the purchaser.
	if b := strings.TrimSpace(c.PostForm("beneficiary")); b != "" {
		if len(b) > 100 {
			s.pages.Problem(c, http.StatusBadRequest, "The beneficiary's name is too long", "Up to 100 characters.", "/sandbox/azure", "Back")
			return
		}
		beneficiary = azurefake.Party{EmailID: "it@" + cmp.Or(domainLabel(b), "beneficiary") + "-" + azuremp.NewGUID()[:4] + ".example", ObjectID: azuremp.NewGUID(), TenantID: azuremp.NewGUID()}
		subName = b + " subscription (bought by " + org + ")"
		s.AzureEntra.AddUser(azurefake.User{Name: b + " IT", Email: beneficiary.EmailID, TenantID: beneficiary.TenantID, ObjectID: beneficiary.ObjectID, Organization: b})
	}
	// The buyer can sign in to the simulated Entra with one click (first in the list).
	s.AzureEntra.AddUser(azurefake.User{Name: name, Email: email, TenantID: buyer.TenantID, ObjectID: buyer.ObjectID, Organization: org})
	_, token, err := s.AzureMarketplace.Purchase(c.PostForm("offer"), c.PostForm("plan"), q, buyer, beneficiary, subName)
	if err != nil {
		s.pages.Problem(c, http.StatusBadRequest, "The purchase did not go through", err.Error(), "/sandbox/azure", "Back")
		return
	}
	c.Redirect(http.StatusSeeOther, "/marketplace/azure/landing?token="+url.QueryEscape(token))
}

func (s *Console) sandboxAzureAct(c *gin.Context) {
	if err := s.pages.CheckOrigin(c.Request); err != nil {
		s.pages.Problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
		return
	}
	id, _ := strconv.ParseUint(c.PostForm("subscription"), 10, 32)
	sub, err := s.Store.SandboxSubscription(c.Request.Context(), uint(id))
	if err != nil || sub.Marketplace != "azure" {
		s.pages.Problem(c, http.StatusBadRequest, "Unknown subscription", "Choose a subscription on the sandbox page.", "/sandbox/azure", "Back")
		return
	}
	mk := s.AzureMarketplace
	ms := sub.AzureSubscriptionID
	action := c.PostForm("action")
	switch action {
	case "ChangePlan":
		_, err = mk.ChangePlan(ms, c.PostForm("plan"))
	case "ChangeQuantity":
		q, _ := strconv.Atoi(c.PostForm("quantity"))
		_, err = mk.ChangeQuantity(ms, q)
	case "Suspend":
		_, err = mk.Suspend(ms)
	case "Reinstate":
		_, err = mk.Reinstate(ms)
	case "Renew":
		_, err = mk.Renew(ms)
	case "Unsubscribe":
		_, err = mk.Unsubscribe(ms)
	case "Landing":
		token, terr := mk.PurchaseToken(ms)
		if terr == nil {
			c.Redirect(http.StatusSeeOther, "/marketplace/azure/landing?token="+url.QueryEscape(token))
			return
		}
		err = terr
	default:
		s.pages.Problem(c, http.StatusBadRequest, "Unknown action", "Choose an action on the sandbox page.", "/sandbox/azure", "Back")
		return
	}
	msg := action + " sent: Microsoft called this seller's webhook."
	if err != nil {
		msg = action + " refused by the simulated marketplace: " + err.Error()
	}
	c.Redirect(http.StatusSeeOther, "/sandbox/azure?message="+url.QueryEscape(msg))
}
