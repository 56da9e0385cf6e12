package api

import (
	"cmp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/store"
)

// What both marketplaces' welcome pages share (issue 17): the purchase's
// facts, the seller's support contact and getting-started links, and the
// way into the customer portal. The buyer who just onboarded or landed is
// signed in as their organisation's customer admin — unless the browser
// already carries a seller staff session (a seller trying their own
// sandbox): that session is kept, and the page says how to open the
// customer portal as the buyer.

// customerPortalPath is where the customer portal starts.
const customerPortalPath = "/"

// welcomeCommon is the end of both welcome pages: getting started, the
// support contact and the portal button (data from welcomeBase).
const welcomeCommon = `{{define "welcome_links"}}{{if .Brand.Links}}<ul class="links">{{range .Brand.Links}}<li><a href="{{.URL}}" rel="noopener noreferrer" target="_blank">{{.Title}}</a></li>{{end}}</ul>{{end}}{{end}}
{{define "welcome_portal"}}{{if eq .Viewer "buyer"}}<p><a class="button" href="{{.PortalURL}}">{{.L.T "welcome_open_portal"}}</a></p>
<p class="muted">{{.L.T "welcome_signed_in_as" "Email" .ViewerEmail}}</p>
{{else if eq .Viewer "staff"}}<div class="note" role="note"><p><strong>{{.L.T "welcome_staff_ready"}}</strong></p>
<p>{{.L.T "welcome_staff_kept" "Email" .ViewerEmail}}</p>
<p><a class="button" href="{{.PortalURL}}">{{.L.T "welcome_staff_open_seller"}}</a></p></div>{{end}}{{end}}
{{define "welcome_support"}}{{if or .SupportEmail .Brand.SupportURL}}<h2>{{.L.T "welcome_support"}}</h2>
<p>{{.L.T "welcome_support_text"}}{{if .SupportEmail}} <a href="mailto:{{.SupportEmail}}">{{.SupportEmail}}</a>{{end}}{{if .Brand.SupportURL}} <a href="{{.Brand.SupportURL}}" rel="noopener noreferrer" target="_blank">{{.L.T "welcome_support_site"}}</a>{{end}}</p>{{end}}{{end}}`

// welcomeViewerKind says who looks at a welcome page: "buyer" (a customer
// admin of the subscription's organisation), "staff" (seller staff), or
// "" (the purchaser who signed in for it on the landing page).
func welcomeViewerKind(u *store.User) string {
	switch {
	case u == nil:
		return ""
	case u.Role == store.RoleCustomerAdmin:
		return "buyer"
	default:
		return "staff"
	}
}

// welcomeBase is what both welcome pages show of a subscription in l.
func (s *Server) welcomeBase(c *gin.Context, sub *store.Subscription, u *store.User) map[string]any {
	l := requestLang(c.Request)
	brand := brandOf(sub.Offer, l.T("your_product"))
	data := map[string]any{"L": l, "Brand": brand, "ID": sub.ID, "State": sub.State, "StateText": l.T("state_" + sub.State),
		"Plan": "—", "Seats": "", "Term": termText(l, sub), "SupportEmail": cmp.Or(brand.SupportEmail, s.Info.SupportEmail),
		"Viewer": welcomeViewerKind(u), "ViewerEmail": "", "PortalURL": customerPortalPath, "Company": ""}
	if u != nil {
		data["ViewerEmail"] = u.Email
	}
	if sub.Plan != nil {
		data["Plan"] = cmp.Or(sub.Plan.Name, sub.Plan.PlanID)
		if sub.Plan.SeatBased && sub.Quantity > 0 {
			data["Seats"] = l.Number(sub.Quantity)
		}
	}
	if sub.Customer != nil {
		data["Company"] = sub.Customer.Name
	}
	return data
}

// termUnits names Microsoft's term units (messages term_<unit>); any other
// value is shown as sent.
var termUnits = map[string]bool{"P1M": true, "P1Y": true, "P2Y": true, "P3Y": true, "P4Y": true, "P5Y": true, "PAY": true}

// termText describes a subscription's term in l: its unit and dates.
func termText(l *Lang, sub *store.Subscription) string {
	var parts []string
	if u := strings.ToUpper(sub.TermUnit); u != "" {
		if termUnits[u] {
			parts = append(parts, l.T("term_"+u))
		} else {
			parts = append(parts, sub.TermUnit)
		}
	}
	if sub.TermStart != nil && sub.TermEnd != nil {
		parts = append(parts, l.T("term_dates", "Start", l.Date(*sub.TermStart), "End", l.Date(*sub.TermEnd)))
	}
	return strings.Join(parts, l.T("list_separator"))
}

// keepSellerSession says whether the request carries a signed-in seller
// staff session, which a buyer flow in the same browser must not replace.
func (s *Server) keepSellerSession(c *gin.Context) (bool, error) {
	u, err := s.sessionUser(c)
	if err != nil {
		return false, err
	}
	return u != nil && u.Role != store.RoleCustomerAdmin, nil
}
