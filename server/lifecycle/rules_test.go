package lifecycle_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	. "github.com/marketgate/marketgate/server/lifecycle"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func sub(mp Marketplace, st State) Subscription {
	return Subscription{Exists: true, Marketplace: mp, State: st, StateAt: at(0), PlanID: "silver", Quantity: 10}
}

var none = Subscription{}

// TestTransitions: every event from every state (and from no record).
func TestTransitions(t *testing.T) {
	type row struct {
		from    Subscription
		ev      Event
		want    State
		changed bool
		effects []Effect
	}
	later := at(10)
	rows := map[string]row{}
	add := func(name string, r row) {
		if _, dup := rows[name]; dup {
			t.Fatalf("duplicate row %s", name)
		}
		rows[name] = r
	}
	// AWS: expected state for each (from, event).
	awsStates := []State{Pending, Active, UnsubscribePending, Ended, Failed}
	awsExpect := map[Kind]map[State]State{
		AWSRegistered:         {Pending: Pending, Active: Active, UnsubscribePending: UnsubscribePending, Ended: Ended, Failed: Failed},
		AWSSubscribeSuccess:   {Pending: Active, Active: Active, UnsubscribePending: Active, Ended: Active, Failed: Active},
		AWSSubscribeFail:      {Pending: Failed, Active: Failed, UnsubscribePending: Failed, Ended: Failed, Failed: Failed},
		AWSUnsubscribePending: {Pending: UnsubscribePending, Active: UnsubscribePending, UnsubscribePending: UnsubscribePending, Ended: UnsubscribePending, Failed: UnsubscribePending},
		AWSUnsubscribeSuccess: {Pending: Ended, Active: Ended, UnsubscribePending: Ended, Ended: Ended, Failed: Ended},
	}
	for kind, byState := range awsExpect {
		for _, st := range awsStates {
			want := byState[st]
			add(fmt.Sprintf("aws/%s/%s", st, kind), row{from: sub(AWS, st), ev: Event{Kind: kind, At: later}, want: want, changed: want != st || kind != AWSRegistered})
		}
	}
	// From no record: every AWS event creates it.
	add("aws/none/registered", row{from: none, ev: Event{Kind: AWSRegistered, At: later}, want: Pending, changed: true, effects: []Effect{FetchEntitlements}})
	add("aws/none/subscribe_success", row{from: none, ev: Event{Kind: AWSSubscribeSuccess, At: later}, want: Active, changed: true, effects: []Effect{GrantAccess, FetchEntitlements}})
	add("aws/none/subscribe_fail", row{from: none, ev: Event{Kind: AWSSubscribeFail, At: later}, want: Failed, changed: true})
	add("aws/none/unsubscribe_pending", row{from: none, ev: Event{Kind: AWSUnsubscribePending, At: later}, want: UnsubscribePending, changed: true, effects: []Effect{GrantAccess, FinalMetering}})
	add("aws/none/unsubscribe_success", row{from: none, ev: Event{Kind: AWSUnsubscribeSuccess, At: later}, want: Ended, changed: true})
	// Effects of the main AWS transitions.
	add("aws/effects/activate", row{from: sub(AWS, Pending), ev: Event{Kind: AWSSubscribeSuccess, At: later}, want: Active, changed: true, effects: []Effect{GrantAccess, FetchEntitlements}})
	add("aws/effects/unsubscribe_pending", row{from: sub(AWS, Active), ev: Event{Kind: AWSUnsubscribePending, At: later}, want: UnsubscribePending, changed: true, effects: []Effect{FinalMetering}})
	add("aws/effects/ended", row{from: sub(AWS, UnsubscribePending), ev: Event{Kind: AWSUnsubscribeSuccess, At: later}, want: Ended, changed: true, effects: []Effect{RevokeAccess}})
	add("aws/effects/failed", row{from: sub(AWS, Active), ev: Event{Kind: AWSSubscribeFail, At: later}, want: Failed, changed: true, effects: []Effect{RevokeAccess}})
	// Contracts: entitlements.
	add("aws/entitlement/current", row{from: sub(AWS, Pending), ev: Event{Kind: AWSEntitlements, At: later, EntitlementCurrent: true, TermEnd: at(60 * 24 * 365)}, want: Active, changed: true, effects: []Effect{GrantAccess, TermChanged}})
	// A contract's seats follow the entitlements: an upgrade raises them.
	add("aws/entitlement/seats_raised", row{from: sub(AWS, Active), ev: Event{Kind: AWSEntitlements, At: later, EntitlementCurrent: true, PlanID: "gold", Quantity: 20}, want: Active, changed: true, effects: []Effect{PlanChanged, QuantityChanged}})
	add("aws/entitlement/expired", row{from: sub(AWS, Active), ev: Event{Kind: AWSEntitlements, At: later}, want: Ended, changed: true, effects: []Effect{RevokeAccess}})
	// A purchase agreement's term (EventBridge Purchase Agreement Created:
	// startTime, endTime) comes with the confirmation; a stale one does not.
	add("aws/subscribe_success/agreement_term", row{from: sub(AWS, Pending), ev: Event{Kind: AWSSubscribeSuccess, At: later, TermStart: later, TermEnd: at(60 * 24 * 365)},
		want: Active, changed: true, effects: []Effect{GrantAccess, TermChanged, FetchEntitlements}})
	add("aws/subscribe_success/stale_term", row{from: sub(AWS, Active), ev: Event{Kind: AWSSubscribeSuccess, At: at(-5), TermStart: at(-5), TermEnd: at(99)},
		want: Active, changed: false})
	// A read only moves forwards (reference §5: GetEntitlements is read
	// after entitlement-updated, which AWS sends "for a new contract, an
	// upgrade, a renewal, a cancellation or an expiry alike"; §6.3: after a
	// cancellation only a new subscribe-success brings the buyer back). A
	// read that lags a cancellation must not undo it.
	byRead := func(st State, by Kind) Subscription { s := sub(AWS, st); s.StateBy = by; return s }
	current := Event{Kind: AWSEntitlements, At: later, EntitlementCurrent: true}
	noGrant := Event{Kind: AWSEntitlements, At: later}
	for name, r := range map[string]row{
		"none/current":                    {from: none, ev: current, want: Active, changed: true},
		"none/no_grant":                   {from: none, ev: noGrant, want: Pending, changed: true},
		"pending/no_grant":                {from: byRead(Pending, AWSRegistered), ev: noGrant, want: Pending, changed: false},
		"active/current":                  {from: byRead(Active, AWSSubscribeSuccess), ev: current, want: Active, changed: false},
		"unsubscribe_pending/current":     {from: byRead(UnsubscribePending, AWSUnsubscribePending), ev: current, want: UnsubscribePending, changed: false},
		"unsubscribe_pending/no_grant":    {from: byRead(UnsubscribePending, AWSUnsubscribePending), ev: noGrant, want: Ended, changed: true, effects: []Effect{RevokeAccess}},
		"ended_by_unsubscribe/current":    {from: byRead(Ended, AWSUnsubscribeSuccess), ev: current, want: Ended, changed: false},
		"ended_by_unknown/current":        {from: byRead(Ended, ""), ev: current, want: Ended, changed: false},
		"ended_by_read/current":           {from: byRead(Ended, AWSEntitlements), ev: current, want: Active, changed: true, effects: []Effect{GrantAccess}},
		"ended_by_read/no_grant":          {from: byRead(Ended, AWSEntitlements), ev: noGrant, want: Ended, changed: false},
		"failed/current":                  {from: byRead(Failed, AWSSubscribeFail), ev: current, want: Failed, changed: false},
		"failed/no_grant":                 {from: byRead(Failed, AWSSubscribeFail), ev: noGrant, want: Failed, changed: false},
		"ended_by_unsubscribe/no_grant":   {from: byRead(Ended, AWSUnsubscribeSuccess), ev: noGrant, want: Ended, changed: false},
		"active_by_read/stale_is_ignored": {from: byRead(Active, AWSEntitlements), ev: Event{Kind: AWSEntitlements, At: at(-5)}, want: Active, changed: false},
	} {
		add("aws/entitlement_read/"+name, r)
	}

	// Microsoft.
	azStates := []State{Pending, Active, Suspended, Ended}
	azExpect := map[Kind]map[State]State{
		AzureResolved:       {Pending: Pending, Active: Active, Suspended: Suspended, Ended: Ended},
		AzureActivated:      {Pending: Active, Active: Active, Suspended: Suspended, Ended: Ended},
		AzureSuspend:        {Pending: Suspended, Active: Suspended, Suspended: Suspended, Ended: Ended},
		AzureReinstate:      {Pending: Pending, Active: Active, Suspended: Active, Ended: Ended},
		AzureUnsubscribe:    {Pending: Ended, Active: Ended, Suspended: Ended, Ended: Ended},
		AzureChangePlan:     {Pending: Pending, Active: Active, Suspended: Suspended, Ended: Ended},
		AzureChangeQuantity: {Pending: Pending, Active: Active, Suspended: Suspended, Ended: Ended},
		AzureRenew:          {Pending: Pending, Active: Active, Suspended: Suspended, Ended: Ended},
	}
	for kind, byState := range azExpect {
		for _, st := range azStates {
			want := byState[st]
			ev := Event{Kind: kind, At: later, PlanID: "gold", Quantity: 20, TermStart: at(100), TermEnd: at(100 + 60*24*365)}
			// A newer event confirming the current state moves StateAt
			// forward (so an older, stale event cannot override it later);
			// resolve and renew carry the term.
			confirms := (kind == AzureActivated && st == Active) || (kind == AzureSuspend && st == Suspended) ||
				(kind == AzureReinstate && st == Active) || (kind == AzureUnsubscribe && st == Ended)
			changed := want != st || confirms || kind == AzureResolved ||
				(st == Active && (kind == AzureChangePlan || kind == AzureChangeQuantity)) ||
				((st == Active || st == Suspended) && kind == AzureRenew)
			add(fmt.Sprintf("azure/%s/%s", st, kind), row{from: sub(Azure, st), ev: ev, want: want, changed: changed})
		}
	}
	add("azure/none/resolved", row{from: none, ev: Event{Kind: AzureResolved, At: later, PlanID: "silver", Quantity: 5}, want: Pending, changed: true})
	add("azure/effects/activate", row{from: sub(Azure, Pending), ev: Event{Kind: AzureActivated, At: later}, want: Active, changed: true, effects: []Effect{GrantAccess}})
	add("azure/effects/suspend", row{from: sub(Azure, Active), ev: Event{Kind: AzureSuspend, At: later}, want: Suspended, changed: true, effects: []Effect{RevokeAccess}})
	add("azure/effects/reinstate", row{from: sub(Azure, Suspended), ev: Event{Kind: AzureReinstate, At: later}, want: Active, changed: true, effects: []Effect{GrantAccess}})
	add("azure/effects/unsubscribe", row{from: sub(Azure, Active), ev: Event{Kind: AzureUnsubscribe, At: later}, want: Ended, changed: true, effects: []Effect{RevokeAccess}})
	add("azure/effects/change_plan", row{from: sub(Azure, Active), ev: Event{Kind: AzureChangePlan, At: later, PlanID: "gold"}, want: Active, changed: true, effects: []Effect{PlanChanged}})
	add("azure/effects/change_quantity", row{from: sub(Azure, Active), ev: Event{Kind: AzureChangeQuantity, At: later, Quantity: 25}, want: Active, changed: true, effects: []Effect{QuantityChanged}})
	// Microsoft's term is read back right after activation and after a change that succeeded.
	add("azure/term/activate", row{from: sub(Azure, Pending), ev: Event{Kind: AzureActivated, At: later, TermStart: at(100), TermEnd: at(200)}, want: Active, changed: true, effects: []Effect{GrantAccess, TermChanged}})
	add("azure/term/activate_ignored_from_suspended", row{from: sub(Azure, Suspended), ev: Event{Kind: AzureActivated, At: later, TermStart: at(100), TermEnd: at(200)}, want: Suspended, changed: false})
	add("azure/term/change_plan", row{from: sub(Azure, Active), ev: Event{Kind: AzureChangePlan, At: later, PlanID: "gold", TermStart: at(100), TermEnd: at(200)}, want: Active, changed: true, effects: []Effect{PlanChanged, TermChanged}})
	add("azure/term/reinstate", row{from: sub(Azure, Suspended), ev: Event{Kind: AzureReinstate, At: later, TermStart: at(100), TermEnd: at(200)}, want: Active, changed: true, effects: []Effect{GrantAccess, TermChanged}})
	add("azure/term/change_quantity", row{from: sub(Azure, Active), ev: Event{Kind: AzureChangeQuantity, At: later, Quantity: 25, TermStart: at(100), TermEnd: at(200)}, want: Active, changed: true, effects: []Effect{QuantityChanged, TermChanged}})
	add("azure/effects/renew", row{from: sub(Azure, Active), ev: Event{Kind: AzureRenew, At: later, TermStart: at(100), TermEnd: at(200)}, want: Active, changed: true, effects: []Effect{TermChanged}})
	add("azure/reconcile/suspended", row{from: sub(Azure, Active), ev: Event{Kind: Reconciled, At: later, Observed: Suspended}, want: Suspended, changed: true, effects: []Effect{RevokeAccess}})
	add("azure/reconcile/plan_drift", row{from: sub(Azure, Active), ev: Event{Kind: Reconciled, At: later, Observed: Active, PlanID: "gold", Quantity: 12}, want: Active, changed: true, effects: []Effect{PlanChanged, QuantityChanged}})
	add("azure/reconcile/ended_is_final", row{from: sub(Azure, Ended), ev: Event{Kind: Reconciled, At: later, Observed: Active}, want: Ended, changed: false})

	for name, r := range rows {
		t.Run(name, func(t *testing.T) {
			out, err := Apply(r.from, r.ev)
			if err != nil {
				t.Fatal(err)
			}
			if out.Subscription.State != r.want {
				t.Fatalf("state %s, want %s (%s)", out.Subscription.State, r.want, out.Summary)
			}
			if out.StateChanged != (r.from.State != r.want || !r.from.Exists) {
				t.Fatalf("StateChanged=%v", out.StateChanged)
			}
			if out.Changed != r.changed {
				t.Fatalf("Changed=%v, want %v (%s)", out.Changed, r.changed, out.Summary)
			}
			if r.effects != nil && !slices.Equal(out.Effects, r.effects) {
				t.Fatalf("effects %v, want %v", out.Effects, r.effects)
			}
			if out.Summary == "" {
				t.Fatal("empty summary")
			}
			if !out.Subscription.Exists {
				t.Fatal("the subscription does not exist after the event")
			}
		})
	}
}

