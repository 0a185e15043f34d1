package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// Skill is one skill with its cached counters.
type Skill struct {
	ID               uuid.UUID  `json:"id"`
	Name             string     `json:"name"`
	Title            string     `json:"title"`
	Description      string     `json:"description"`
	Category         string     `json:"category"`
	Tags             []string   `json:"tags"`
	Status           string     `json:"status"`
	Visibility       string     `json:"visibility"`
	AuthorID         uuid.UUID  `json:"author_id"`
	AuthorEmail      string     `json:"author"`
	LatestVersion    int        `json:"latest_version"`
	PublishedVersion *int       `json:"published_version"`
	ForkOf           *string    `json:"fork_of,omitempty"`
	ForkOfDigest     *string    `json:"fork_of_digest,omitempty"`
	RatingCount      int        `json:"rating_count"`
	RatingSum        int        `json:"-"`
	RatingAverage    float64    `json:"rating_average"`
	Installs         int64      `json:"installs"`
	Downloads        int64      `json:"downloads"`
	Views            int64      `json:"views"`
	Invocations      int64      `json:"invocations"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	PublishedAt      *time.Time `json:"published_at"`
	PendingVersion   *int       `json:"pending_version"` // waiting for review
}

// Uses is every recorded use of the skill.
// Uses counts what people did with a skill: installs, downloads and
// invocations. Looking at its page is a view, counted apart.
func (s Skill) Uses() int64 { return s.Installs + s.Downloads + s.Invocations }

func scanSkill(r pgx.Row) (Skill, error) {
	var s Skill
	err := r.Scan(&s.ID, &s.Name, &s.Title, &s.Description, &s.Category, &s.Tags, &s.Status, &s.Visibility,
		&s.AuthorID, &s.AuthorEmail, &s.LatestVersion, &s.PublishedVersion, &s.ForkOf, &s.ForkOfDigest,
		&s.RatingCount, &s.RatingSum, &s.Installs, &s.Downloads, &s.Views, &s.Invocations,
		&s.CreatedAt, &s.UpdatedAt, &s.PublishedAt, &s.PendingVersion)
	if s.RatingCount > 0 {
		s.RatingAverage = float64(s.RatingSum) / float64(s.RatingCount)
	}
	if s.Tags == nil {
		s.Tags = []string{}
	}
	return s, notFound(err)
}

var (
	qSkillInsert         = query("SkillInsert")
	qSkillByName         = query("SkillByName")
	qSkillLock           = query("SkillLock")
	qSkillUpdateMeta     = query("SkillUpdateMeta")
	qSkillUnlinkForks    = query("SkillUnlinkForks")
	qSkillSetContent     = query("SkillSetContent")
	qSkillPublish        = query("SkillPublish")
	qSkillDelete         = query("SkillDelete")
	qSkillRecountRatings = query("SkillRecountRatings")
	qSkillIDsByName      = query("SkillIDsByName")
	qSkillAddCounts      = query("SkillAddCounts")
	qSkillSubmitReview   = query("SkillSubmitForReview")
	qSkillDecideReview   = query("SkillDecideReview")
)

// NewSkill is what InsertSkill stores.
type NewSkill struct {
	Name, Title, Description, Body, Category, Visibility string
	Tags                                                 []string
	AuthorID                                             uuid.UUID
	ForkOfID                                             *uuid.UUID
	ForkOfDigest                                         *string
}

func InsertSkill(ctx context.Context, q database.Q, n NewSkill) (uuid.UUID, error) {
	if n.Tags == nil {
		n.Tags = []string{}
	}
	var id uuid.UUID
	err := q.QueryRow(ctx, qSkillInsert, n.Name, n.Title, n.Description, n.Body, n.Category, n.Tags, n.Visibility,
		n.AuthorID, n.ForkOfID, n.ForkOfDigest).Scan(&id)
	return id, err
}

// SkillByName returns a skill the acting principal may see.
func SkillByName(ctx context.Context, q database.Q, name string) (Skill, error) {
	return scanSkill(q.QueryRow(ctx, qSkillByName, name))
}

// LockSkill locks a visible skill's row for the rest of the transaction.
func LockSkill(ctx context.Context, q database.Q, name string) (uuid.UUID, error) {
	var id uuid.UUID
	err := q.QueryRow(ctx, qSkillLock, name).Scan(&id)
	return id, notFound(err)
}

// SkillFilter selects and orders skills.
type SkillFilter struct {
	Status, Visibility, Category, Tag, Author string
	Sort                                      string // updated (default), rating, uses, name
	Offset, Limit                             int
}

// listStatements holds the list statements, by sort and by whether a
// filter is set. A single statement that chose its order with CASE
// expressions could use no index, so every page sorted all of a tenant's
// visible skills. Ties fall back to the default order, so pages are stable.
var listStatements = func() map[listKey]string {
	const byUpdated = "s.updated_at DESC, s.id"
	list, filters := query("SkillList"), query("SkillListFilters")
	out := map[listKey]string{}
	for sort, order := range map[string]string{
		"updated": byUpdated,
		"rating":  "CASE WHEN s.rating_count = 0 THEN 0 ELSE s.rating_sum::float8 / s.rating_count END DESC, " + byUpdated,
		"uses":    "s.install_count + s.download_count + s.invoke_count DESC, " + byUpdated,
		"name":    "s.name", // unique in a tenant: walks the (tenant_id, name) index
	} {
		stmt := strings.ReplaceAll(list, "{order}", order)
		// Unfiltered, a page's generic plan is right for a tenant of any
		// size; filtered, the filters' values decide the plan.
		out[listKey{sort, false}] = database.PlanOnce + "\n" + strings.Replace(stmt, "{filters}", "", 1)
		out[listKey{sort, true}] = strings.Replace(stmt, "{filters}", "\n"+filters, 1)
	}
	return out
}()

type listKey struct {
	sort     string
	filtered bool
}

// maxLiteralLimit is the largest first page whose limit is written into
// the statement (the API's largest page and the row that shows a next
// one), which bounds the statements each connection prepares.
const maxLiteralLimit = 201

// listStatement returns the statement for a sort; the empty sort is the
// default, and so is an unknown one (the service refuses those). With
// firstPage > 0 it is the unfiltered first page of that many rows, with no
// parameters: PostgreSQL plans such a statement once per connection,
// whereas with OFFSET and LIMIT parameters it kept planning every
// execution (its generic plan guesses a tenth of the rows for each), which
// cost more than running it.
func listStatement(sort string, filtered bool, firstPage int) string {
	stmt, ok := listStatements[listKey{sort, filtered}]
	if !ok {
		stmt = listStatements[listKey{"updated", filtered}]
	}
	page := "OFFSET $1 LIMIT $2"
	if firstPage > 0 && !filtered {
		page = "LIMIT " + strconv.Itoa(firstPage)
	}
	return strings.Replace(stmt, "{page}", page, 1)
}

func ListSkills(ctx context.Context, q database.Q, f SkillFilter) ([]Skill, error) {
	filtered := f.Status != "" || f.Visibility != "" || f.Category != "" || f.Tag != "" || f.Author != ""
	if !filtered && f.Offset == 0 && f.Limit > 0 && f.Limit <= maxLiteralLimit {
		rows, err := q.Query(ctx, listStatement(f.Sort, false, f.Limit))
		return collect(rows, err, scanSkill)
	}
	args := []any{f.Offset, f.Limit}
	if filtered {
		args = append(args, f.Status, f.Visibility, f.Category, f.Tag, f.Author)
	}
	rows, err := q.Query(ctx, listStatement(f.Sort, filtered, 0), args...)
	return collect(rows, err, scanSkill)
}

func UpdateSkillMeta(ctx context.Context, q database.Q, s Skill) error {
	_, err := q.Exec(ctx, qSkillUpdateMeta, s.ID, s.Title, s.Category, s.Tags, s.Visibility, s.Status)
	return err
}

func SetSkillContent(ctx context.Context, q database.Q, id uuid.UUID, title, description, body string, latest int) error {
	_, err := q.Exec(ctx, qSkillSetContent, id, title, description, body, latest)
	return err
}

// SetSkillStatus changes the status; "published" also publishes the
// latest version.
func SetSkillStatus(ctx context.Context, q database.Q, id uuid.UUID, status string) error {
	_, err := q.Exec(ctx, qSkillPublish, id, status, time.Now())
	return err
}

// DeleteSkill deletes a skill, first unlinking its forks; q must be a
// transaction (database.Write).
func DeleteSkill(ctx context.Context, q database.Q, id uuid.UUID) error {
	if _, err := q.Exec(ctx, qSkillUnlinkForks, id); err != nil {
		return err
	}
	_, err := q.Exec(ctx, qSkillDelete, id)
	return err
}

// RecountRatings recomputes a skill's rating counters from its ratings;
// the caller holds the skill's row lock, so the result is exact.
func RecountRatings(ctx context.Context, q database.Q, id uuid.UUID) (count, sum int, err error) {
	err = q.QueryRow(ctx, qSkillRecountRatings, id).Scan(&count, &sum)
	return count, sum, err
}

// SkillRef is a skill's id and its newest version number.
type SkillRef struct {
	ID            uuid.UUID
	LatestVersion int
}

// LockSkillsByName resolves visible skill names to ids and locks them.
func LockSkillsByName(ctx context.Context, q database.Q, names []string) (map[string]SkillRef, error) {
	rows, err := q.Query(ctx, qSkillIDsByName, names)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]SkillRef{}
	for rows.Next() {
		var ref SkillRef
		var name string
		if err := rows.Scan(&ref.ID, &name, &ref.LatestVersion); err != nil {
			return nil, err
		}
		out[name] = ref
	}
	return out, rows.Err()
}

// Counts are counter increments per skill.
type Counts struct{ Installs, Downloads, Views, Invokes int64 }

func AddCounts(ctx context.Context, q database.Q, counts map[uuid.UUID]*Counts) error {
	var ids []uuid.UUID
	var in, dl, vw, iv []int64
	for id, c := range counts {
		ids = append(ids, id)
		in, dl, vw, iv = append(in, c.Installs), append(dl, c.Downloads), append(vw, c.Views), append(iv, c.Invokes)
	}
	_, err := q.Exec(ctx, qSkillAddCounts, ids, in, dl, vw, iv)
	return err
}

// SubmitForReview marks the latest version as waiting for review.
func SubmitForReview(ctx context.Context, q database.Q, id uuid.UUID) error {
	_, err := q.Exec(ctx, qSkillSubmitReview, id)
	return err
}

// DecideSkillReview publishes the pending version (approve) or drops it;
// false when nothing was pending.
func DecideSkillReview(ctx context.Context, q database.Q, id uuid.UUID, approve bool) (bool, error) {
	tag, err := q.Exec(ctx, qSkillDecideReview, id, approve, time.Now())
	return tag.RowsAffected() == 1, err
}
