package api

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/store"
)

// rowByID loads the row of model T with the id, or a not_found error that
// says what it is ("user 7 does not exist").
func rowByID[T any](s *Server, c *gin.Context, id uint, what string) (*T, error) {
	row, err := store.Row[T](c.Request.Context(), s.Store, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, "%s %d does not exist", what, id)
	}
	return row, err
}

// rowByPathID loads the row the path's :id names (rowByID).
func rowByPathID[T any](s *Server, c *gin.Context, what string) (*T, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return nil, err
	}
	return rowByID[T](s, c, id, what)
}
