package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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
	k, err := s.lookupAPIKey(c.Request.Context(), strings.TrimSpace(key)) // apikey_cache.go
	if errors.Is(err, store.ErrNotFound) {
		c.Header("WWW-Authenticate", `Bearer realm="marketgate", error="invalid_token"`)
		s.failCode(c, apperr.Unauthenticated, "this API key is unknown or revoked")
		return
	}
	if err != nil && k == nil {
		s.fail(c, err)
		return
	}
	if err != nil {
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

// accessQuery is what the seller's app asks accessCheck.
type accessQuery struct {
	customer  string
	dimension string // "" for the subscription alone
	quantity  int64  // 0: any amount of the dimension
}

// accessCheck answers "may this customer use the product?" for the seller's app.
func (s *Server) accessCheck(c *gin.Context) {
	q, err := readAccessQuery(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	// Reads of a few rows by key, asked at the rate of the seller's app:
	// nothing to cancel (see seats.Service.reads).
	ctx := context.WithoutCancel(c.Request.Context())
	// Every identity a subscription carries finds it (see AccessCandidates).
	subs, err := s.Store.AccessCandidates(ctx, q.customer)
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(subs) == 0 {
		c.JSON(http.StatusOK, gin.H{"allowed": false, "reason": "no subscription for this customer: they can subscribe on AWS Marketplace or Microsoft's marketplace", "subscription": nil})
		return
	}
	best := bestForAccess(subs)
	v := viewSubscriptionWith(best)
	allowed, reason := lifecycle.State(best.State).CanUse(), accessReasons[best.State]
	out := gin.H{"subscription": v}
	contract := best.Marketplace == "aws" && best.Offer != nil && best.Offer.Contract
	if q.dimension != "" && allowed {
		reason, contract = dimensionReason(best, q.dimension, reason, contract)
	}
	if q.dimension != "" && allowed && contract {
		grants, err := s.Store.DimensionEntitlements(ctx, best.ID, q.dimension)
		if err != nil {
			s.fail(c, err)
			return
		}
		now := s.Now()
		var ent store.Entitlement // AWS may list an expired grant beside the current one
		if g := store.BestEntitlement(grants, now); g != nil {
			ent = *g
		}
		allowed, reason = entitlementVerdict(ent, now, q)
		if ent.ID != 0 {
			out["entitlement"] = gin.H{"dimension": ent.Dimension, "kind": ent.Kind, "value": ent.Value, "expires_at": ent.ExpiresAt}
		}
	}
	out["allowed"], out["reason"] = allowed, reason
	// Microsoft: whether the tenant's administrator granted the app's extra
	// permissions (Entra admin consent).
	if cv := s.consentFor(c, best); cv != nil {
		out["consent"] = apiConsentOf(cv)
	}
	c.JSON(http.StatusOK, out)
}

// readAccessQuery reads customer, dimension and quantity; an invalid one is
// an apperr.Invalid saying what is wrong.
func readAccessQuery(c *gin.Context) (q accessQuery, err error) {
	q.customer = strings.TrimSpace(c.Query("customer"))
	if q.customer == "" || len(q.customer) > 2048 {
		return q, apperr.New(apperr.Invalid, "customer is required: an AWS account id, an AWS customer identifier, a license ARN, a Microsoft subscription id, an Entra tenant id or a Marketgate customer id")
	}
	q.dimension = strings.TrimSpace(c.Query("dimension"))
	if raw := c.Query("quantity"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 1 {
			return q, apperr.New(apperr.Invalid, "quantity must be a whole number of at least 1")
		}
		if q.dimension == "" {
			return q, apperr.New(apperr.Invalid, "quantity needs a dimension")
		}
		q.quantity = n
	}
	if len(q.dimension) > 256 {
		return q, apperr.New(apperr.Invalid, "dimension is longer than 256 characters")
	}
	return q, nil
}

// bestForAccess picks the most useful subscription: one that allows use,
// else the latest.
func bestForAccess(subs []store.Subscription) *store.Subscription {
	for i := range subs {
		if lifecycle.State(subs[i].State).CanUse() {
			return &subs[i]
		}
	}
	return &subs[len(subs)-1]
}

// dimensionReason explains a dimension of a subscription that allows use,
// and tells whether an AWS entitlement must still be checked for it
// (contract stays true only for a contract dimension that is not metered).
func dimensionReason(best *store.Subscription, dimension, reason string, contract bool) (string, bool) {
	if !contract {
		// Only AWS contracts entitle a customer to a dimension (GetEntitlements
		// serves contract products only); every other subscription may use
		// what its plan offers, its usage metered and billed by the hour.
		reason += "; " + dimension + " needs no entitlement: only AWS contracts have entitlements"
		if best.Plan != nil && slices.ContainsFunc(best.Plan.DimensionList(), func(d store.Dimension) bool { return d.Key == dimension }) {
			reason = accessReasons[best.State] + "; " + dimension + " is billed by usage on plan " + best.Plan.PlanID
		}
		return reason, false
	}
	if best.Plan != nil &&
		slices.ContainsFunc(best.Plan.DimensionList(), func(d store.Dimension) bool { return d.Key == dimension && d.Metered }) {
		// A contract with consumption: the dimension is billed by usage on
		// top of the contract, so AWS holds no entitlement for it.
		return reason + "; " + dimension + " is billed by usage on top of the contract", false
	}
	return reason, true
}

// entitlementVerdict decides a contract dimension by its best grant (ent,
// zero when there is none): present, not expired, and enough of it.
func entitlementVerdict(ent store.Entitlement, now time.Time, q accessQuery) (bool, string) {
	switch {
	case ent.ID == 0:
		return false, "no entitlement for " + q.dimension
	case ent.ExpiresAt != nil && !ent.ExpiresAt.After(now):
		return false, "the entitlement for " + q.dimension + " expired on " + ent.ExpiresAt.Format("2006-01-02")
	case q.quantity > 0 && (ent.IntegerValue == nil || *ent.IntegerValue < q.quantity):
		return false, "entitled to " + ent.Value + " " + q.dimension + ", fewer than the " + strconv.FormatInt(q.quantity, 10) + " asked for"
	}
	return true, "entitled to " + ent.Value + " " + q.dimension
}
