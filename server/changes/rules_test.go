package changes

import (
	"testing"

	"github.com/marketgate/marketgate/store"
)

type want struct{ outcome, reason string }

// expect is the rules written out once more, independently of Decide.
func expect(mp, kind, policy, state string, seatBased bool) want {
	switch {
	case kind == Seats && !seatBased:
		return want{Refuse, ReasonNotSeatBased}
	case state != "active" && !(mp == "azure" && kind == Unsubscribe && state == "suspended"):
		return want{Refuse, ReasonNotActive}
	case mp == "aws" && kind == Unsubscribe:
		return want{Refuse, ReasonAWSEnded}
	case policy == NotAllowed:
		return want{Refuse, ReasonPolicy}
	case policy == Allowed && mp == "azure":
		return want{Perform, ""}
	}
	return want{Request, ""} // approval anywhere; allowed on AWS (no API)
}

// TestDecide walks marketplace × kind × policy × state (× seat-based) and
// checks each outcome against the rules written out once more.
func TestDecide(t *testing.T) {
	var cases []Situation
	for _, mp := range []string{"azure", "aws"} {
		for _, kind := range Kinds {
			for _, policy := range append(Policies, "") {
				for _, state := range []string{"pending", "active", "suspended", "unsubscribe_pending", "ended", "failed"} {
					cases = append(cases, Situation{Marketplace: mp, Kind: kind, Policy: policy, State: state, SeatBased: true, OtherPlans: 2},
						Situation{Marketplace: mp, Kind: kind, Policy: policy, State: state, OtherPlans: 2})
				}
			}
		}
	}
	n := 0
	for _, c := range cases {
		got, w := Decide(c), expect(c.Marketplace, c.Kind, NormalPolicy(c.Policy), c.State, c.SeatBased)
		if got.Outcome != w.outcome || got.Reason != w.reason {
			t.Errorf("%+v: %+v, want %+v", c, got, w)
		}
		n++
	}
	if n != 2*3*4*6*2 {
		t.Fatalf("walked %d cases", n)
	}
}

// TestDecideSpecialCases: the cases the grid above does not span.
func TestDecideSpecialCases(t *testing.T) {
	for _, c := range []struct {
		s              Situation
		outcome, cause string
	}{
		{Situation{Marketplace: "azure", Kind: "frobnicate", Policy: Allowed, State: "active"}, Refuse, ReasonUnknownKind},
		{Situation{Marketplace: "gcp", Kind: Plan, Policy: Allowed, State: "active"}, Refuse, ReasonMarketplace},
		// Microsoft lists no other plan: nothing to change to.
		{Situation{Marketplace: "azure", Kind: Plan, Policy: Allowed, State: "active", OtherPlans: 0}, Refuse, ReasonNoOtherPlans},
		// Not known yet (Microsoft not asked): the policy decides.
		{Situation{Marketplace: "azure", Kind: Plan, Policy: Allowed, State: "active", OtherPlans: -1}, Perform, ""},
		// AWS plans are not listed by Microsoft: no such check.
		{Situation{Marketplace: "aws", Kind: Plan, Policy: Allowed, State: "active", OtherPlans: 0}, Request, ""},
		{Situation{Marketplace: "azure", Kind: Unsubscribe, Policy: Allowed, State: "suspended"}, Perform, ""},
		{Situation{Marketplace: "azure", Kind: Seats, Policy: "bogus", State: "active", SeatBased: true}, Request, ""},
	} {
		got := Decide(c.s)
		if got.Outcome != c.outcome || got.Reason != c.cause {
			t.Errorf("%+v: %+v, want %s %s", c.s, got, c.outcome, c.cause)
		}
	}
}

func TestPolicyFor(t *testing.T) {
	p := &store.Plan{CustomerPlanChange: Allowed, CustomerSeatChange: "", CustomerUnsubscribe: NotAllowed}
	for kind, want := range map[string]string{Plan: Allowed, Seats: Approval, Unsubscribe: NotAllowed} {
		if got := PolicyFor(p, kind); got != want {
			t.Errorf("%s: %s, want %s", kind, got, want)
		}
		if got := PolicyFor(nil, kind); got != Approval {
			t.Errorf("no plan, %s: %s", kind, got)
		}
	}
}
