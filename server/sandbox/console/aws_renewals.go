package console

import (
	"strconv"
	"time"

	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
)

// The sandbox's agreement controls (issue 20): what the simulated
// Agreement Service holds of a buyer's agreement (DescribeAgreement,
// GetAgreementTerms with pricing and a renewal term, entitlements), and the
// buyer's renewal moments: "advance to N days before the end" (AWS's
// Purchase Agreement Ending, 180, 120, 90, 60 or 30 days before) and "turn
// auto-renew off (by the buyer)" (Purchase Agreement Amended,
// autoRenewalEnabled false). Both variants of each event are sent, as AWS
// sends them to a seller on its own offers.

// EndingDays are the days before the end AWS sends Purchase Agreement Ending.
var EndingDays = []int{180, 120, 90, 60, 30}

// agreementRates are the rate card of an offer's plan: a contract's
// dimensions at the units bought, usage dimensions at a small price.
func agreementRates(offer *store.Offer, planID string, units int) []awsfake.Rate {
	var out []awsfake.Rate
	for i := range offer.Plans {
		p := &offer.Plans[i]
		if planID != "" && p.PlanID != planID {
			continue
		}
		for _, d := range p.DimensionList() {
			r := awsfake.Rate{Dimension: d.Key, Price: "0.01"}
			if offer.Contract && !d.Metered {
				r.Price, r.Units = "10.00", units
			}
			out = append(out, r)
		}
		break
	}
	return out
}

// recordAgreement tells the simulated Agreement Service of a new agreement:
// the terms the buyer accepted and who they are.
func (s *Console) recordAgreement(agreement string, ident awsfake.Identity, offerID string, terms awsfake.AgreementTerms) {
	if s.AWSAgreements == nil {
		return
	}
	s.AWSAgreements.SetTerms(agreement, terms)
	s.AWSAgreements.SetAgreement(agreement, awsfake.AgreementInfo{AcceptorAccountID: ident.CustomerAWSAccountID, ProductID: ident.ProductCode,
		OfferID: offerID, LicenseArn: ident.LicenseArn})
	SandboxAgreementMoney(s.AWSAgreements, agreement, terms.Start)
}

// awsRenewalControl moves a concurrent-agreements buyer's agreement to n
// days before its end (and sends Ending), or turns auto-renewal off as the
// buyer (and sends Amended). It returns a problem's title and text when it
// cannot.
func (s *Console) awsRenewalControl(a awsSandboxEvent, action string) (title, text string) {
	if !a.ca {
		return "No such AWS event", "Agreement events are sent for concurrent-agreement products (EventBridge)."
	}
	if s.AWSAgreements == nil {
		return "No Agreement Service", "The sandbox runs without the simulated Agreement Service."
	}
	agreement := s.sandboxAgreement(a.c, a.sub, a.ident)
	info, autoRenew, _ := s.AWSAgreements.Agreement(agreement)
	end := info.End
	switch action {
	case "advance-ending":
		days, err := strconv.Atoi(a.c.PostForm("days"))
		if err != nil || !validEndingDays(days) {
			return "Choose the days", "AWS sends Purchase Agreement Ending 180, 120, 90, 60 or 30 days before the end."
		}
		end = a.now.Truncate(time.Second).AddDate(0, 0, days)
		s.AWSAgreements.SetEnd(agreement, end)
		for _, b := range awsfake.EndingEvents(a.ident, agreement, days, end, autoRenew, a.now) {
			s.sandboxSend(b)
		}
	case "auto-renew-off":
		s.AWSAgreements.SetAutoRenew(agreement, false, false)
		for _, b := range awsfake.AutoRenewalEvents(a.ident, agreement, end, false, a.now) {
			s.sandboxSend(b)
		}
	}
	return "", ""
}

func validEndingDays(d int) bool {
	for _, x := range EndingDays {
		if x == d {
			return true
		}
	}
	return false
}
