package api

import (
	"html/template"

	"github.com/gin-gonic/gin"
)

// Server-rendered pages for buyers arriving from a marketplace: they come
// before any sign-in, so they do not need the portal's JavaScript.

var pageTemplates = template.Must(template.New("layout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Marketgate</title>
<link rel="stylesheet" href="/page-assets/page.css"></head><body><main>{{template "body" .}}</main></body></html>`))

// pageTitles holds each page's browser title, by template name.
var pageTitles = map[*template.Template]string{}

func page(title, body string) *template.Template {
	t := template.Must(template.Must(pageTemplates.Clone()).New("body").Parse(body))
	pageTitles[t] = title
	return t
}

// renderPage writes a page with a status; buyers' pages are never cached.
func (s *Server) renderPage(c *gin.Context, status int, t *template.Template, data map[string]any) {
	if _, ok := data["Title"]; !ok {
		data["Title"] = pageTitles[t]
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := t.ExecuteTemplate(c.Writer, "layout", data); err != nil {
		s.Log.Error("render page", "request_id", requestID(c), "err", err)
	}
}

// problemPage tells a buyer what happened and what to do.
var problemPage = page("Problem", `<h1>{{.Title}}</h1><p>{{.Message}}</p>
{{if .Link}}<p><a class="button" href="{{.Link}}">{{.LinkText}}</a></p>{{end}}
<p class="muted">Reference: {{.RequestID}}</p>`)

func (s *Server) problem(c *gin.Context, status int, title, message, link, linkText string) {
	s.renderPage(c, status, problemPage, map[string]any{"Title": title, "Message": message, "Link": link,
		"LinkText": linkText, "RequestID": requestID(c)})
}

const awsMarketplaceURL = "https://aws.amazon.com/marketplace"
