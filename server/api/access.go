package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/store"
)

// APIKeyPrefix starts every key, so leaked keys are easy to recognise.
const APIKeyPrefix = "mgk_"

// NewAPIKey makes a new secret key; its first characters are its public prefix.
func NewAPIKey() (key, prefix string) {
	key = APIKeyPrefix + auth.RandomToken(30)
	return key, key[:len(APIKeyPrefix)+8]
}

const ctxAPIKey = "api_key"

// apiKey authenticates the seller's application by its API key.
func (s *Server) apiKey(c *gin.Context) {
	h := c.GetHeader("Authorization")
	key, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || !strings.HasPrefix(key, APIKeyPrefix) {
		c.Header("WWW-Authenticate", `Bearer realm="marketgate"`)
		s.failCode(c, apperr.Unauthenticated, "send an API key: Authorization: Bearer mgk_…")
		return
	}
	k, err := s.Store.APIKeyByKey(c.Request.Context(), strings.TrimSpace(key))
	if errors.Is(err, store.ErrNotFound) {
		c.Header("WWW-Authenticate", `Bearer realm="marketgate", error="invalid_token"`)
		s.failCode(c, apperr.Unauthenticated, "this API key is unknown or revoked")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.TouchAPIKey(c.Request.Context(), k); err != nil {
		s.Log.Warn("api key last-use update failed", "request_id", requestID(c), "err", err)
	}
	c.Set(ctxAPIKey, k)
	c.Next()
}

// accessReasons explain, per state, what the seller's app should tell the customer.
var accessReasons = map[string]string{
	string(lifecycle.Active):             "the subscription is active",
	string(lifecycle.UnsubscribePending): "the customer cancelled; access continues until the subscription ends",
	string(lifecycle.Pending):            "the marketplace has not confirmed the subscription yet",
	string(lifecycle.Suspended):          "the subscription is suspended (for example an unpaid bill); data is kept",
	string(lifecycle.Ended):              "the subscription has ended",
	string(lifecycle.Failed):             "the subscription failed at the marketplace (for example the payment)",
}

// accessCheck answers "may this customer use the product?" for the seller's app.
func (s *Server) accessCheck(c *gin.Context) {
	customer := strings.TrimSpace(c.Query("customer"))
	if customer == "" || len(customer) > 2048 {
		s.failCode(c, apperr.Invalid, "customer is required: an AWS account id, an AWS customer identifier, a license ARN, a Microsoft subscription id, an Entra tenant id or a Marketgate customer id")
		return
	}
	if c.Query("dimension") != "" || c.Query("quantity") != "" {
		s.failCode(c, apperr.Invalid, "dimension and quantity checks need contract entitlements, which this version does not read yet")
		return
	}
	q := s.Store.R.WithContext(c.Request.Context()).Preload("Customer").Preload("Offer").Preload("Plan")
	cond := "aws_customer_account_id = ? OR aws_customer_identifier = ? OR aws_license_arn = ? OR azure_subscription_id = ? OR azure_tenant_id = ?"
	args := []any{customer, customer, customer, customer, customer}
	if id, err := strconv.ParseUint(customer, 10, 32); err == nil && len(customer) < 12 {
		cond += " OR customer_id = ?"
		args = append(args, id)
	}
	var subs []store.Subscription
	if err := q.Where(cond, args...).Order("id").Limit(100).Find(&subs).Error; err != nil {
		s.fail(c, err)
		return
	}
	if len(subs) == 0 {
		c.JSON(http.StatusOK, gin.H{"allowed": false, "reason": "no subscription for this customer: they can subscribe on AWS Marketplace or Microsoft's marketplace", "subscription": nil})
		return
	}
	// The most useful subscription: one that allows use, else the latest.
	best := &subs[len(subs)-1]
	for i := range subs {
		if lifecycle.State(subs[i].State).CanUse() {
			best = &subs[i]
			break
		}
	}
	v := viewSubscription(best)
	if best.Customer != nil {
		v.Customer = &ref{ID: best.Customer.ID, Name: best.Customer.Name}
	}
	if best.Offer != nil {
		v.Offer = &offerRef{ID: best.Offer.ID, Name: best.Offer.Name, MarketplaceID: best.Offer.MarketplaceID}
	}
	if best.Plan != nil {
		v.Plan = &planRef{ID: best.Plan.ID, PlanID: best.Plan.PlanID, Name: best.Plan.Name}
	}
	c.JSON(http.StatusOK, gin.H{"allowed": lifecycle.State(best.State).CanUse(), "reason": accessReasons[best.State], "subscription": v})
}
