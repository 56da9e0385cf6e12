package azuremp

import (
	"net/http"
	"strings"
)

// operationName names a SaaS Fulfillment, Operations or Metering API call
// from its method and path, as Microsoft's documentation names them, for
// the call metrics (never an id: the label set stays small).
func operationName(method, path string) string {
	p := strings.Trim(path, "/")
	parts := strings.Split(p, "/")
	switch {
	case p == "batchUsageEvent":
		return "BatchUsageEvent"
	case p == "usageEvent":
		return "UsageEvent"
	case p == "saas/subscriptions/resolve":
		return "Resolve"
	case p == "saas/subscriptions":
		return "ListSubscriptions"
	case len(parts) == 3 && parts[0] == "saas" && parts[1] == "subscriptions":
		switch method {
		case http.MethodGet:
			return "GetSubscription"
		case http.MethodPatch:
			return "ChangePlanOrQuantity"
		case http.MethodDelete:
			return "Unsubscribe"
		}
	case len(parts) == 4 && parts[3] == "activate":
		return "Activate"
	case len(parts) == 4 && parts[3] == "listAvailablePlans":
		return "ListAvailablePlans"
	case len(parts) == 4 && parts[3] == "operations":
		return "ListOutstandingOperations"
	case len(parts) == 5 && parts[3] == "operations" && method == http.MethodGet:
		return "GetOperationStatus"
	case len(parts) == 5 && parts[3] == "operations" && method == http.MethodPatch:
		return "UpdateOperationStatus"
	}
	return "other"
}
