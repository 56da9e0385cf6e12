package awsmp

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ma "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement"
	matypes "github.com/aws/aws-sdk-go-v2/service/marketplaceagreement/types"
	"github.com/aws/smithy-go"

	"github.com/marketgate/marketgate/store"
)

// AgreementAPI is the part of the Agreement Service client Marketgate uses.
type AgreementAPI interface {
	GetAgreementTerms(ctx context.Context, in *ma.GetAgreementTermsInput, opts ...func(*ma.Options)) (*ma.GetAgreementTermsOutput, error)
}

// Terms is what Marketgate reads from an agreement's accepted terms.
type Terms struct {
	FreeTrial      bool
	FreeTrialDays  int       // 0 when the trial's duration is not one Marketgate can read
	AgreementStart time.Time // the ValidityTerm's start date, when the terms give it
}

// ErrNoAgreementAPI means the partition has no Agreement Service (the AWS
// European Sovereign Cloud): the terms are unknown, not wrong.
var ErrNoAgreementAPI = errors.New("the AWS Agreement Service is not available in this partition")

// GetAgreementTerms reads an agreement's accepted terms, every page. A
// FreeTrialPricingTerm means a free trial; AWS allows 5 to 31 days, given
// as an ISO 8601 duration ("P14D").
func (c *Client) GetAgreementTerms(ctx context.Context, agreementID string) (Terms, error) {
	var out Terms
	terms, err := c.acceptedTerms(ctx, agreementID)
	if err != nil {
		return Terms{}, err
	}
	for _, t := range terms {
		switch v := t.(type) {
		case *matypes.AcceptedTermMemberFreeTrialPricingTerm:
			out.FreeTrial = true
			out.FreeTrialDays = isoDays(aws.ToString(v.Value.Duration))
		case *matypes.AcceptedTermMemberValidityTerm:
			if v.Value.AgreementStartDate != nil {
				out.AgreementStart = v.Value.AgreementStartDate.UTC()
			}
		}
	}
	return out, nil
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)W)?(?:(\d+)D)?$`)

// isoDays reads a duration of whole days or weeks ("P14D", "P2W"); 0 for
// anything else.
func isoDays(s string) int {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || (m[1] == "" && m[2] == "") {
		return 0
	}
	w, _ := strconv.Atoi(m[1])
	d, _ := strconv.Atoi(m[2])
	if w > 1000 || d > 10000 {
		return 0
	}
	return w*7 + d
}

// termsBatch is how many agreements ReadTerms reads at a time, and
// termsBatches how many batches one run reads at most: a backlog (a first
// start on a database of many agreements) drains in one run instead of 20
// agreements every 5 seconds, and one run still ends.
const (
	termsBatch   = 20
	termsBatches = 50
)

// ReadTerms reads the terms of linked agreements not read yet (and retries
// failed reads with backoff), storing each agreement's free trial. Where
// the partition has no Agreement Service the agreements are marked
// "unavailable": the free trial is unknown, and nothing fails. It returns
// how many agreements it looked at.
func (p *Processor) ReadTerms(ctx context.Context) int {
	total := 0
	for i := 0; i < termsBatches && ctx.Err() == nil; i++ {
		now := p.Store.Now()
		rows, err := p.Store.Reads(ctx).AWSAgreementsDueForTerms(now, termsBatch)
		if err != nil {
			p.Log.Error("aws agreement terms", "err", err)
			return total
		}
		for _, row := range rows {
			if err := p.readTerms(ctx, &row); err != nil {
				p.Log.Warn("aws agreement terms not read", "agreement", row.AgreementID, "err", err)
			}
		}
		total += len(rows)
		if len(rows) < termsBatch {
			break
		}
	}
	return total
}

func (p *Processor) readTerms(ctx context.Context, row *store.AWSAgreement) error {
	terms, err := p.AWS.GetAgreementTerms(ctx, row.AgreementID)
	now := p.Store.Now()
	db := p.Store.Writes(ctx)
	switch {
	case errors.Is(err, ErrNoAgreementAPI):
		return db.SetAWSTermsUnavailable(row.ID, now)
	case err != nil:
		// Throttling, server faults and network failures are retried with
		// backoff; AWS's refusals (access denied — a channel partner's
		// agreement —, not found, validation) are final: the free trial
		// stays unknown with the reason, and the agreement is not read again.
		var next *time.Time
		if transientTermsError(err) {
			t := now.Add(retryDelay(row.TermsAttempts))
			next = &t
		}
		if uerr := db.SetAWSTermsFailed(row.ID, clip(err.Error(), 512), next, now); uerr != nil {
			return uerr
		}
		return err
	}
	var days *int
	var ends *time.Time
	if terms.FreeTrial {
		d := terms.FreeTrialDays // 0: a trial whose duration Marketgate could not read
		days = &d
		start := terms.AgreementStart
		if start.IsZero() && row.StartsAt != nil {
			start = *row.StartsAt
		}
		if !start.IsZero() && terms.FreeTrialDays > 0 {
			e := start.AddDate(0, 0, terms.FreeTrialDays).UTC()
			ends = &e
		}
	}
	return p.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetAWSTermsRead(row.ID, days, ends, now); err != nil {
			return err
		}
		if !terms.FreeTrial || row.SubscriptionID == nil {
			return nil
		}
		// The subscription carries the free-trial flag whichever way AWS said it.
		return setFreeTrial(tx, *row.SubscriptionID, now)
	})
}

func transientTermsError(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return true // network, timeout, unreadable answer
	}
	switch api.ErrorCode() {
	case "ThrottlingException", "InternalServerException", "ServiceUnavailableException", "RequestTimeout":
		return true
	}
	return api.ErrorFault() == smithy.FaultServer
}

// FreeTrial is a subscription's AWS free trial as the portal shows it.
type FreeTrial struct {
	Status      string     `json:"status"` // active, ended, none, unknown (not read yet, or no Agreement API in this partition)
	Days        *int       `json:"days"`
	EndsAt      *time.Time `json:"ends_at"`
	AgreementID string     `json:"agreement_id,omitempty"`
	Note        string     `json:"note,omitempty"`
}

// FreeTrialOf summarises the free trial of a subscription from its
// agreements' terms: the newest agreement whose terms were read decides.
func FreeTrialOf(ags []store.AWSAgreement, now time.Time) FreeTrial {
	var best *store.AWSAgreement
	unavailable, pending, failed := false, false, ""
	for i := range ags {
		a := &ags[i]
		switch a.TermsStatus {
		case "read":
			if best == nil || newerAgreement(a, best) {
				best = a
			}
		case "unavailable":
			unavailable = true
		case "error":
			failed = a.TermsError
		default:
			pending = true
		}
	}
	switch {
	case best != nil && best.FreeTrialDays != nil:
		return trialOf(best, now)
	case best != nil:
		return FreeTrial{Status: "none", AgreementID: best.AgreementID}
	case unavailable:
		return FreeTrial{Status: "unknown", Note: "this AWS partition has no Agreement Service to read the terms from"}
	case pending:
		return FreeTrial{Status: "unknown", Note: "the agreement's terms have not been read yet"}
	case failed != "":
		return FreeTrial{Status: "unknown", Note: "AWS did not give the agreement's terms: " + failed}
	}
	return FreeTrial{Status: "unknown", Note: "no AWS agreement is linked to this subscription"}
}

// newerAgreement tells whether a was created after b (the higher id
// breaking a tie).
func newerAgreement(a, b *store.AWSAgreement) bool {
	return a.CreatedAt.After(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID > b.ID)
}

// trialOf is the free trial of an agreement whose terms give one.
func trialOf(a *store.AWSAgreement, now time.Time) FreeTrial {
	ft := FreeTrial{Status: "active", Days: a.FreeTrialDays, EndsAt: a.FreeTrialEndsAt, AgreementID: a.AgreementID}
	switch {
	case *a.FreeTrialDays == 0:
		ft.Days, ft.Note = nil, "AWS gave the trial's duration in a form Marketgate does not read"
	case a.FreeTrialEndsAt == nil:
		ft.Note = "the agreement's start date is not known yet"
	case !now.Before(*a.FreeTrialEndsAt):
		ft.Status = "ended"
	}
	return ft
}

// setFreeTrial flags a subscription as a free trial, unless it is one
// already (then nothing changes, its version included).
func setFreeTrial(tx *store.Tx, subID uint, now time.Time) error {
	for attempt := 0; ; attempt++ {
		sub, err := tx.AWSSubscription(subID, false)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil || sub.FreeTrial {
			return err
		}
		err = tx.UpdateSubscription(subID, sub.Version, map[string]any{"free_trial": true, "updated_at": now})
		if !errors.Is(err, store.ErrConflict) || attempt == 2 {
			return err
		}
		// Another writer changed it meanwhile: read it again.
	}
}
