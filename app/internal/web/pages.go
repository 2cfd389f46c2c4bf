package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/tenantops/tenant-operator/app/internal/catalog"
)

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

func render(w http.ResponseWriter, code int, name string, data any) (int, error) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		return 0, err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
	return code, nil
}

func (s *Server) pageHome(w http.ResponseWriter, r request) (int, error) {
	l, err := listItems(r)
	if err != nil {
		return 0, err
	}
	cats, err := r.tenant.Store.Categories(r.Context())
	if err != nil {
		return 0, err
	}
	recs, _, err := r.tenant.Recommendations(r.Context(), l.category)
	if err != nil {
		return 0, err
	}
	return render(w, http.StatusOK, "home.html", map[string]any{
		"Tenant": r.tenant.Config.DisplayName, "Items": l.items, "Categories": cats, "Category": l.category,
		"Recommendations": recs, "Page": l.page, "Prev": l.page - 1, "Next": nextPage(l.page, l.perPage, l.total),
	})
}

func nextPage(page, perPage, total int) int {
	if page*perPage < total {
		return page + 1
	}
	return 0
}

func (s *Server) pageItem(w http.ResponseWriter, r request) (int, error) {
	item, ratings, err := itemWithRatings(r, 50)
	if err != nil {
		return 0, err
	}
	return render(w, http.StatusOK, "item.html", map[string]any{"Tenant": r.tenant.Config.DisplayName, "Item": item, "Ratings": ratings})
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
