package client

import (
	"encoding/json"
	"strings"
	"time"
)

// The types below mirror the API's JSON. They are declared here, not
// imported from the server's packages, so that the client depends only on
// the wire format.

// Me is who the API key belongs to.
type Me struct {
	User     User     `json:"user"`
	TenantID string   `json:"tenant_id"`
	Scopes   []string `json:"scopes"`
	KeyID    string   `json:"key_id"`
}

// User is a user of a tenant.
type User struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Active bool   `json:"active"`
}

// Skill is a skill's metadata and counters.
type Skill struct {
	Name             string     `json:"name"`
	Title            string     `json:"title"`
	Description      string     `json:"description"`
	Category         string     `json:"category"`
	Tags             []string   `json:"tags"`
	Status           string     `json:"status"`     // draft, in_review, published, archived
	Visibility       string     `json:"visibility"` // private, tenant, public
	Author           string     `json:"author"`
	LatestVersion    int        `json:"latest_version"`
	PublishedVersion *int       `json:"published_version"`
	ForkOf           *string    `json:"fork_of,omitempty"`
	RatingCount      int        `json:"rating_count"`
	RatingAverage    float64    `json:"rating_average"`
	Installs         int64      `json:"installs"`
	Downloads        int64      `json:"downloads"`
	Views            int64      `json:"views"`
	Invocations      int64      `json:"invocations"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	PublishedAt      *time.Time `json:"published_at"`
}

// FileEntry is one line of a version's manifest. SHA256 is the hex digest
// of the file's bytes, without a "sha256:" prefix.
type FileEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Version is a version of a skill with its manifest.
type Version struct {
	Skill       string          `json:"skill"`
	Number      int             `json:"number"`
	Frontmatter json.RawMessage `json:"frontmatter"`
	Digest      string          `json:"digest"` // sha256:<hex>, the RFC skill-level digest
	FileCount   int             `json:"file_count"`
	TotalSize   int64           `json:"total_size"`
	Changelog   string          `json:"changelog"`
	CreatedAt   time.Time       `json:"created_at"`
	Files       []FileEntry     `json:"files"`
}

// Published is the answer to creating a skill or adding a version.
type Published struct {
	Skill     Skill       `json:"skill"`
	Version   Version     `json:"version"`
	Files     []FileEntry `json:"files"`
	Created   bool        `json:"created"`   // a new version was stored
	Unchanged bool        `json:"unchanged"` // the bundle equals the latest version
	Message   string      `json:"message"`
	// PossibleDuplicates are existing skills very like a new one (a
	// warning from servers with search).
	PossibleDuplicates []Duplicate `json:"possible_duplicates,omitempty"`
}

// Duplicate is an existing skill similar to a new one.
type Duplicate struct {
	Name       string  `json:"name"`
	Similarity float64 `json:"similarity"`
}

// Page is one page of a list; NextCursor is "" on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// ListOptions filter and order ListSkills; empty fields do not filter.
type ListOptions struct {
	Status     string // draft, in_review, published, archived
	Visibility string // private, tenant, public
	Category   string
	Tag        string
	Author     string // author's email
	Sort       string // updated (default), rating, uses, name
	Limit      int    // page size, 1-200 (server default 50)
}

// RatingResult is the answer to Rate.
type RatingResult struct {
	Rating struct {
		Stars   int    `json:"stars"`
		Comment string `json:"comment"`
	} `json:"rating"`
	RatingCount   int     `json:"rating_count"`
	RatingAverage float64 `json:"rating_average"`
}

// UsageEvent is one usage event to record.
type UsageEvent struct {
	Skill    string          `json:"skill"`
	Version  int             `json:"version,omitempty"`
	Event    string          `json:"event"`  // install, download, view, invoke
	Source   string          `json:"source"` // web, api, cli, mcp, hook
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// UsageResult says which events were recorded.
type UsageResult struct {
	Accepted int `json:"accepted"`
	Rejected []struct {
		Index  int    `json:"index"`
		Skill  string `json:"skill"`
		Reason string `json:"reason"`
	} `json:"rejected"`
}

// Stats are a skill's usage totals.
type Stats struct {
	Skill       string  `json:"skill"`
	Installs    int64   `json:"installs"`
	Downloads   int64   `json:"downloads"`
	Views       int64   `json:"views"`
	Invocations int64   `json:"invocations"`
	Total       int64   `json:"total"`
	UniqueUsers int64   `json:"unique_users"`
	RatingCount int     `json:"rating_count"`
	RatingAvg   float64 `json:"rating_average"`
}

// SearchResult is one hit of Search, best first.
type SearchResult struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Score       float64 `json:"score"`
	// Matched says why the skill matched (fields, terms or a snippet, as
	// the server words it).
	Matched Matched `json:"matched,omitempty"`
	Version int     `json:"version,omitempty"`
	// Raw is the whole item as the server sent it, for --json output and
	// for fields this client does not know.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw item and tolerates a version sent as an
// object or string, so that additions on the server never break search.
func (r *SearchResult) UnmarshalJSON(data []byte) error {
	var aux struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Score       float64         `json:"score"`
		Matched     Matched         `json:"matched"`
		Version     json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	*r = SearchResult{Name: aux.Name, Description: aux.Description, Score: aux.Score, Matched: aux.Matched,
		Raw: append(json.RawMessage(nil), data...)}
	var n int
	if json.Unmarshal(aux.Version, &n) == nil {
		r.Version = n
	} else {
		var v struct {
			Number int `json:"number"`
		}
		if json.Unmarshal(aux.Version, &v) == nil {
			r.Version = v.Number
		}
	}
	return nil
}

// MarshalJSON writes the item as the server sent it when known.
func (r SearchResult) MarshalJSON() ([]byte, error) {
	if len(r.Raw) > 0 {
		return r.Raw, nil
	}
	type plain SearchResult
	return json.Marshal(plain(r))
}

// Matched is why a search hit matched: a list of strings, decoded from a
// string, a list of strings, or any other JSON (kept as its text).
type Matched []string

// UnmarshalJSON accepts a string, a list of strings or any JSON value.
func (m *Matched) UnmarshalJSON(data []byte) error {
	var list []string
	if json.Unmarshal(data, &list) == nil {
		*m = list
		return nil
	}
	var s string
	if json.Unmarshal(data, &s) == nil {
		*m = Matched{s}
		return nil
	}
	if string(data) != "null" {
		*m = Matched{string(data)}
	}
	return nil
}

// String joins the reasons.
func (m Matched) String() string { return strings.Join(m, ", ") }
