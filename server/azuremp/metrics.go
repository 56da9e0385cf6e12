package azuremp

import (
	"net/http"
	"strings"
)

// fixedOperations are the calls named by their whole path.
var fixedOperations = map[string]string{
	"batchUsageEvent":            "BatchUsageEvent",
	"usageEvent":                 "UsageEvent",
	"saas/subscriptions/resolve": "Resolve",
	"saas/subscriptions":         "ListSubscriptions",
}

// subscriptionOperation is a call on one subscription
// (saas/subscriptions/{id}[/action[/{operationId}]]), named by the number of
// path segments, the action segment ("" for none) and the method ("" for
// any).
type subscriptionOperation struct {
	segments int
	action   string
	method   string
}

var subscriptionOperations = map[subscriptionOperation]string{
	{3, "", http.MethodGet}:             "GetSubscription",
	{3, "", http.MethodPatch}:           "ChangePlanOrQuantity",
	{3, "", http.MethodDelete}:          "Unsubscribe",
	{4, "activate", ""}:                 "Activate",
	{4, "listAvailablePlans", ""}:       "ListAvailablePlans",
	{4, "operations", ""}:               "ListOutstandingOperations",
	{5, "operations", http.MethodGet}:   "GetOperationStatus",
	{5, "operations", http.MethodPatch}: "UpdateOperationStatus",
}

// operationName names a SaaS Fulfillment, Operations or Metering API call
// from its method and path, as Microsoft's documentation names them, for
// the call metrics (never an id: the label set stays small).
func operationName(method, path string) string {
	p := strings.Trim(path, "/")
	if name, ok := fixedOperations[p]; ok {
		return name
	}
	parts := strings.Split(p, "/")
	if len(parts) < 3 || len(parts) > 5 || parts[0] != "saas" || parts[1] != "subscriptions" {
		return "other"
	}
	key := subscriptionOperation{segments: len(parts)}
	if len(parts) > 3 {
		key.action = parts[3]
	}
	for _, m := range []string{method, ""} {
		key.method = m
		if name, ok := subscriptionOperations[key]; ok {
			return name
		}
	}
	return "other"
}
