// Package changes is what a customer admin may change of a subscription
// from the customer portal — the plan, the seat count, or unsubscribing —
// under the policy the seller sets per plan and kind: allowed (performed
// at once through Microsoft's fulfillment API, as a seller change is),
// approval (a request the seller approves or declines) or not allowed.
// On AWS, where no API changes a buyer's subscription, every change is a
// request the seller answers (with a private offer).
package changes

import "github.com/marketgate/marketgate/store"

// Kinds of change.
const (
	Plan        = "plan"
	Seats       = "seats"
	Unsubscribe = "unsubscribe"
)

// Kinds lists the kinds of change, in the order the portal shows them.
var Kinds = []string{Plan, Seats, Unsubscribe}

// Policies: what the seller lets customers do of one kind on a plan.
const (
	Allowed    = "allowed"
	Approval   = "approval"
	NotAllowed = "not_allowed"
)

// Policies lists the policies.
var Policies = []string{Allowed, Approval, NotAllowed}

// Outcomes of a change a customer asks for.
const (
	Perform = "perform" // done now: Marketgate calls the marketplace
	Request = "request" // a request the seller answers
	Refuse  = "refuse"  // not possible; Reason says why
)

// Reasons a change is refused (stable codes the portal branches on).
const (
	ReasonPolicy       = "policy"          // the seller does not let customers make this change
	ReasonNotActive    = "not_active"      // the subscription's state allows no change
	ReasonNotSeatBased = "not_seat_based"  // seat changes are for per-user plans
	ReasonUnknownKind  = "unknown_kind"    // not plan, seats or unsubscribe
	ReasonMarketplace  = "marketplace"     // a marketplace Marketgate cannot change or request for
	ReasonNoOtherPlans = "no_other_plans"  // Microsoft lists no other plan for this subscription
	ReasonAWSEnded     = "unsubscribe_aws" // an AWS buyer cancels in AWS, not through the seller
)

// Situation is what decides a change.
type Situation struct {
	Marketplace string // aws or azure
	Kind        string
	Policy      string // the plan's policy for Kind ("" is Approval)
	State       string // the subscription's state
	SeatBased   bool   // the plan is priced per user (seats)
	OtherPlans  int    // plans Microsoft lists besides the current one (-1: not known)
}

// Decision is what happens to a change.
type Decision struct {
	Outcome string `json:"outcome" enum:"perform,request,refuse"`
	Reason  string `json:"reason,omitempty"`
}

// NormalPolicy is a stored policy as it applies ("" and unknown values
// need the seller's approval).
func NormalPolicy(p string) string {
	switch p {
	case Allowed, NotAllowed:
		return p
	}
	return Approval
}

// PolicyFor is a plan's policy for a kind (Approval without a plan).
func PolicyFor(p *store.Plan, kind string) string {
	if p == nil {
		return Approval
	}
	switch kind {
	case Plan:
		return NormalPolicy(p.CustomerPlanChange)
	case Seats:
		return NormalPolicy(p.CustomerSeatChange)
	}
	return NormalPolicy(p.CustomerUnsubscribe)
}

// Decide applies the rules: the kind must exist and fit the plan, the
// subscription's state must allow it, the seller's policy must not forbid
// it; then Microsoft changes are performed (allowed) or requested
// (approval), and AWS changes are always requests (no API changes an AWS
// buyer's subscription).
func Decide(s Situation) Decision {
	if reason := refusal(s); reason != "" {
		return Decision{Outcome: Refuse, Reason: reason}
	}
	switch NormalPolicy(s.Policy) {
	case NotAllowed:
		return Decision{Outcome: Refuse, Reason: ReasonPolicy}
	case Allowed:
		if s.Marketplace == "azure" {
			return Decision{Outcome: Perform}
		}
	}
	return Decision{Outcome: Request}
}

// refusal is why a change is impossible whatever the policy ("": it is
// possible).
func refusal(s Situation) string {
	switch {
	case s.Kind != Plan && s.Kind != Seats && s.Kind != Unsubscribe:
		return ReasonUnknownKind
	case s.Marketplace != "azure" && s.Marketplace != "aws":
		return ReasonMarketplace
	case s.Kind == Seats && !s.SeatBased:
		return ReasonNotSeatBased
	case !stateAllows(s):
		return ReasonNotActive
	case s.Marketplace == "aws" && s.Kind == Unsubscribe:
		// An AWS buyer cancels in AWS Marketplace's console themselves.
		return ReasonAWSEnded
	case s.Kind == Plan && s.Marketplace == "azure" && s.OtherPlans == 0:
		return ReasonNoOtherPlans
	}
	return ""
}

// stateAllows: changes need an active subscription; a suspended Microsoft
// subscription may still be cancelled (Microsoft allows Unsubscribe then).
func stateAllows(s Situation) bool {
	switch s.State {
	case "active":
		return true
	case "suspended":
		return s.Marketplace == "azure" && s.Kind == Unsubscribe
	}
	return false
}
