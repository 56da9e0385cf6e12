package api

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/server/auth"
	"github.com/marketgate/marketgate/server/changes"
	"github.com/marketgate/marketgate/server/seats"
	"github.com/marketgate/marketgate/store"
)

// The catalog: offers and their plans, as the seller sells them on each
// marketplace. Everyone signed in reads it; admins edit it.

type offerView struct {
	ID            uint       `json:"id"`
	Marketplace   string     `json:"marketplace" enum:"aws,azure"`
	Name          string     `json:"name"`
	MarketplaceID string     `json:"marketplace_id"`
	IdentityModel string     `json:"identity_model"`
	Contract      bool       `json:"contract"`
	Plans         []planView `json:"plans"`
	// Permissions: what the app asks a Microsoft customer's administrator
	// to grant after activation (Entra admin consent), with the reasons.
	Permissions []offerPermissionView `json:"permissions"`
	// Branding of the offer's buyer-facing pages (branding.go).
	Branding offerBranding `json:"branding"`
}

type planView struct {
	ID               uint              `json:"id"`
	PlanID           string            `json:"plan_id"`
	Name             string            `json:"name"`
	SeatBased        bool              `json:"seat_based"`
	Dimensions       []store.Dimension `json:"dimensions"`
	ActivationPolicy string            `json:"activation_policy"`
	// What a Microsoft customer may not change on their own; 0: no limit.
	RejectPlanChange     bool `json:"reject_plan_change"`
	RejectQuantityChange bool `json:"reject_quantity_change"`
	MinQuantity          int  `json:"min_quantity"`
	MaxQuantity          int  `json:"max_quantity"`
	// Seats (per-user plans).
	AllowOverAssignment bool   `json:"allow_over_assignment"`
	AutoAssignSeats     bool   `json:"auto_assign_seats"`
	OverQuantityPolicy  string `json:"over_quantity_policy" enum:"keep_all,newest_unlicensed"`
	// NeedsReview: learned from the marketplace (a purchase of a plan not in
	// the catalog); saving the plan marks it reviewed.
	NeedsReview bool `json:"needs_review"`
	// What a customer admin may change from the customer portal.
	CustomerPlanChange  string `json:"customer_plan_change" enum:"allowed,approval,not_allowed"`
	CustomerSeatChange  string `json:"customer_seat_change" enum:"allowed,approval,not_allowed"`
	CustomerUnsubscribe string `json:"customer_unsubscribe" enum:"allowed,approval,not_allowed"`
}

func viewPlan(p *store.Plan) planView {
	dims := p.DimensionList()
	if dims == nil {
		dims = []store.Dimension{}
	}
	return planView{ID: p.ID, PlanID: p.PlanID, Name: p.Name, SeatBased: p.SeatBased, Dimensions: dims, ActivationPolicy: p.ActivationPolicy,
		RejectPlanChange: p.RejectPlanChange, RejectQuantityChange: p.RejectQuantityChange, MinQuantity: p.MinQuantity, MaxQuantity: p.MaxQuantity,
		AllowOverAssignment: p.AllowOverAssignment, AutoAssignSeats: p.AutoAssignSeats, OverQuantityPolicy: seats.OverPolicy(p), NeedsReview: p.NeedsReview,
		CustomerPlanChange: changes.NormalPolicy(p.CustomerPlanChange), CustomerSeatChange: changes.NormalPolicy(p.CustomerSeatChange),
		CustomerUnsubscribe: changes.NormalPolicy(p.CustomerUnsubscribe)}
}

func (s *Server) listOffers(c *gin.Context) (list[offerView], error) {
	offers, err := s.Store.ListOffers(c.Request.Context())
	if err != nil {
		return list[offerView]{}, err
	}
	out := make([]offerView, 0, len(offers))
	for _, o := range offers {
		out = append(out, viewOffer(&o))
	}
	return list[offerView]{Items: out}, nil
}

var (
	awsProductCode = regexp.MustCompile(`^[a-z0-9]{1,64}$`)
	msOfferID      = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,49}$`)
	planIDPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$`)
	dimensionKey   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

