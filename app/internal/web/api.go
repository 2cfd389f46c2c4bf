package web

import (
	"encoding/json"
	"net/http"
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

func (s *Server) apiRate(w http.ResponseWriter, r request) (int, error) {
	id, err := itemID(r)
	if err != nil {
		return 0, err
	}
	var in RatingInput
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		if isTooLarge(err) {
			return 0, err
		}
		return 0, bad("body must be JSON: {\"customer\": string, \"stars\": 1-5, \"review\": string}")
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
	recs, source, err := r.tenant.Recommendations(r.Context(), cat)
	if err != nil {
		return 0, err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"recommendations": recs, "source": source}), nil
}
