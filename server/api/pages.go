package api

import (
	"crypto/rand"
	"encoding/base64"
	"html/template"

	"github.com/gin-gonic/gin"
)

// Server-rendered pages for buyers arriving from a marketplace: they come
// before any sign-in, so they do not need the portal's JavaScript. Every
// word on them comes from the catalogues (i18n.go, locales/): a template
// writes {{.L.T "id"}}, and a page's title is a message id.

var pageTemplates = template.Must(template.New("layout").Parse(`<!doctype html>
<html lang="{{.L.Code}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.T .Title}} · {{if .Brand}}{{if .Brand.Header}}{{.Brand.Name}}{{else}}Marketgate{{end}}{{else}}Marketgate{{end}}</title>
<link rel="stylesheet" href="/page-assets/page.css">{{if .Brand}}{{if .Brand.Accent}}
<style nonce="{{.Nonce}}">:root{--accent:{{.Brand.AccentCSS}}}</style>{{end}}{{end}}</head><body>
{{if .Translated}}<nav class="lang" aria-label="{{.L.T "lang_switch_label"}}">{{with .L.Other}}<a href="{{.SwitchURL $.Next}}" hreflang="{{.Code}}" lang="{{.Code}}">{{.T "lang_name"}}</a>{{end}}</nav>{{end}}
<main>{{if .Brand}}{{if .Brand.Header}}<header class="brand">{{if .Brand.Logo}}<img src="{{.Brand.LogoURL}}" alt="" class="logo">{{end}}<span class="brand-name">{{.Brand.Name}}</span></header>{{end}}{{end}}
{{template "body" .}}</main></body></html>`))

// pageTitles holds each page's title (a message id), by template.
var pageTitles = map[*template.Template]string{}

func page(title, body string) *template.Template {
	t := template.Must(template.Must(pageTemplates.Clone()).New("body").Parse(body))
	pageTitles[t] = title
	return t
}

// renderPage writes a page with a status in the request's language;
// buyers' pages are never cached. data["Brand"] (a *pageBrand) brands it.
func (s *Server) renderPage(c *gin.Context, status int, t *template.Template, data map[string]any) {
	if _, ok := data["Title"]; !ok {
		data["Title"] = pageTitles[t]
	}
	if _, ok := data["L"]; !ok {
		data["L"] = requestLang(c.Request)
	}
	data["Next"] = pageNext(c, data)
	// The switch is for the buyer pages; the sandbox's own pages are English only.
	if _, ok := data["Translated"]; !ok {
		data["Translated"] = data["L"].(*Lang).Has(pageTitles[t])
	}
	if data["Translated"] == false {
		data["L"] = langFor("en") // <html lang> says what the words are
	}
	if b, ok := data["Brand"].(*pageBrand); ok && b == nil {
		delete(data, "Brand") // a nil *pageBrand is not "no brand" to a template
	} else if ok {
		// The seller's logo may be on their own https site, and the accent
		// colour (validated #rrggbb) is one inline rule with a nonce.
		nonce := make([]byte, 16)
		_, _ = rand.Read(nonce)
		data["Nonce"] = base64.RawURLEncoding.EncodeToString(nonce) // nothing html/template escapes
		c.Header("Content-Security-Policy", brandedPagePolicy(data["Nonce"].(string)))
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Content-Language", data["L"].(*Lang).Code)
	c.Header("Vary", "Accept-Language, Cookie")
	c.Status(status)
	if err := t.ExecuteTemplate(c.Writer, "layout", data); err != nil {
		s.Log.Error("render page", "request_id", requestID(c), "err", err)
	}
}

// brandedPagePolicy is the content security policy of a branded page.
func brandedPagePolicy(nonce string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-" + nonce + "'; img-src 'self' data: https:; " +
		"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// problemPage tells a buyer what happened and what to do.
var problemPage = page("problem_page_title", `<h1>{{.Heading}}</h1><p>{{.Message}}</p>
{{if .Link}}<p><a class="button" href="{{.Link}}">{{.LinkText}}</a></p>{{end}}
<p class="muted">{{.L.T "problem_reference" "ID" .RequestID}}</p>`)

// showProblem renders the problem page of key in the request's language: the
// messages key_title and key_message (with kv as their data), and a link
// whose text is the message linkText.
func (s *Server) showProblem(c *gin.Context, status int, key, link, linkText string, kv ...any) {
	l := requestLang(c.Request)
	lt := ""
	if linkText != "" {
		lt = l.T(linkText)
	}
	title := l.T(key+"_title", kv...)
	s.renderPage(c, status, problemPage, map[string]any{"L": l, "Translated": true, "Title": title, "Heading": title, "Message": l.T(key+"_message", kv...),
		"Link": link, "LinkText": lt, "RequestID": requestID(c)})
}

// problemText is the problem page with words given (the sandbox's pages).
func (s *Server) problemText(c *gin.Context, status int, title, message, link, linkText string) {
	s.renderPage(c, status, problemPage, map[string]any{"Translated": false, "Title": title, "Heading": title, "Message": message, "Link": link,
		"LinkText": linkText, "RequestID": requestID(c)})
}

const awsMarketplaceURL = "https://aws.amazon.com/marketplace"