type offerInput struct {
	Marketplace   *string `json:"marketplace"`
	Name          *string `json:"name"`
	MarketplaceID *string `json:"marketplace_id"`
	IdentityModel *string `json:"identity_model"`
	Contract      *bool   `json:"contract"`
	// Permissions replaces the offer's list (Microsoft offers only).
	Permissions *[]offerPermissionInput `json:"permissions"`
	// Branding, when given, replaces the offer's branding of its buyer pages.
	Branding *offerBranding `json:"branding"`
}

// validOffer checks an offer as it would be stored.
func validOffer(o *store.Offer) error {
	switch o.Marketplace {
	case "aws":
		if !awsProductCode.MatchString(o.MarketplaceID) {
			return apperr.New(apperr.Invalid, "Product code: 1 to 64 lower-case letters and digits, as AWS Marketplace shows it")
		}
		if o.IdentityModel != "legacy" && o.IdentityModel != "concurrent_agreements" {
			return apperr.New(apperr.Invalid, "How AWS identifies a buyer: legacy (CustomerIdentifier + ProductCode) or concurrent_agreements (CustomerAWSAccountId + LicenseArn)")
		}
	case "azure":
		if !msOfferID.MatchString(o.MarketplaceID) {
			return apperr.New(apperr.Invalid, "Offer id: up to 50 lower-case letters, digits, hyphens and underscores, as Partner Center shows it")
		}
		if o.IdentityModel != "" || o.Contract {
			return apperr.New(apperr.Invalid, "How AWS identifies a buyer and contract pricing are for AWS offers only")
		}
	default:
		return apperr.New(apperr.Invalid, "Marketplace: choose AWS Marketplace or the Microsoft commercial marketplace")
	}
	if n := strings.TrimSpace(o.Name); n == "" || len(n) > 200 || auth.HasControl(n) {
		return apperr.New(apperr.Invalid, "Name: 1 to 200 characters, no control characters")
	}
	return nil
}

// offerAnswer is one offer with its plans.
type offerAnswer struct {
	Offer offerView `json:"offer"`
}

func (s *Server) createOffer(c *gin.Context, in offerInput) (offerAnswer, error) {
	now := s.Now().UTC()
	o := store.Offer{CreatedAt: now, UpdatedAt: now}
	applyOffer(&o, &in)
	if err := validOffer(&o); err != nil {
		return offerAnswer{}, err
	}
	perms, err := offerPermissions(&o, in.Permissions)
	if err != nil {
		return offerAnswer{}, err
	}
	if in.Branding != nil {
		b, err := checkBranding(*in.Branding)
		if err != nil {
			return offerAnswer{}, err
		}
		o.OfferBranding = b
	}
	if err := s.Store.CreateOffer(c.Request.Context(), &o); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return offerAnswer{}, apperr.New(apperr.Conflict, "an offer %s already exists on %s", o.MarketplaceID, o.Marketplace)
		}
		return offerAnswer{}, err
	}
	if len(perms) > 0 {
		if err := s.Store.ReplaceOfferPermissions(c.Request.Context(), o.ID, perms, now); err != nil {
			return offerAnswer{}, err
		}
		o.Permissions = perms
	}
	s.audit(c, currentUser(c), "offer.create", "offer", o.ID, nil, viewOffer(&o))
	return offerAnswer{Offer: viewOffer(&o)}, nil
}

// setIf copies a field a PATCH body gave (non-nil) onto the row.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func applyOffer(o *store.Offer, in *offerInput) {
	setIf(&o.Marketplace, in.Marketplace)
	setIf(&o.Name, in.Name)
	setIf(&o.MarketplaceID, in.MarketplaceID)
	setIf(&o.IdentityModel, in.IdentityModel)
	setIf(&o.Contract, in.Contract)
	o.Name, o.MarketplaceID = strings.TrimSpace(o.Name), strings.TrimSpace(o.MarketplaceID)
}

