package database

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skillvault/skillvault/internal/schema"
)

// Owner is a connection as the schema owner, for the operations that are
// not tenant-scoped: creating and listing tenants, verifying the schema.
// The server never holds one.
type Owner struct {
	conn *pgx.Conn
}

// OpenOwner connects as the owner role.
func OpenOwner(ctx context.Context, url string) (*Owner, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("database: connect as owner: %w", err)
	}
	return &Owner{conn: conn}, nil
}

// Close closes the connection.
func (o *Owner) Close() { o.conn.Close(context.Background()) }

// Tenant is a row of the global tenants table.
type Tenant struct {
	ID           uuid.UUID `json:"id"`
	Slug         string    `json:"slug"`
	Name         string    `json:"name"`
	EmailDomain  string    `json:"email_domain,omitempty"`
	VanityDomain string    `json:"vanity_domain,omitempty"`
	Active       bool      `json:"active"`
	CreatedAt    time.Time `json:"created_at"`
	Quotas       Quotas    `json:"quotas"`
}

// Quotas are a tenant's quota overrides, which only the operator sets:
// nil means the server's default, 0 unlimited.
type Quotas struct {
	Bytes       *int64 `json:"bytes"`
	Skills      *int64 `json:"skills"`
	Versions    *int64 `json:"versions"`
	KeysPerUser *int64 `json:"keys_per_user"`
}

// quotaColumns maps quota names to their columns of tenants; SetQuotas
// builds SQL only from these.
var quotaColumns = map[string]string{
	"bytes": "quota_bytes", "skills": "quota_skills", "versions": "quota_versions", "keys_per_user": "quota_keys_per_user",
}

const tenantColumns = `id, slug, name, coalesce(email_domain, ''), coalesce(vanity_domain, ''), active, created_at,
	quota_bytes, quota_skills, quota_versions, quota_keys_per_user`

func scanTenant(r pgx.Row) (Tenant, error) {
	var t Tenant
	q := &t.Quotas
	err := r.Scan(&t.ID, &t.Slug, &t.Name, &t.EmailDomain, &t.VanityDomain, &t.Active, &t.CreatedAt,
		&q.Bytes, &q.Skills, &q.Versions, &q.KeysPerUser)
	return t, err
}

var (
	slugRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$`)
)

// ErrInvalid marks input that was refused before it reached the database.
var ErrInvalid = errors.New("invalid")

// ErrExists is returned when a unique value is taken.
var ErrExists = errors.New("already exists")

// NewTenant is what CreateTenant needs.
type NewTenant struct {
	Slug, Name, EmailDomain, VanityDomain string
}

// CreateTenant adds a tenant.
func (o *Owner) CreateTenant(ctx context.Context, n NewTenant) (Tenant, error) {
	n.Slug = strings.ToLower(strings.TrimSpace(n.Slug))
	n.EmailDomain = strings.ToLower(strings.TrimSpace(n.EmailDomain))
	n.VanityDomain = strings.ToLower(strings.TrimSpace(n.VanityDomain))
	if !slugRE.MatchString(n.Slug) {
		return Tenant{}, fmt.Errorf("%w: slug %q must be 1-63 lowercase letters, digits or hyphens, not starting or ending with a hyphen", ErrInvalid, n.Slug)
	}
	if strings.TrimSpace(n.Name) == "" {
		n.Name = n.Slug
	}
	for _, d := range []string{n.EmailDomain, n.VanityDomain} {
		if d != "" && !domainRE.MatchString(d) {
			return Tenant{}, fmt.Errorf("%w: %q is not a domain name", ErrInvalid, d)
		}
	}
	var t Tenant
	var email, vanity *string
	err := o.conn.QueryRow(ctx, `INSERT INTO tenants (slug, name, email_domain, vanity_domain)
		VALUES ($1, $2, nullif($3, ''), nullif($4, ''))
		RETURNING id, slug, name, email_domain, vanity_domain, active, created_at`,
		n.Slug, n.Name, n.EmailDomain, n.VanityDomain).Scan(&t.ID, &t.Slug, &t.Name, &email, &vanity, &t.Active, &t.CreatedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Tenant{}, fmt.Errorf("%w: a tenant with that slug or domain exists", ErrExists)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("database: create tenant: %w", err)
	}
	t.EmailDomain, t.VanityDomain = deref(email), deref(vanity)
	return t, nil
}

// ListTenants lists every tenant by slug.
func (o *Owner) ListTenants(ctx context.Context) ([]Tenant, error) {
	rows, err := o.conn.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("database: list tenants: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Tenant, error) { return scanTenant(r) })
}

// SetQuotas sets a tenant's quota overrides, by quota name (bytes, skills,
// versions, keys_per_user); a nil value returns that quota to the server's
// default. Only the owner can: the app role holds no UPDATE on tenants.
func (o *Owner) SetQuotas(ctx context.Context, slug string, set map[string]*int64) (Tenant, error) {
	if len(set) == 0 {
		return o.TenantBySlug(ctx, slug)
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	assign := make([]string, len(names))
	args := []any{slug}
	for i, n := range names {
		col, ok := quotaColumns[n]
		if !ok {
			return Tenant{}, fmt.Errorf("%w: no quota named %q (bytes, skills, versions, keys_per_user)", ErrInvalid, n)
		}
		max := int64(math.MaxInt32) // the count columns are integers
		if n == "bytes" {
			max = math.MaxInt64
		}
		if v := set[n]; v != nil && (*v < 0 || *v > max) {
			return Tenant{}, fmt.Errorf("%w: quota %s must be between 0 (unlimited) and %d", ErrInvalid, n, max)
		}
		args = append(args, set[n])
		assign[i] = fmt.Sprintf("%s = $%d", col, len(args))
	}
	t, err := scanTenant(o.conn.QueryRow(ctx, `UPDATE tenants SET `+strings.Join(assign, ", ")+`, updated_at = now()
		WHERE slug = $1 RETURNING `+tenantColumns, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return Tenant{}, fmt.Errorf("tenant %q: %w (see `skillvault tenant list`)", slug, ErrNotFound)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("database: set quotas: %w", err)
	}
	return t, nil
}

// TenantBySlug finds one tenant.
func (o *Owner) TenantBySlug(ctx context.Context, slug string) (Tenant, error) {
	ts, err := o.ListTenants(ctx)
	if err != nil {
		return Tenant{}, err
	}
	for _, t := range ts {
		if t.Slug == slug {
			return t, nil
		}
	}
	return Tenant{}, fmt.Errorf("tenant %q: %w (see `skillvault tenant list`)", slug, ErrNotFound)
}

// Verify compares the live schema with the declaration.
func (o *Owner) Verify(ctx context.Context) ([]schema.Problem, error) {
	return schema.Verify(ctx, o.conn)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