// TestDuplicateChangesNothing: the same event applied twice.
func TestDuplicateChangesNothing(t *testing.T) {
	kinds := []struct {
		mp Marketplace
		ev Event
	}{
		{AWS, Event{Kind: AWSRegistered}}, {AWS, Event{Kind: AWSSubscribeSuccess}}, {AWS, Event{Kind: AWSSubscribeFail}},
		{AWS, Event{Kind: AWSUnsubscribePending}}, {AWS, Event{Kind: AWSUnsubscribeSuccess}},
		{AWS, Event{Kind: AWSEntitlements, EntitlementCurrent: true, TermEnd: at(9999)}}, {AWS, Event{Kind: AWSEntitlements}},
		{Azure, Event{Kind: AzureResolved, PlanID: "silver", Quantity: 3}}, {Azure, Event{Kind: AzureActivated}},
		{Azure, Event{Kind: AzureChangePlan, PlanID: "gold"}}, {Azure, Event{Kind: AzureChangeQuantity, Quantity: 7}},
		{Azure, Event{Kind: AzureRenew, TermStart: at(5), TermEnd: at(500)}}, {Azure, Event{Kind: AzureSuspend}},
		{Azure, Event{Kind: AzureReinstate}}, {Azure, Event{Kind: AzureUnsubscribe}},
		{Azure, Event{Kind: Reconciled, Observed: Suspended}},
	}
	for _, k := range kinds {
		for _, st := range States {
			t.Run(fmt.Sprintf("%s/%s", st, k.ev.Kind), func(t *testing.T) {
				ev := k.ev
				ev.At = at(10)
				first, err := Apply(sub(k.mp, st), ev)
				if err != nil {
					t.Fatal(err)
				}
				second, err := Apply(first.Subscription, ev)
				if err != nil {
					t.Fatal(err)
				}
				if second.Changed || second.StateChanged || len(second.Effects) > 0 && !onlyFetch(second.Effects) {
					t.Fatalf("duplicate changed something: %+v", second)
				}
				if second.Subscription != first.Subscription {
					t.Fatalf("duplicate changed the record: %+v -> %+v", first.Subscription, second.Subscription)
				}
			})
		}
	}
}

