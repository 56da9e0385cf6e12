package console

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/api"
	"github.com/marketgate/marketgate/server/sandbox/awsfake"
	"github.com/marketgate/marketgate/store"
)

// The buyer's side of the seller's money actions (issue 20): the
// cancellation and payment requests waiting for AWS buyers, answered here
// as a buyer answers them in AWS Marketplace, and the passing of the
// buyer's 7 days. The simulated Agreement Service tells each outcome by
// the EventBridge event AWS puts on the seller's queue.

var sandboxAWSRequestsPage = api.NewPage("Sandbox: AWS agreement requests", `<h1>Sandbox: the seller's requests to AWS buyers</h1>
<p>A seller's cancellation request waits 7 days for the buyer: approving it ends the agreement (Purchase Agreement Ended
follows: access and metering end), rejecting it keeps the agreement; nobody answering approves it when the 7 days pass.
A payment request charges the buyer once they approve it.</p>
<form method="post" action="/sandbox/aws/agreement-requests" class="sandbox-item">
<button type="submit" name="action" value="elapse">Let 7 days pass</button>
<span class="muted">(the simulated AWS's clock moves on: refunds settle, unanswered cancellation requests are approved)</span>
</form>
<h2>Waiting for the buyer</h2>
{{range .Waiting}}<form method="post" action="/sandbox/aws/agreement-requests" class="sandbox-sub" data-request="{{.ID}}">
<input type="hidden" name="agreement" value="{{.AgreementID}}"><input type="hidden" name="request" value="{{.ID}}"><input type="hidden" name="kind" value="{{.Kind}}">
{{if eq .Kind "cancellation"}}<strong>Cancellation request</strong> {{.ID}} · reason {{.Reason}} · answer by {{.RespondBy.Format "2006-01-02 15:04"}} UTC
{{else}}<strong>Payment request</strong> {{.ID}} · {{.Name}} · {{.Amount}}{{end}}
· agreement {{.AgreementID}}{{with .Customer}} · {{.}}{{end}}<br>
<label>Reason (when rejecting) <input name="reason" value="" maxlength="200"></label>
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="reject">Reject</button>
</form>{{else}}<p class="muted">No request waits for a buyer.</p>{{end}}
<p><a href="/sandbox/aws">Back to the AWS buyer page</a></p>`)

// waitingRow is a request waiting for a buyer, with the subscription's customer.
type waitingRow struct {
	awsfake.BuyerRequest
	Customer string
}

func (s *Console) sandboxAWSRequests(c *gin.Context) {
	if s.AWSAgreements == nil {
		s.pages.Problem(c, http.StatusNotFound, "No Agreement Service", "The simulated Agreement Service is off.", "/sandbox/aws", "Back")
		return
	}
	s.AWSAgreements.Settle()
	names := map[string]string{}
	if ags, err := s.Store.SandboxAgreements(c.Request.Context()); err == nil {
		for _, a := range ags {
			if a.SubscriptionID == nil {
				continue
			}
			if sub, err := s.Store.GetSubscription(c.Request.Context(), *a.SubscriptionID); err == nil && sub.Customer != nil {
				names[a.AgreementID] = sub.Customer.Name
			}
		}
	}
	rows := []waitingRow{}
	for _, w := range s.AWSAgreements.Waiting() {
		rows = append(rows, waitingRow{BuyerRequest: w, Customer: names[w.AgreementID]})
	}
	s.pages.RenderPage(c, http.StatusOK, sandboxAWSRequestsPage, map[string]any{"Waiting": rows})
}

func (s *Console) sandboxAWSRequestAnswer(c *gin.Context) {
	if err := s.pages.CheckOrigin(c.Request); err != nil {
		s.pages.Problem(c, http.StatusForbidden, "Request refused", "This form can only be sent from this site.", "", "")
		return
	}
	if s.AWSAgreements == nil {
		s.pages.Problem(c, http.StatusNotFound, "No Agreement Service", "The simulated Agreement Service is off.", "/sandbox/aws", "Back")
		return
	}
	var err error
	agreement, id, reason := c.PostForm("agreement"), c.PostForm("request"), strings.TrimSpace(c.PostForm("reason"))
	switch action := c.PostForm("action"); {
	case action == "elapse":
		s.AWSAgreements.Elapse(awsfake.CancellationWindow)
	case c.PostForm("kind") == "cancellation":
		err = s.AWSAgreements.AnswerCancellation(agreement, id, action == "approve", reason)
	default:
		err = s.AWSAgreements.AnswerPayment(agreement, id, action == "approve", reason)
	}
	if err != nil {
		s.pages.Problem(c, http.StatusConflict, "Already answered", "This request is no longer waiting for the buyer.", "/sandbox/aws/agreement-requests", "Back")
		return
	}
	c.Redirect(http.StatusSeeOther, "/sandbox/aws/agreement-requests")
}

// agreementNotice puts the event AWS sends for an outcome on the queue,
// for the buyer the agreement belongs to; an approved cancellation also
// ends the contract's grants and the buyer's metering first, as AWS does.
func (s *Console) agreementNotice(n awsfake.MoneyNotice) {
	ctx := context.Background()
	ags, err := s.Store.SandboxAgreements(ctx)
	if err != nil {
		return
	}
	for _, a := range ags {
		if a.AgreementID != n.AgreementID || a.SubscriptionID == nil {
			continue
		}
		sub, err := s.Store.GetSubscription(ctx, *a.SubscriptionID)
		if err != nil {
			return
		}
		ident := awsfake.Identity{CustomerAWSAccountID: sub.AWSCustomerAccountID, LicenseArn: sub.AWSLicenseArn,
			CustomerIdentifier: sub.AWSCustomerIdentifier, ProductCode: sub.AWSProductCode}
		if n.Ended {
			s.AWSEntitlements.Expire(ident, n.At)
			s.AWSMetering.Unsubscribe(ident)
		}
		for _, b := range n.Bodies(ident) {
			s.sandboxSend(b)
		}
		return
	}
}

// SandboxAgreementMoney gives an agreement of the sandbox what a buyer's
// agreement has at AWS: an invoice of the first month and a
// variable-payment term the seller can send payment requests against.
func SandboxAgreementMoney(f *awsfake.AgreementService, agreementID string, start time.Time) {
	if f == nil || f.HasInvoices(agreementID) {
		return
	}
	f.SetInvoice(agreementID, awsfake.Invoice{ID: "inv-" + strings.TrimPrefix(agreementID, "agmt-"), Amount: "250.00", Currency: "USD", Issued: start})
	f.SetVariablePayment(agreementID, awsfake.VariablePayment{TermID: "term-variable-payment", MaxTotal: "1000.00", Currency: "USD"})
}

// LoadAgreementMoney gives every stored agreement its sandbox invoice and
// variable-payment term (after a restart, like AWS which keeps them).
func LoadAgreementMoney(ctx context.Context, st *store.Store, f *awsfake.AgreementService) error {
	rows, err := st.SandboxAgreements(ctx)
	if err != nil {
		return err
	}
	for _, a := range rows {
		start := a.CreatedAt
		if a.StartsAt != nil {
			start = *a.StartsAt
		}
		SandboxAgreementMoney(f, a.AgreementID, start)
	}
	return nil
}
