package catalog

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Item is a thing customers rate.
type Item struct {
	ID          int64     `json:"id"`
	Category    string    `json:"category"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Rating is a customer's 1-5 stars and review of an item.
type Rating struct {
	ID        int64     `json:"id"`
	ItemID    int64     `json:"itemId"`
	Customer  string    `json:"customer"`
	Stars     int       `json:"stars"`
	Review    string    `json:"review"`
	CreatedAt time.Time `json:"createdAt"`
}

// Recommendation is an item ranked in its category by Bayesian average rating.
type Recommendation struct {
	Category string  `json:"category"`
	Rank     int     `json:"rank"`
	ItemID   int64   `json:"itemId"`
	ItemName string  `json:"itemName"`
	Score    float64 `json:"score"`
	Ratings  int64   `json:"ratings"`
}

// ErrNotFound is returned for an item that does not exist in this tenant's database.
var ErrNotFound = errors.New("not found")

// Store reads and writes one tenant's catalog. Every query is parameterised.
type Store struct {
	DB      *sql.DB
	Dialect Dialect
}

// Categories lists the categories that have items.
func (s *Store) Categories(ctx context.Context) ([]string, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT DISTINCT category FROM items ORDER BY category")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Items lists a page of items, optionally of one category, and how many there are in all.
func (s *Store) Items(ctx context.Context, category string, page, perPage int) ([]Item, int, error) {
	where, args := "", []any{}
	if category != "" {
		where, args = " WHERE category = ?", append(args, category)
	}
	var total int
	if err := s.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM items"+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	// where is one of two fixed clauses; the values go in as parameters.
	rows, err := s.DB.QueryContext(ctx, "SELECT id, category, name, description, created_at FROM items"+where+ //nolint:gosec // G202: see above

		" ORDER BY id LIMIT ? OFFSET ?", append(args, perPage, (page-1)*perPage)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var items []Item
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.ID, &it.Category, &it.Name, &it.Description, &it.CreatedAt); err != nil {
			return nil, 0, err
		}
		items = append(items, it)
	}
	return items, total, rows.Err()
}

// Item reads one item.
func (s *Store) Item(ctx context.Context, id int64) (Item, error) {
	var it Item
	err := s.DB.QueryRowContext(ctx, "SELECT id, category, name, description, created_at FROM items WHERE id = ?", id).
		Scan(&it.ID, &it.Category, &it.Name, &it.Description, &it.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Item{}, ErrNotFound
	}
	return it, err
}

// AddItem adds an item and returns its ID.
func (s *Store) AddItem(ctx context.Context, category, name, description string) (int64, error) {
	res, err := s.DB.ExecContext(ctx, "INSERT INTO items (category, name, description, created_at) VALUES (?, ?, ?, ?)",
		category, name, description, time.Now().UTC())
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// Ratings lists an item's newest ratings.
func (s *Store) Ratings(ctx context.Context, itemID int64, limit int) ([]Rating, error) {
	rows, err := s.DB.QueryContext(ctx, "SELECT id, item_id, customer, stars, review, created_at FROM ratings WHERE item_id = ? ORDER BY id DESC LIMIT ?", itemID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Rating
	for rows.Next() {
		var r Rating
		if err := rows.Scan(&r.ID, &r.ItemID, &r.Customer, &r.Stars, &r.Review, &r.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Rate records a customer's rating of an item of this tenant.
func (s *Store) Rate(ctx context.Context, itemID int64, customer string, stars int, review string) (Rating, error) {
	if _, err := s.Item(ctx, itemID); err != nil {
		return Rating{}, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	res, err := s.DB.ExecContext(ctx, "INSERT INTO ratings (item_id, customer, stars, review, created_at) VALUES (?, ?, ?, ?, ?)",
		itemID, customer, stars, review, now)
	if err != nil {
		return Rating{}, err
	}
	id, err := res.LastInsertId()
	return Rating{ID: id, ItemID: itemID, Customer: customer, Stars: stars, Review: review, CreatedAt: now}, err
}

// StreamRatings calls fn for every rating with its item's category, one row at a time, so
// memory does not grow with the number of ratings.
func (s *Store) StreamRatings(ctx context.Context, fn func(itemID int64, category string, stars int) error) error {
	rows, err := s.DB.QueryContext(ctx, "SELECT r.item_id, i.category, r.stars FROM ratings r JOIN items i ON i.id = r.item_id")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var cat string
		var stars int
		if err := rows.Scan(&id, &cat, &stars); err != nil {
			return err
		}
		if err := fn(id, cat, stars); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SaveRecommendations writes a new generation of recommendations and makes it current in one
// transaction, so readers see the old set or the new one, never a mix; older generations go.
func (s *Store) SaveRecommendations(ctx context.Context, generation int64, recs []Recommendation) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO recommendations (generation, category, rank_in_category, item_id, score, ratings) VALUES (?, ?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, r := range recs {
		if _, err := stmt.ExecContext(ctx, generation, r.Category, r.Rank, r.ItemID, r.Score, r.Ratings); err != nil {
			return err
		}
	}
	upsert := "INSERT INTO recommendation_current (id, generation, computed_at) VALUES (1, ?, ?) ON DUPLICATE KEY UPDATE generation = VALUES(generation), computed_at = VALUES(computed_at)"
	if s.Dialect == SQLite {
		upsert = "INSERT INTO recommendation_current (id, generation, computed_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, computed_at = excluded.computed_at"
	}
	if _, err := tx.ExecContext(ctx, upsert, generation, time.Now().UTC()); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM recommendations WHERE generation < ?", generation); err != nil {
		return err
	}
	return tx.Commit()
}

// Recommendations reads the current generation's recommendations, of one category or all.
func (s *Store) Recommendations(ctx context.Context, category string) (int64, []Recommendation, error) {
	var gen int64
	err := s.DB.QueryRowContext(ctx, "SELECT generation FROM recommendation_current WHERE id = 1").Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	q := "SELECT r.category, r.rank_in_category, r.item_id, i.name, r.score, r.ratings FROM recommendations r JOIN items i ON i.id = r.item_id WHERE r.generation = ?"
	args := []any{gen}
	if category != "" {
		q += " AND r.category = ?"
		args = append(args, category)
	}
	rows, err := s.DB.QueryContext(ctx, q+" ORDER BY r.category, r.rank_in_category", args...)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var out []Recommendation
	for rows.Next() {
		var r Recommendation
		if err := rows.Scan(&r.Category, &r.Rank, &r.ItemID, &r.ItemName, &r.Score, &r.Ratings); err != nil {
			return 0, nil, err
		}
		out = append(out, r)
	}
	return gen, out, rows.Err()
}

// ClaimMail records that the mail kind is being sent and reports whether this caller claimed it
// (false: it was sent, or is being sent, already). Several app replicas may try at once; one wins.
func (s *Store) ClaimMail(ctx context.Context, kind string) (bool, error) {
	q := "INSERT IGNORE INTO mail_log (kind, sent_at) VALUES (?, ?)"
	if s.Dialect == SQLite {
		q = "INSERT OR IGNORE INTO mail_log (kind, sent_at) VALUES (?, ?)"
	}
	res, err := s.DB.ExecContext(ctx, q, kind, time.Now().UTC())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReleaseMail gives up a claim whose mail could not be sent, so a later try sends it.
func (s *Store) ReleaseMail(ctx context.Context, kind string) error {
	_, err := s.DB.ExecContext(ctx, "DELETE FROM mail_log WHERE kind = ?", kind)
	return err
}
