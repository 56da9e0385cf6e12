package api

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
)

// azureNotification receives Microsoft's notifications (the calls its
// documentation names the webhook; the URL keeps that word). The token is
// checked before anything else; a refused call changes nothing.
func (s *Server) azureNotification(c *gin.Context) {
	ctx := c.Request.Context()
	if s.Azure == nil {
		s.failCode(c, apperr.NotFound, "Microsoft's marketplace is not configured")
		return
	}
	if s.AzureNotifications != nil {
		if err := s.AzureNotifications.Verify(ctx, c.GetHeader("Authorization")); err != nil {
			s.Log.Warn("azure notification refused", "request_id", requestID(c), "ip", c.ClientIP(), "err", err)
			s.failCode(c, apperr.Unauthenticated, "the webhook token was refused")
			return
		}
	} else if !s.AzureInsecureNotifications {
		s.failCode(c, apperr.Unauthenticated, "webhook authentication is not configured")
		return
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, 1<<20))
	if err != nil {
		s.failCode(c, apperr.Invalid, "unreadable body")
		return
	}
	ans, err := s.Azure.ReceiveNotification(ctx, body, inboxHeaders(c.Request))
	if err != nil {
		s.fail(c, err) // not stored: Microsoft retries
		return
	}
	// A redelivery gets the answer the first delivery got (stored with it).
	if ans.Status != http.StatusOK {
		c.JSON(ans.Status, gin.H{"error": gin.H{"code": "rejected", "message": ans.Message, "request_id": requestID(c)}})
	} else {
		c.JSON(http.StatusOK, gin.H{"status": "received"})
	}
	if ans.New && s.AzureNotificationReceived != nil {
		// Confirmed with Get Operation after the answer, by the background
		// job; a refused change is only recorded (never approved), an
		// accepted one is acted on.
		s.AzureNotificationReceived(ans.InboxID)
	}
}
