package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/lifecycle"
	"github.com/marketgate/marketgate/store"
)

const ctxAPIKey = "api_key"

// apiKey authenticates the seller's application by its API key.
func (s *Server) apiKey(c *gin.Context) {
	h := c.GetHeader("Authorization")
	key, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || !strings.HasPrefix(key, auth.APIKeyPrefix) {
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
	dimension := strings.TrimSpace(c.Query("dimension"))
	quantity := int64(0)
	if raw := c.Query("quantity"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 1 {
			s.failCode(c, apperr.Invalid, "quantity must be a whole number of at least 1")
			return
		}
		if dimension == "" {
			s.failCode(c, apperr.Invalid, "quantity needs a dimension")
			return
		}
		quantity = n
	}
	if len(dimension) > 256 {
		s.failCode(c, apperr.Invalid, "dimension is longer than 256 characters")
		return
	}
	// Every identity a subscription carries finds it (see AccessCandidates).
	subs, err := s.Store.AccessCandidates(c.Request.Context(), customer)
	if err != nil {
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
	v := viewSubscriptionWith(best)
	allowed, reason := lifecycle.State(best.State).CanUse(), accessReasons[best.State]
	out := gin.H{"subscription": v}
	contract := best.Marketplace == "aws" && best.Offer != nil && best.Offer.Contract
	if dimension != "" && allowed && !contract {
		// Only AWS contracts entitle a customer to a dimension (GetEntitlements
		// serves contract products only); every other subscription may use
		// what its plan offers, its usage metered and billed by the hour.
		reason += "; " + dimension + " needs no entitlement: only AWS contracts have entitlements"
		if best.Plan != nil && slices.ContainsFunc(best.Plan.DimensionList(), func(d store.Dimension) bool { return d.Key == dimension }) {
			reason = accessReasons[best.State] + "; " + dimension + " is billed by usage on plan " + best.Plan.PlanID
		}
	}
	if dimension != "" && allowed && contract && best.Plan != nil &&
		slices.ContainsFunc(best.Plan.DimensionList(), func(d store.Dimension) bool { return d.Key == dimension && d.Metered }) {
		// A contract with consumption: the dimension is billed by usage on
		// top of the contract, so AWS holds no entitlement for it.
		reason += "; " + dimension + " is billed by usage on top of the contract"
		contract = false
	}
	if dimension != "" && allowed && contract {
		grants, err := s.Store.DimensionEntitlements(c.Request.Context(), best.ID, dimension)
		if err != nil {
			s.fail(c, err)
			return
		}
		now := s.Now()
		var ent store.Entitlement // AWS may list an expired grant beside the current one
		if g := store.BestEntitlement(grants, now); g != nil {
			ent = *g
		}
		switch {
		case ent.ID == 0:
			allowed, reason = false, "no entitlement for "+dimension
		case ent.ExpiresAt != nil && !ent.ExpiresAt.After(now):
			allowed, reason = false, "the entitlement for "+dimension+" expired on "+ent.ExpiresAt.Format("2006-01-02")
		case quantity > 0 && (ent.IntegerValue == nil || *ent.IntegerValue < quantity):
			allowed, reason = false, "entitled to "+ent.Value+" "+dimension+", fewer than the "+strconv.FormatInt(quantity, 10)+" asked for"
		default:
			reason = "entitled to " + ent.Value + " " + dimension
		}
		if ent.ID != 0 {
			out["entitlement"] = gin.H{"dimension": ent.Dimension, "kind": ent.Kind, "value": ent.Value, "expires_at": ent.ExpiresAt}
		}
	}
	out["allowed"], out["reason"] = allowed, reason
	c.JSON(http.StatusOK, out)
}
