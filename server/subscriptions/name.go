package subscriptions

import "strings"

// DisplayName is the one rule for a subscription's name: the marketplace's
// name for it when it gives one (Microsoft's subscriptionName, which the
// buyer chose), else "<Customer> – <Offer>" (AWS names none). With one of
// the two unknown, the other alone; with neither, "" (the portal then shows
// the subscription's number).
func DisplayName(marketplaceName, customer, offer string) string {
	if n := strings.TrimSpace(marketplaceName); n != "" {
		return n
	}
	customer, offer = strings.TrimSpace(customer), strings.TrimSpace(offer)
	switch {
	case customer != "" && offer != "":
		return customer + " – " + offer
	case customer != "":
		return customer
	default:
		return offer
	}
}
