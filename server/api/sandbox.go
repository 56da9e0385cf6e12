package api

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
)

// The sandbox's buyer pages: a person acts as an AWS buyer, and their
// browser goes through the same registration POST that AWS would send.

var sandboxAWSPage = page("Sandbox: AWS buyer", `<h1>Sandbox: buy on AWS Marketplace</h1>
<p>Act as an AWS buyer. Subscribing sends your browser to this seller's registration URL with a fresh token, exactly as AWS Marketplace does.</p>
{{range .Offers}}<form method="post" action="/sandbox/aws/subscribe" style="margin:1em 0">
<input type="hidden" name="offer" value="{{.ID}}"><strong>{{.Name}}</strong> <span class="muted">{{.MarketplaceID}} · {{.IdentityModel}}</span><br>
<button type="submit" name="trial" value="false">Subscribe</button> <button type="submit" name="trial" value="true">Start a free trial</button>
</form>{{else}}<p>No AWS offers yet.</p>{{end}}
<p class="muted">AWS's notifications (subscribe-success and the rest) arrive with the simulated SQS queues; until then a new subscription stays pending.</p>`)

var autoPostPage = page("Redirecting", `<h1>Redirecting to the seller…</h1>
<form id="f" method="post" action="/marketplace/aws/register">
<input type="hidden" name="x-amzn-marketplace-token" value="{{.Token}}">
{{if .Trial}}<input type="hidden" name="x-amzn-marketplace-offer-type" value="free-trial">{{end}}
<noscript><button type="submit">Continue</button></noscript></form>
<script>document.getElementById('f').submit()</script>`)

func (s *Server) sandboxAWS(c *gin.Context) {
	offers, err := s.Store.ListOffers(c.Request.Context())
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
	s.renderPage(c, http.StatusOK, sandboxAWSPage, map[string]any{"Offers": aws})
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
	token := s.SandboxAWS.IssueToken(ident)
	s.renderPage(c, http.StatusOK, autoPostPage, map[string]any{"Token": token, "Trial": c.PostForm("trial") == "true"})
}