// A repeated subscribe-success may ask for entitlements again (harmless, read-only).
func onlyFetch(effs []Effect) bool {
	for _, e := range effs {
		if e != FetchEntitlements {
			return false
		}
	}
	return true
}

func permutations(evs []Event) [][]Event {
	if len(evs) <= 1 {
		return [][]Event{append([]Event{}, evs...)}
	}
	var out [][]Event
	for i := range evs {
		rest := append(append([]Event{}, evs[:i]...), evs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]Event{evs[i]}, p...))
		}
	}
	return out
}

func applyAll(t *testing.T, evs []Event) Subscription {
	t.Helper()
	s := none
	for _, e := range evs {
		out, err := Apply(s, e)
		if err != nil {
			t.Fatal(err)
		}
		s = out.Subscription
	}
	return s
}

// TestEveryOrderEndsTheSame: AWS sequences in every arrival order.
func TestEveryOrderEndsTheSame(t *testing.T) {
	seqs := map[string][]Event{
		"subscribe then unsubscribe": {
			{Kind: AWSRegistered, At: at(1), PlanID: "std"}, {Kind: AWSSubscribeSuccess, At: at(2)},
			{Kind: AWSUnsubscribePending, At: at(3)}, {Kind: AWSUnsubscribeSuccess, At: at(4)}},
		"subscribe fails":                  {{Kind: AWSRegistered, At: at(1)}, {Kind: AWSSubscribeFail, At: at(2)}},
		"confirmation before registration": {{Kind: AWSSubscribeSuccess, At: at(1)}, {Kind: AWSRegistered, At: at(2), PlanID: "std"}},
		"resubscribe before cancellation completes": {
			{Kind: AWSRegistered, At: at(1)}, {Kind: AWSSubscribeSuccess, At: at(2)},
			{Kind: AWSUnsubscribePending, At: at(3)}, {Kind: AWSSubscribeSuccess, At: at(4)}},
		"resubscribe after an end": {
			{Kind: AWSRegistered, At: at(1)}, {Kind: AWSSubscribeSuccess, At: at(2)},
			{Kind: AWSUnsubscribeSuccess, At: at(3)}, {Kind: AWSSubscribeSuccess, At: at(4)}},
	}
	wants := map[string]State{
		"subscribe then unsubscribe": Ended, "subscribe fails": Failed, "confirmation before registration": Active,
		"resubscribe before cancellation completes": Active, "resubscribe after an end": Active,
	}
	for name, seq := range seqs {
		t.Run(name, func(t *testing.T) {
			inOrder := applyAll(t, seq)
			if inOrder.State != wants[name] {
				t.Fatalf("in order: %s, want %s", inOrder.State, wants[name])
			}
			for _, p := range permutations(seq) {
				got := applyAll(t, p)
				if got.State != inOrder.State || got.StateAt != inOrder.StateAt || got.PlanID != inOrder.PlanID {
					t.Fatalf("order %v ends %s at %s, in order %s at %s", kinds(p), got.State, got.StateAt, inOrder.State, inOrder.StateAt)
				}
			}
		})
	}
}

