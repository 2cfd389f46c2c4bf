package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tenantops/tenant-operator/app/internal/assets"
	"github.com/tenantops/tenant-operator/app/internal/catalog"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
)

// staticPath is where the app serves its own files, for tenants without a CDN.
const staticPath = "/static"

type (
	catalogItem   = catalog.Item
	catalogRating = catalog.Rating
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"stars": func(n int) string { return strings.Repeat("★", n) + strings.Repeat("☆", 5-n) },
	"score": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
}).ParseFS(templateFS, "templates/*.html"))

// page is what every page template gets: the tenant's name and where its files come from.
type page struct {
	Tenant string
	// Style, Script and Logo are the URLs of the page's files.
	Style, Script, Logo string
	Data                map[string]any
}

// newPage places the page's files: on the tenant's CDN (assets-base-url) when it has one,
// otherwise under the app's own /static; the logo is the tenant's own when it names one.
func newPage(c tenant.Config, data map[string]any) page {
	base := c.AssetsBaseURL
	if base == "" {
		base = staticPath
	}
	p := page{Tenant: c.DisplayName, Style: base + "/" + assets.Hashed("style.css"), Script: base + "/" + assets.Hashed("widget.js"),
		Logo: base + "/" + assets.Hashed("logo.svg"), Data: data}
	if c.LogoURL != "" {
		p.Logo = c.LogoURL
	}
	return p
}

// csp allows exactly what a page uses: its stylesheet and logo from where they are, its script
// (on pages that have one) from there too, and the script's calls to the app's own API. Nothing
// inline, no framing, forms posting only here.
func (p page) csp(withScript bool) string {
	files := origin(p.Style)
	img := files
	if o := origin(p.Logo); o != files {
		img += " " + o
	}
	script, connect := "'none'", "'none'"
	if withScript {
		script, connect = files, "'self'"
	}
	return fmt.Sprintf("default-src 'none'; style-src %s; img-src %s; script-src %s; connect-src %s; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		files, img, script, connect)
}

// origin is the CSP source of a URL: 'self' for a path of this site, scheme://host otherwise.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "'self'"
	}
	return p.Scheme + "://" + p.Host
}

func renderBytes(name string, p page) ([]byte, error) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writePage(w http.ResponseWriter, code int, body []byte, csp string) int {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", csp)
	w.WriteHeader(code)
	_, _ = w.Write(body)
	return code
}

// pageHome is the tenant's first page: its categories, a page of items and the
// recommendations. It is served from the tenant's rendered pages while its data has not changed
// (service.Tenant.Page: at most PageFreshFor stale), so most requests open neither the database
// nor the cache.
func (s *Server) pageHome(w http.ResponseWriter, r request) (int, error) {
	pg, perPage, err := paging(r)
	if err != nil {
		return 0, err
	}
	cat, err := category(r)
	if err != nil {
		return 0, err
	}
	key := "home?page=" + strconv.Itoa(pg) + "&per_page=" + strconv.Itoa(perPage) + "&category=" + url.QueryEscape(cat)
	body, err := r.tenant.Page(r.Context(), key, func(ctx context.Context) ([]byte, error) {
		l, err := listItems(r)
		if err != nil {
			return nil, err
		}
		cats, err := r.tenant.Store.Categories(ctx)
		if err != nil {
			return nil, err
		}
		recs, _, err := r.tenant.Recommendations(ctx, l.category)
		if err != nil {
			return nil, err
		}
		return renderBytes("home.html", newPage(r.tenant.Config, map[string]any{
			"Items": l.items, "Categories": cats, "Category": l.category,
			"Recommendations": recs, "Page": l.page, "Prev": l.page - 1, "Next": nextPage(l.page, l.perPage, l.total),
		}))
	})
	if err != nil {
		return 0, err
	}
	return writePage(w, http.StatusOK, body, newPage(r.tenant.Config, nil).csp(false)), nil
}

func nextPage(page, perPage, total int) int {
	if page*perPage < total {
		return page + 1
	}
	return 0
}

// pageItem is an item with its latest ratings, served from the tenant's rendered pages like the
// home page: a rating posted on any replica shows within PageFreshFor.
func (s *Server) pageItem(w http.ResponseWriter, r request) (int, error) {
	id, err := itemID(r)
	if err != nil {
		return 0, err
	}
	body, err := r.tenant.Page(r.Context(), "item/"+strconv.FormatInt(id, 10), func(context.Context) ([]byte, error) {
		item, ratings, err := itemWithRatings(r, 50)
		if err != nil {
			return nil, err
		}
		return renderBytes("item.html", newPage(r.tenant.Config, map[string]any{"Item": item, "Ratings": ratings}))
	})
	if err != nil {
		return 0, err
	}
	return writePage(w, http.StatusOK, body, newPage(r.tenant.Config, nil).csp(true)), nil
}

func (s *Server) pageRate(w http.ResponseWriter, r request) (int, error) {
	id, err := itemID(r)
	if err != nil {
		return 0, err
	}
	if err := r.ParseForm(); err != nil {
		if isTooLarge(err) {
			return 0, err
		}
		return 0, bad("the form could not be read")
	}

	stars, err := strconv.Atoi(r.PostForm.Get("stars"))
	if err != nil {
		return 0, bad("stars must be an integer from 1 to 5")
	}
	if _, err := s.rate(r, id, RatingInput{Customer: r.PostForm.Get("customer"), Stars: stars, Review: r.PostForm.Get("review")}); err != nil {
		return 0, err
	}
	http.Redirect(w, r.Request, "/items/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return http.StatusSeeOther, nil
}
