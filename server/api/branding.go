package api

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/mail"
	"net/url"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/store"
)

// The seller's branding of an offer's buyer-facing pages (issue 17): the
// product's name, a logo, an accent colour, the support contact and a few
// getting-started links. Everything a buyer's browser loads or follows is
// checked here: https links only (no javascript:, no relative paths, so no
// redirect through this site), a logo that is an https URL or a small
// raster data: image (never SVG, which can carry script), a colour that is
// exactly #rrggbb (it goes into one inline style rule).

// offerBranding is an offer's branding of its buyer pages ("" : not set).
type offerBranding struct {
	ProductName    string               `json:"product_name"`
	LogoURL        string               `json:"logo_url"`
	AccentColor    string               `json:"accent_color"`
	SupportEmail   string               `json:"support_email"`
	SupportURL     string               `json:"support_url"`
	GettingStarted []gettingStartedLink `json:"getting_started"`
}

// gettingStartedLink is one getting-started link on the welcome page.
type gettingStartedLink struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Limits of the branding.
const (
	maxBrandText      = 200
	maxLogoURL        = 2000
	maxLogoDataBytes  = 48 << 10 // the decoded image of a data: logo
	maxGettingStarted = 5
)

var (
	accentPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	logoDataURI   = regexp.MustCompile(`^data:image/(png|jpeg|gif|webp);base64,([A-Za-z0-9+/]+={0,2})$`)
)

func viewBranding(b store.OfferBranding) offerBranding {
	v := offerBranding{ProductName: b.BrandName, LogoURL: b.BrandLogo, AccentColor: b.BrandAccent, SupportEmail: b.SupportEmail,
		SupportURL: b.SupportURL, GettingStarted: []gettingStartedLink{}}
	for _, l := range b.Links() {
		v.GettingStarted = append(v.GettingStarted, gettingStartedLink(l))
	}
	return v
}

// httpsURL says whether s is an absolute https URL with a host and
// nothing a browser would read otherwise (no user info, no control bytes).
func httpsURL(s string) bool {
	if s == "" || len(s) > maxLogoURL || hasUnsafeByte(s) || strings.ContainsAny(s, " \\") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && u.Opaque == ""
}

// validLogo accepts an https URL or a small raster data: image.
func validLogo(s string) bool {
	if strings.HasPrefix(s, "data:") {
		m := logoDataURI.FindStringSubmatch(s)
		if m == nil || base64.StdEncoding.DecodedLen(len(m[2])) > maxLogoDataBytes {
			return false
		}
		_, err := base64.StdEncoding.DecodeString(m[2])
		return err == nil
	}
	return httpsURL(s)
}

func plainText(s string, max int) bool {
	return len(s) <= max && !auth.HasControl(s) && !strings.ContainsAny(s, "<>")
}

// checkBranding validates a branding as the seller sent it and returns
// what is stored; each problem has its own stable code.
func checkBranding(in offerBranding) (store.OfferBranding, error) {
	b := store.OfferBranding{BrandName: strings.TrimSpace(in.ProductName), BrandLogo: strings.TrimSpace(in.LogoURL),
		BrandAccent: strings.ToLower(strings.TrimSpace(in.AccentColor)), SupportEmail: strings.TrimSpace(in.SupportEmail),
		SupportURL: strings.TrimSpace(in.SupportURL)}
	if !plainText(b.BrandName, maxBrandText) {
		return b, apperr.New(apperr.BrandingText, "The product name can have up to %d characters, without < or >.", maxBrandText)
	}
	if b.BrandLogo != "" && !validLogo(b.BrandLogo) {
		return b, apperr.New(apperr.BrandingLogo, "The logo must be an https:// address, or a PNG, JPEG, GIF or WebP image of at most %d KB.", maxLogoDataBytes>>10)
	}
	if b.BrandAccent != "" && !accentPattern.MatchString(b.BrandAccent) {
		return b, apperr.New(apperr.BrandingAccent, "The accent colour must be written #rrggbb, for example #2d72d2.")
	}
	if b.SupportEmail != "" {
		if a, err := mail.ParseAddress(b.SupportEmail); err != nil || a.Address != b.SupportEmail || len(b.SupportEmail) > 320 {
			return b, apperr.New(apperr.BrandingEmail, "The support e-mail is not an e-mail address.")
		}
	}
	if b.SupportURL != "" && !httpsURL(b.SupportURL) {
		return b, apperr.New(apperr.BrandingURL, "The support page must be an https:// address.")
	}
	links, err := checkLinks(in.GettingStarted)
	b.GettingStarted = links
	return b, err
}

