package web

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"
)

func (s *Server) apiItems(w http.ResponseWriter, r request) (int, error) {
	l, err := listItems(r)
	if err != nil {
		return 0, err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": l.items, "page": l.page, "perPage": l.perPage, "total": l.total}), nil
}

func (s *Server) apiItem(w http.ResponseWriter, r request) (int, error) {
	item, ratings, err := itemWithRatings(r, 20)
	if err != nil {
		return 0, err
	}
	if ratings == nil {
		ratings = []catalogRating{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"item": item, "ratings": ratings}), nil
}

// recommendationsBody is the answer of /api/recommendations.
type recommendationsBody struct {
	Recommendations json.RawMessage `json:"recommendations"`
	Source          string          `json:"source"`
}

func (s *Server) apiRate(w http.ResponseWriter, r request) (int, error) {
	id, err := itemID(r)
	if err != nil {
		return 0, err
	}
	var in RatingInput
	if err := decodeJSON(r, &in); err != nil {
		return 0, err
	}
	rating, err := s.rate(r, id, in)
	if err != nil {
		return 0, err
	}
	return writeJSON(w, http.StatusCreated, rating), nil
}

func (s *Server) apiRecommendations(w http.ResponseWriter, r request) (int, error) {
	cat, err := category(r)
	if err != nil {
		return 0, err
	}
	// The cached JSON goes out as it is: no decoding and encoding again on the hot path.
	recs, source, err := r.tenant.RecommendationsJSON(r.Context(), cat)
	if err != nil {
		return 0, err
	}
	return writeJSON(w, http.StatusOK, recommendationsBody{Recommendations: recs, Source: source}), nil
}

// decodeJSON reads the whole body (its size limit applies to all of it, not to the part a
// decoder happens to read) as exactly one JSON object with only v's fields, sent as
// application/json: the content types a browser sends cross-site without asking first are
// refused, so no other site can post through a visitor.
func decodeJSON(r request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return unsupportedMediaType{}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err // too large, or the client went away
	}
	if !utf8.Valid(body) {
		// The decoder would quietly replace the bytes; say which field holds them instead.
		return bad(nonUTF8Field(body) + " must be UTF-8 text")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	const shape = "body must be JSON: one object {\"customer\": string, \"stars\": 1-5, \"review\": string}"
	if err := dec.Decode(v); err != nil {
		return bad(shape)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad(shape + ", and nothing after it")
	}
	return nil
}

// nonUTF8Field names the top-level field whose value is not UTF-8 ("body" when none is).
func nonUTF8Field(body []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil {
		for name, raw := range fields {
			if !utf8.Valid(raw) {
				return name
			}
		}
	}
	return "body"
}

// unsupportedMediaType is a request body of a content type the endpoint does not take.
type unsupportedMediaType struct{}

func (unsupportedMediaType) Error() string { return "Content-Type must be application/json" }
