package api

import (
	"cmp"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/store"
)

// Invitations by e-mail (issue 17): when mail is set up (the alerts' SMTP
// settings, Deps.Mail), a new invitation's link is also sent to the
// invitee, in the invitation's language; the link is answered either way,
// so it can still be copied (and it is the only way without SMTP).

// invitationLanguage is the language of a new invitation: the one the
// inviter chose for the invitee, else the inviter's own (the lang cookie
// or their browser's language).
func (s *Server) invitationLanguage(c *gin.Context, chosen string) string {
	if chosen == "en" || chosen == "ja" {
		return chosen
	}
	return requestLang(c.Request).Code
}

// mailInvitation sends an invitation's link to its invitee (company: the
// customer's name for a customer-admin invitation) and says whether it
// went; a failure is logged and the link stays to be copied.
func (s *Server) mailInvitation(c *gin.Context, inv *store.Invitation, company, link string) bool {
	if s.Mail == nil {
		return false
	}
	l := langFor(inv.Language)
	by := cmp.Or(inv.CreatedBy, l.T("an_administrator"))
	var subject, body string
	if inv.Kind == store.InviteStaff {
		role := l.T("role_" + inv.Role)
		subject = l.T("mail_invite_staff_subject", "By", by)
		body = l.T("mail_invite_staff_body", "By", by, "Name", cmp.Or(inv.Name, inv.Email), "Role", role, "Link", link, "Expires", l.Date(inv.ExpiresAt))
	} else {
		company = cmp.Or(company, l.T("your_organisation"))
		subject = l.T("mail_invite_admin_subject", "By", by, "Company", company)
		body = l.T("mail_invite_admin_body", "By", by, "Company", company, "Link", link, "Expires", l.Date(inv.ExpiresAt))
	}
	if err := s.Mail.SendMail(c.Request.Context(), inv.Email, subject, body); err != nil {
		s.Log.Warn("invitation e-mail not sent", "request_id", requestID(c), "invite", inv.ID, "err", err)
		return false
	}
	return true
}
