package api

import (
	"errors"
	"net/http"
	"reflect"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/marketgate/marketgate/server/apperr"
	"github.com/marketgate/marketgate/store"
)

// The portal API's handlers are plain functions from a request to an
// answer or an error:
//
//	func (s *Server) getSubscription(c *gin.Context) (subscriptionDetail, error)
//	func (s *Server) createOffer(c *gin.Context, body offerInput) (offerView, error)
//
// registered in routes.go with handle/handleBody, which decode the body,
// write the answer as JSON and turn an error into the client's error (see
// errorCodes). Each registration also records the route's access class and
// the Go types of its body and answer: the portal API's OpenAPI document
// (contract.go) is made from them, and the portal's TypeScript types are
// generated from that document, so the two sides cannot drift apart.

// route is one registered route of the portal API.
type route struct {
	Method, Path string
	Access       access
	Public       bool
	Summary      string
	Body         reflect.Type // nil: no JSON body
	Answer       reflect.Type // nil: see Raw
	Status       int          // the success status (200 unless set)
	Raw          string       // content type of an answer that is not JSON (text/csv, image/png, ...)
	Query        reflect.Type // optional: a struct whose `form` tags name the query parameters
	Also         []int        // other success statuses a handler may choose (setStatus), same answer type
}

// router registers routes on a gin group and remembers them.
type router struct {
	s      *Server
	g      gin.IRoutes
	prefix string
	routes *[]route
}

// NoContent is the answer of a route that answers 204 with no body.
type NoContent struct{}

// routeOpt adjusts a route's registration.
type routeOpt func(*route)

// status sets the success status (201 Created, 202 Accepted).
func status(code int) routeOpt { return func(r *route) { r.Status = code } }

// alsoStatus documents other success statuses the handler may answer
// with (setStatus), with the same answer type.
func alsoStatus(codes ...int) routeOpt { return func(r *route) { r.Also = append(r.Also, codes...) } }

const ctxAnswerStatus = "answer_status"

// setStatus makes the handler answer with one of its route's alsoStatus
// statuses instead of its usual one.
func setStatus(c *gin.Context, code int) { c.Set(ctxAnswerStatus, code) }

// summary describes the route in the document.
func summary(text string) routeOpt { return func(r *route) { r.Summary = text } }

// query names the route's query parameters: a struct with `form` tags.
func query[Q any]() routeOpt { return func(r *route) { r.Query = reflect.TypeFor[Q]() } }

// public marks a route that needs no session.
var public = access{roles: nil}

// prepare applies the options to a route.
func (r *router) prepare(rt route, opts []routeOpt) route {
	rt.Path = r.prefix + rt.Path
	rt.Status = http.StatusOK
	for _, o := range opts {
		o(&rt)
	}
	rt.Public = rt.Access.roles == nil
	return rt
}

// register records the route and hands it to gin behind its access check.
func (r *router) register(rt route, h gin.HandlerFunc) {
	chain := []gin.HandlerFunc{h}
	if !rt.Public {
		chain = []gin.HandlerFunc{r.s.allow(rt.Access), h}
	}
	*r.routes = append(*r.routes, rt)
	r.g.Handle(rt.Method, rt.Path[len(r.prefix):], chain...)
}

// handle registers a route without a request body that answers JSON.
func handle[A any](r *router, method, path string, a access, fn func(c *gin.Context) (A, error), opts ...routeOpt) {
	rt := r.prepare(route{Method: method, Path: path, Access: a, Answer: reflect.TypeFor[A]()}, opts)
	r.register(rt, func(c *gin.Context) {
		out, err := fn(c)
		r.s.answer(c, rt.Status, out, err)
	})
}

// handleBody registers a route whose request body is JSON decoded into B.
func handleBody[B, A any](r *router, method, path string, a access, fn func(c *gin.Context, body B) (A, error), opts ...routeOpt) {
	rt := r.prepare(route{Method: method, Path: path, Access: a, Body: reflect.TypeFor[B](), Answer: reflect.TypeFor[A]()}, opts)
	r.register(rt, func(c *gin.Context) {
		var body B
		if !r.s.bindJSON(c, &body) {
			return
		}
		out, err := fn(c, body)
		r.s.answer(c, rt.Status, out, err)
	})
}

// handleRaw registers a route that writes its own answer (a file, an image,
// a redirect, or JSON not yet described by a Go type): the document names
// its content type only.
func handleRaw(r *router, method, path string, a access, contentType string, h gin.HandlerFunc, opts ...routeOpt) {
	r.register(r.prepare(route{Method: method, Path: path, Access: a, Raw: contentType}, opts), h)
}

// answer writes a handler's result.
func (s *Server) answer(c *gin.Context, code int, out any, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	if c.Writer.Written() || c.IsAborted() {
		return
	}
	if _, ok := out.(NoContent); ok {
		c.Status(http.StatusNoContent)
		return
	}
	if v, ok := c.Get(ctxAnswerStatus); ok {
		code = v.(int)
	}
	c.JSON(code, out)
}

// errorCodes maps the domain's errors to the client's, in one place: a
// handler returns the error it got and the client gets this code and
// message. An *apperr.Error passes through as it is; anything else is an
// internal error (logged with the request id, never shown).
var errorCodes = []struct {
	err     error
	code    string
	message string
}{
	{store.ErrNotFound, apperr.NotFound, "not found"},
	{store.ErrConflict, apperr.Conflict, "changed by someone else meanwhile; reload and try again"},
}

// clientError returns err's client-facing form.
func clientError(err error) *apperr.Error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	for _, m := range errorCodes {
		if errors.Is(err, m.err) {
			return &apperr.Error{Code: m.code, Message: m.message}
		}
	}
	return apperr.From(err)
}

// idParam reads a path parameter that must be a positive whole number.
func idParam(c *gin.Context, name string) (uint, error) {
	n, err := strconv.ParseUint(c.Param(name), 10, 32)
	if err != nil || n == 0 {
		return 0, apperr.New(apperr.Invalid, "%s must be a positive whole number", name)
	}
	return uint(n), nil
}