func kinds(evs []Event) []Kind {
	out := make([]Kind, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}

// TestCancelledContractStaysEnded is issue 13's defect 10 as a rule: a
// contract bought, raised and cancelled ends; the entitlement read that the
// end's own message triggers, which AWS may still answer with the
// cancelled grant, leaves it ended and dated by the cancellation; a later
// subscribe-success (the buyer buys again) reactivates it.
func TestCancelledContractStaysEnded(t *testing.T) {
	s := none
	apply := func(e Event) Outcome {
		t.Helper()
		out, err := Apply(s, e)
		if err != nil {
			t.Fatal(err)
		}
		s = out.Subscription
		return out
	}
	apply(Event{Kind: AWSSubscribeSuccess, At: at(1)})
	apply(Event{Kind: AWSEntitlements, At: at(2), EntitlementCurrent: true, PlanID: "seats", Quantity: 10})
	apply(Event{Kind: AWSEntitlements, At: at(3), EntitlementCurrent: true, PlanID: "seats", Quantity: 20})
	apply(Event{Kind: AWSUnsubscribePending, At: at(4)})
	apply(Event{Kind: AWSUnsubscribeSuccess, At: at(5)})
	out := apply(Event{Kind: AWSEntitlements, At: at(6), EntitlementCurrent: true, PlanID: "seats", Quantity: 20})
	if s.State != Ended || out.StateChanged || slices.Contains(out.Effects, GrantAccess) || !s.StateAt.Equal(at(5)) || s.StateBy != AWSUnsubscribeSuccess {
		t.Fatalf("a stale read after the cancellation: %+v (%s)", s, out.Summary)
	}
	// A notification processed after the read but sent before it still counts.
	apply(Event{Kind: AWSSubscribeSuccess, At: at(5).Add(30 * time.Second)})
	if s.State != Active {
		t.Fatalf("a resubscription after the read: %s", s.State)
	}
}

func TestResubscription(t *testing.T) {
	ended := Subscription{Exists: true, Marketplace: AWS, State: Ended, StateAt: at(10)}
	out, _ := Apply(ended, Event{Kind: AWSSubscribeSuccess, At: at(20)})
	if out.Subscription.State != Active || !slices.Contains(out.Effects, GrantAccess) {
		t.Fatalf("a newer subscribe-success does not reactivate: %+v", out)
	}
	out, _ = Apply(ended, Event{Kind: AWSSubscribeSuccess, At: at(5)})
	if out.Subscription.State != Ended || out.Changed {
		t.Fatalf("a stale subscribe-success reopened an ended subscription: %+v", out)
	}
	azEnded := Subscription{Exists: true, Marketplace: Azure, State: Ended, StateAt: at(10)}
	for _, k := range []Kind{AzureActivated, AzureReinstate, AzureSuspend, AzureResolved} {
		out, _ := Apply(azEnded, Event{Kind: k, At: at(99)})
		if out.Subscription.State != Ended {
			t.Fatalf("%s reopened an unsubscribed Microsoft subscription", k)
		}
	}
}

func TestMicrosoftPlanAndQuantity(t *testing.T) {
	out, _ := Apply(sub(Azure, Suspended), Event{Kind: AzureChangePlan, At: at(5), PlanID: "gold"})
	if out.Changed || out.Subscription.PlanID != "silver" {
		t.Fatalf("plan changed while suspended: %+v", out)
	}
	out, _ = Apply(sub(Azure, Active), Event{Kind: AzureChangePlan, At: at(5), PlanID: "gold", Quantity: 30})
	if out.Subscription.PlanID != "gold" || out.Subscription.Quantity != 30 || !slices.Contains(out.Effects, PlanChanged) || !slices.Contains(out.Effects, QuantityChanged) {
		t.Fatalf("plan+quantity change: %+v", out)
	}
	out, _ = Apply(sub(Azure, Active), Event{Kind: AzureChangeQuantity, At: at(5)})
	if out.Changed {
		t.Fatal("a quantity change without a quantity changed something")
	}
	s := sub(Azure, Active)
	out, _ = Apply(s, Event{Kind: AzureSuspend, At: at(5)})
	out, _ = Apply(out.Subscription, Event{Kind: AzureReinstate, At: at(6)})
	if out.Subscription.State != Active {
		t.Fatalf("suspend then reinstate: %s", out.Subscription.State)
	}
}

func TestErrors(t *testing.T) {
	cases := map[string]struct {
		s Subscription
		e Event
	}{
		"unknown kind":             {sub(AWS, Active), Event{Kind: "aws.nonsense"}},
		"aws event on azure":       {sub(Azure, Active), Event{Kind: AWSSubscribeSuccess}},
		"azure event on aws":       {sub(AWS, Active), Event{Kind: AzureSuspend}},
		"reconcile unknown state":  {sub(AWS, Active), Event{Kind: Reconciled, Observed: "gone"}},
		"reconcile without record": {none, Event{Kind: Reconciled, Observed: Active}},
		"negative quantity":        {sub(Azure, Active), Event{Kind: AzureChangeQuantity, Quantity: -1}},
	}
	for name, c := range cases {
		if _, err := Apply(c.s, c.e); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzApplyOrderIndependence: any arrival order of AWS state events with
// distinct times ends where the time-sorted order ends.
func FuzzApplyOrderIndependence(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3, 42, 1000} {
		f.Add(seed)
	}
	stateKinds := []Kind{AWSSubscribeSuccess, AWSSubscribeFail, AWSUnsubscribePending, AWSUnsubscribeSuccess, AWSRegistered}
	f.Fuzz(func(t *testing.T, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b9))
		n := 1 + rng.IntN(7)
		evs := make([]Event, n)
		for i := range evs {
			evs[i] = Event{Kind: stateKinds[rng.IntN(len(stateKinds))], At: at(i + 1)}
		}
		sorted := applyAll(t, evs)
		shuffled := append([]Event{}, evs...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got := applyAll(t, shuffled)
		if got.State != sorted.State {
			t.Fatalf("order %v ends %s; time order %v ends %s", kinds(shuffled), got.State, kinds(evs), sorted.State)
		}
	})
}