func viewOffer(o *store.Offer) offerView {
	ov := offerView{ID: o.ID, Marketplace: o.Marketplace, Name: o.Name, MarketplaceID: o.MarketplaceID, IdentityModel: o.IdentityModel,
		Contract: o.Contract, Plans: []planView{}, Permissions: viewPermissions(o.Permissions),
		Branding: viewBranding(o.OfferBranding)}
	for i := range o.Plans {
		ov.Plans = append(ov.Plans, viewPlan(&o.Plans[i]))
	}
	return ov
}

// updateOffer changes an offer's name, identity model or contract flag;
// its marketplace and marketplace id identify it and do not change.
func (s *Server) updateOffer(c *gin.Context, in offerInput) (offerAnswer, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return offerAnswer{}, err
	}
	if in.Marketplace != nil || in.MarketplaceID != nil {
		return offerAnswer{}, apperr.New(apperr.Invalid, "an offer's marketplace and marketplace_id identify it and cannot change: create another offer")
	}
	ctx := c.Request.Context()
	o, err := s.Store.OfferByID(ctx, id, true)
	if err != nil {
		return offerAnswer{}, apperr.New(apperr.NotFound, "offer %d does not exist", id)
	}
	before := viewOffer(o)
	applyOffer(o, &in)
	if err := validOffer(o); err != nil {
		return offerAnswer{}, err
	}
	perms, err := offerPermissions(o, in.Permissions)
	if err != nil {
		return offerAnswer{}, err
	}
	var branding *store.OfferBranding
	if in.Branding != nil {
		b, err := checkBranding(*in.Branding)
		if err != nil {
			return offerAnswer{}, err
		}
		branding = &b
	}
	if err := s.Store.UpdateOffer(ctx, o, s.Now().UTC()); err != nil {
		return offerAnswer{}, err
	}
	if perms != nil {
		if err := s.Store.ReplaceOfferPermissions(ctx, o.ID, perms, s.Now().UTC()); err != nil {
			return offerAnswer{}, err
		}
		o.Permissions = perms
	}
	if branding != nil {
		if err := s.Store.UpdateOfferBranding(ctx, o.ID, *branding, s.Now().UTC()); err != nil {
			return offerAnswer{}, err
		}
		o.OfferBranding = *branding
	}
	s.audit(c, currentUser(c), "offer.update", "offer", o.ID, before, viewOffer(o))
	return offerAnswer{Offer: viewOffer(o)}, nil
}

// offerPermissions checks a PATCH's permission list: nil when it gives
// none (the list stays), else the new list (empty clears it).
func offerPermissions(o *store.Offer, in *[]offerPermissionInput) ([]store.OfferPermission, error) {
	if in == nil {
		return nil, nil
	}
	if o.Marketplace != "azure" && len(*in) > 0 {
		return nil, apperr.New(apperr.InvalidPermission, "extra app permissions (Entra admin consent) are for Microsoft offers only")
	}
	perms, err := validPermissions(*in)
	if err != nil {
		return nil, err
	}
	return perms, nil
}

type planInput struct {
	PlanID               *string            `json:"plan_id"`
	Name                 *string            `json:"name"`
	SeatBased            *bool              `json:"seat_based"`
	Dimensions           *[]store.Dimension `json:"dimensions"`
	ActivationPolicy     *string            `json:"activation_policy"`
	RejectPlanChange     *bool              `json:"reject_plan_change"`
	RejectQuantityChange *bool              `json:"reject_quantity_change"`
	MinQuantity          *int               `json:"min_quantity"`
	MaxQuantity          *int               `json:"max_quantity"`
	AllowOverAssignment  *bool              `json:"allow_over_assignment"`
	AutoAssignSeats      *bool              `json:"auto_assign_seats"`
	OverQuantityPolicy   *string            `json:"over_quantity_policy"`
	CustomerPlanChange   *string            `json:"customer_plan_change" enum:"allowed,approval,not_allowed"`
	CustomerSeatChange   *string            `json:"customer_seat_change" enum:"allowed,approval,not_allowed"`
	CustomerUnsubscribe  *string            `json:"customer_unsubscribe" enum:"allowed,approval,not_allowed"`
}

