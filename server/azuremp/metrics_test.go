package azuremp

import (
	"net/http"
	"testing"
)

// TestOperationNames: each SaaS Fulfillment API v2 call is named as
// Microsoft's documentation names it, without ids (the metric's label set
// stays bounded).
func TestOperationNames(t *testing.T) {
	const sub, op = "/saas/subscriptions/37f9dea2-4345-438f-b0bd-03d40d28c7e0", "/operations/529f53e2-2b1c-4b23-a6e9-5ad1a6bb8a9b"
	for _, c := range []struct{ method, path, want string }{
		{http.MethodPost, "/saas/subscriptions/resolve", "Resolve"},
		{http.MethodPost, sub + "/activate", "Activate"},
		{http.MethodGet, "/saas/subscriptions", "ListSubscriptions"},
		{http.MethodGet, sub, "GetSubscription"},
		{http.MethodGet, sub + "/listAvailablePlans", "ListAvailablePlans"},
		{http.MethodPatch, sub, "ChangePlanOrQuantity"},
		{http.MethodDelete, sub, "Unsubscribe"},
		{http.MethodGet, sub + "/operations", "ListOutstandingOperations"},
		{http.MethodGet, sub + op, "GetOperationStatus"},
		{http.MethodPatch, sub + op, "UpdateOperationStatus"},
		{http.MethodPost, "/usageEvent", "UsageEvent"},
		{http.MethodPost, "/batchUsageEvent", "BatchUsageEvent"},
		{http.MethodGet, "/something/else", "other"},
		{http.MethodPost, sub, "other"},
		{http.MethodGet, "/saas/other/x/activate", "other"},
	} {
		if got := operationName(c.method, c.path); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, got, c.want)
		}
	}
}