// checkLinks validates the getting-started links and returns them as stored.
func checkLinks(in []gettingStartedLink) (string, error) {
	if len(in) > maxGettingStarted {
		return "", apperr.New(apperr.BrandingLinks, "Up to %d getting-started links.", maxGettingStarted)
	}
	links := make([]store.GettingStartedLink, 0, len(in))
	for i, l := range in {
		l.Title, l.URL = strings.TrimSpace(l.Title), strings.TrimSpace(l.URL)
		if l.Title == "" || !plainText(l.Title, maxBrandText) || !httpsURL(l.URL) {
			return "", apperr.New(apperr.BrandingLinks, "Getting-started link %d needs a title (up to %d characters) and an https:// address.", i+1, maxBrandText)
		}
		links = append(links, store.GettingStartedLink(l))
	}
	if len(links) == 0 {
		return "", nil
	}
	raw, _ := json.Marshal(links)
	return string(raw), nil
}

// pageBrand is an offer's branding as a buyer page shows it.
type pageBrand struct {
	Header       bool // the product is known: its name (and logo) head the page
	Name         string
	Logo         bool
	LogoURL      template.URL // validated when saved (checkBranding) and again here
	Accent       bool
	AccentCSS    template.CSS // #rrggbb
	SupportEmail string
	SupportURL   string
	Links        []store.GettingStartedLink
}

// brandOf is the branding of a subscription's offer for its pages; the
// product's name falls back to the offer's name, then fallback.
func brandOf(o *store.Offer, fallback string) *pageBrand {
	if o == nil {
		return &pageBrand{Name: fallback}
	}
	b := &pageBrand{Header: true, Name: o.Name, SupportEmail: o.SupportEmail}
	if o.BrandName != "" {
		b.Name = o.BrandName
	}
	if b.Name == "" {
		b.Name = fallback
	}
	if validLogo(o.BrandLogo) {
		b.Logo, b.LogoURL = true, template.URL(o.BrandLogo) //nolint:gosec // validated: https or a raster data: image
	}
	if accentPattern.MatchString(o.BrandAccent) {
		b.Accent, b.AccentCSS = true, template.CSS(o.BrandAccent) //nolint:gosec // validated: #rrggbb
	}
	if httpsURL(o.SupportURL) {
		b.SupportURL = o.SupportURL
	}
	for _, l := range o.Links() {
		if httpsURL(l.URL) {
			b.Links = append(b.Links, l)
		}
	}
	return b
}

// customerBrand is the branding of a customer's latest subscription's
// offer (its invitation page), or nil.
func (s *Server) customerBrand(c *gin.Context, customerID uint) *pageBrand {
	ctx := c.Request.Context()
	page, err := s.Store.ListSubscriptions(ctx, store.SubscriptionFilter{CustomerID: customerID, Limit: 1, NoTotal: true,
		Sort: []store.SortField{{Field: "updated_at", Desc: true}}})
	if err != nil || len(page.Items) == 0 {
		return nil
	}
	sub, err := s.Store.GetSubscription(ctx, page.Items[0].ID)
	if err != nil || sub.Offer == nil {
		return nil
	}
	return brandOf(sub.Offer, "")
}