func applyPlan(p *store.Plan, in *planInput) error {
	setIf(&p.PlanID, in.PlanID)
	setIf(&p.Name, in.Name)
	p.PlanID, p.Name = strings.TrimSpace(p.PlanID), strings.TrimSpace(p.Name)
	setIf(&p.SeatBased, in.SeatBased)
	setIf(&p.ActivationPolicy, in.ActivationPolicy)
	setIf(&p.RejectPlanChange, in.RejectPlanChange)
	setIf(&p.RejectQuantityChange, in.RejectQuantityChange)
	setIf(&p.MinQuantity, in.MinQuantity)
	setIf(&p.MaxQuantity, in.MaxQuantity)
	setIf(&p.AllowOverAssignment, in.AllowOverAssignment)
	setIf(&p.AutoAssignSeats, in.AutoAssignSeats)
	setIf(&p.OverQuantityPolicy, in.OverQuantityPolicy)
	setIf(&p.CustomerPlanChange, in.CustomerPlanChange)
	setIf(&p.CustomerSeatChange, in.CustomerSeatChange)
	setIf(&p.CustomerUnsubscribe, in.CustomerUnsubscribe)
	if in.Dimensions != nil {
		dims, err := dimensionsJSON(*in.Dimensions)
		if err != nil {
			return err
		}
		p.Dimensions = dims
	}
	return validatePlan(p)
}

// dimensionsJSON checks a plan's dimensions (keys as the marketplace knows
// them, each once; names and units not too long) and encodes them.
func dimensionsJSON(dims []store.Dimension) (string, error) {
	seen := map[string]bool{}
	for i, d := range dims {
		if !dimensionKey.MatchString(d.Key) {
			return "", apperr.New(apperr.Invalid, "Dimension %d: the key is 1 to 64 letters, digits, '_', '.' or '-', as the marketplace knows it", i+1)
		}
		if seen[d.Key] {
			return "", apperr.New(apperr.Invalid, "Dimension %d: the key %q is listed twice", i+1, d.Key)
		}
		seen[d.Key] = true
		if len(d.Name) > 200 || len(d.Unit) > 50 {
			return "", apperr.New(apperr.Invalid, "Dimension %d: the name is up to 200 characters, the unit up to 50", i+1)
		}
	}
	b, _ := json.Marshal(dims)
	return string(b), nil
}

// validatePlan checks a plan's fields once the changes are applied.
func validatePlan(p *store.Plan) error {
	switch {
	case !planIDPattern.MatchString(p.PlanID):
		return apperr.New(apperr.Invalid, "Plan id: 1 to 50 letters, digits, '_', '.' or '-', as the marketplace knows it")
	case p.Name == "" || len(p.Name) > 200 || auth.HasControl(p.Name):
		return apperr.New(apperr.Invalid, "Name: 1 to 200 characters, no control characters")
	case !oneOf(p.ActivationPolicy, []string{store.ActivateAutomatic, store.ActivateBuyerConfirms, store.ActivateSellerApproves}):
		return apperr.New(apperr.Invalid, "Activation: choose one of the activation rules")
	case !validPolicies(p):
		return apperr.New(apperr.Invalid, "Customer changes: choose allowed, approval or not allowed for plan changes, seat changes and unsubscribing")
	}
	return validatePlanSeats(p)
}

// validPolicies: a plan's customer change policies are known ones (""
// stands for approval, the default).
func validPolicies(p *store.Plan) bool {
	for _, v := range []string{p.CustomerPlanChange, p.CustomerSeatChange, p.CustomerUnsubscribe} {
		if v != "" && !oneOf(v, changes.Policies) {
			return false
		}
	}
	return true
}

// validatePlanSeats checks a plan's quantity limits and seat policies.
func validatePlanSeats(p *store.Plan) error {
	switch {
	case p.MinQuantity < 0 || p.MaxQuantity < 0 || (p.MaxQuantity > 0 && p.MinQuantity > p.MaxQuantity):
		return apperr.New(apperr.Invalid, "Fewest and most seats: 0 (no limit), and the fewest no more than the most")
	case p.OverQuantityPolicy != "" && !oneOf(p.OverQuantityPolicy, []string{store.OverQuantityKeepAll, store.OverQuantityNewestUnlicensed}):
		return apperr.New(apperr.Invalid, "Seats over the quantity: keep access (keep_all) or refuse the newest (newest_unlicensed)")
	case !p.SeatBased && (p.AllowOverAssignment || p.AutoAssignSeats || p.MinQuantity > 0 || p.MaxQuantity > 0):
		return apperr.New(apperr.Invalid, "Seat policies and seat limits are for per-user plans only")
	}
	return nil
}

// planAnswer is one plan.
type planAnswer struct {
	Plan planView `json:"plan"`
}

func (s *Server) createPlan(c *gin.Context, in planInput) (planAnswer, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return planAnswer{}, err
	}
	ctx := c.Request.Context()
	o, err := s.Store.OfferByID(ctx, id, false)
	if err != nil {
		return planAnswer{}, apperr.New(apperr.NotFound, "offer %d does not exist", id)
	}
	now := s.Now().UTC()
	p := store.Plan{OfferID: o.ID, Dimensions: "[]", ActivationPolicy: store.ActivateAutomatic, OverQuantityPolicy: store.OverQuantityKeepAll,
		CreatedAt: now, UpdatedAt: now}
	if err := applyPlan(&p, &in); err != nil {
		return planAnswer{}, err
	}
	if err := s.Store.CreatePlan(ctx, &p); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return planAnswer{}, apperr.New(apperr.Conflict, "offer %s already has a plan %s", o.MarketplaceID, p.PlanID)
		}
		return planAnswer{}, err
	}
	s.audit(c, currentUser(c), "plan.create", "plan", p.ID, nil, viewPlan(&p))
	return planAnswer{Plan: viewPlan(&p)}, nil
}

// updatePlan changes a plan; its plan id identifies it at the marketplace
// and does not change.
func (s *Server) updatePlan(c *gin.Context, in planInput) (planAnswer, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return planAnswer{}, err
	}
	if in.PlanID != nil {
		return planAnswer{}, apperr.New(apperr.Invalid, "a plan's plan_id identifies it at the marketplace and cannot change: create another plan")
	}
	return s.savePlan(c, id, &in, "plan.update")
}

// planSeatsInput is a plan's seat policies (a PATCH: absent fields stay).
type planSeatsInput struct {
	SeatBased           *bool   `json:"seat_based"`
	AllowOverAssignment *bool   `json:"allow_over_assignment"`
	AutoAssignSeats     *bool   `json:"auto_assign_seats"`
	OverQuantityPolicy  *string `json:"over_quantity_policy"`
}

// updatePlanSeats sets a plan's seat policies (admins): per-user or not,
// over-assignment, auto-assignment on first check, and what the seat check
// answers for seats over the quantity.
func (s *Server) updatePlanSeats(c *gin.Context, in planSeatsInput) (planAnswer, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return planAnswer{}, err
	}
	return s.savePlan(c, id, &planInput{SeatBased: in.SeatBased, AllowOverAssignment: in.AllowOverAssignment,
		AutoAssignSeats: in.AutoAssignSeats, OverQuantityPolicy: in.OverQuantityPolicy}, "plan.seats")
}

// savePlan applies a change to a plan, validates the result, stores it and
// writes the audit entry.
func (s *Server) savePlan(c *gin.Context, id uint, in *planInput, action string) (planAnswer, error) {
	ctx := c.Request.Context()
	p, err := s.Store.PlanByID(ctx, id)
	if err != nil {
		return planAnswer{}, apperr.New(apperr.NotFound, "plan %d does not exist", id)
	}
	before := viewPlan(p)
	if err := applyPlan(p, in); err != nil {
		return planAnswer{}, err
	}
	p.UpdatedAt = s.Now().UTC()
	p.NeedsReview = false // a seller saved it: reviewed
	if err := s.Store.SavePlan(ctx, p); err != nil {
		return planAnswer{}, err
	}
	s.audit(c, currentUser(c), action, "plan", p.ID, before, viewPlan(p))
	return planAnswer{Plan: viewPlan(p)}, nil
}
