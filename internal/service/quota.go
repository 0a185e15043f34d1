package service

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// Quotas are a tenant's limits. The server's configuration sets the
// defaults (Options.Quotas) and the operator may override each one per
// tenant (`skillvault tenant quota`); tenant admins cannot change them.
// 0 means unlimited.
type Quotas struct {
	Bytes       int64 `json:"bytes"`         // bytes of stored files (each distinct file counted once)
	Skills      int64 `json:"skills"`        // skills in the tenant
	Versions    int64 `json:"versions"`      // versions of one skill
	KeysPerUser int64 `json:"keys_per_user"` // working (neither revoked nor expired) API keys of one user
}

// The quota names, as problem answers and the CLI spell them.
const (
	QuotaBytes       = "bytes"
	QuotaSkills      = "skills"
	QuotaVersions    = "versions"
	QuotaKeysPerUser = "keys_per_user"
)

// QuotaExceeded says which quota refused a request. Usage is what the
// tenant (or the skill, or the user) had before the request, and Adding
// what the request would have added.
type QuotaExceeded struct {
	Quota  string
	Limit  int64
	Usage  int64
	Adding int64
}

// quotaError refuses a request: too large (413) for bytes, a conflict with
// the stored state (409) for counts, which no retry fixes until something
// is deleted or the operator raises the quota.
func quotaError(name string, limit, usage, adding int64) error {
	q := &QuotaExceeded{Quota: name, Limit: limit, Usage: usage, Adding: adding}
	if name == QuotaBytes {
		return &Error{Kind: TooLarge, Quota: q, Msg: fmt.Sprintf(
			"the %s quota is exceeded: this tenant stores %s of its %s, and this upload adds %s; delete skills or ask the operator for more",
			name, FormatBytes(usage), FormatBytes(limit), FormatBytes(adding))}
	}
	what := map[string]string{
		QuotaSkills:      "this tenant has %d skills of its %d",
		QuotaVersions:    "this skill has %d versions of its %d",
		QuotaKeysPerUser: "this user has %d working API keys of the %d allowed",
	}[name]
	fix := map[string]string{
		QuotaSkills:      "delete a skill or ask the operator for more",
		QuotaVersions:    "fork the skill, or ask the operator for more",
		QuotaKeysPerUser: "revoke a key first",
	}[name]
	return &Error{Kind: Conflict, Quota: q, Msg: fmt.Sprintf("the %s quota is exceeded: "+what+"; %s", name, usage, limit, fix)}
}

// over reports whether usage+adding exceeds limit (0: unlimited).
func over(limit, usage, adding int64) bool { return limit > 0 && usage+adding > limit }

// writeCounted is db.Write for a transaction that counts against a quota
// or frees what counts (uploads, forks, deletions, new keys, sweeps): it
// takes the tenant's quota lock before anything else. Taken later, after
// a row lock (the skill an upload adds a version to, the skill a deletion
// removes), two such transactions of one tenant could each hold what the
// other waits for; with the quota lock always first they queue instead.
func (s *Service) writeCounted(ctx context.Context, a Actor, fn func(q database.Q) error) error {
	return s.db.Write(ctx, a.scope(), func(q database.Q) error {
		if err := store.LockQuota(ctx, q); err != nil {
			return fmt.Errorf("lock quotas: %w", err)
		}
		return fn(q)
	})
}

// lockQuotas takes the tenant's quota lock for the rest of the transaction
// and returns the limits that apply to it: the operator's override where
// there is one, the server's default otherwise. Everything that counts
// against a quota or frees what counts calls it first, so counts read
// after it are exact until the transaction ends.
func (s *Service) lockQuotas(ctx context.Context, q database.Q) (Quotas, error) {
	if err := store.LockQuota(ctx, q); err != nil {
		return Quotas{}, fmt.Errorf("lock quotas: %w", err)
	}
	o, err := store.TenantQuotaOverrides(ctx, q)
	if err != nil {
		return Quotas{}, fmt.Errorf("read quotas: %w", err)
	}
	return s.quotas.with(o), nil
}

// with applies a tenant's overrides to the defaults.
func (d Quotas) with(o store.QuotaOverrides) Quotas {
	pick := func(def int64, o *int64) int64 {
		if o != nil {
			return *o
		}
		return def
	}
	return Quotas{Bytes: pick(d.Bytes, o.Bytes), Skills: pick(d.Skills, o.Skills),
		Versions: pick(d.Versions, o.Versions), KeysPerUser: pick(d.KeysPerUser, o.KeysPerUser)}
}

// storeVersion is the one way a new version's files are stored: every
// upload path (REST, web, MCP, fork, CLI through REST) comes here. Under
// the quota lock it checks the skill count (newSkill: the skill row was
// just inserted in this transaction), the skill's version count and the
// tenant's bytes, then stores. A refusal returns before any file is
// written, and the caller's transaction rolls back the rest.
func (s *Service) storeVersion(ctx context.Context, q database.Q, n store.NewVersion, newSkill bool) (store.Version, error) {
	lim, err := s.lockQuotas(ctx, q)
	if err != nil {
		return store.Version{}, err
	}
	if newSkill && lim.Skills > 0 {
		count, err := store.SkillCount(ctx, q)
		if err != nil {
			return store.Version{}, err
		}
		if over(lim.Skills, count-1, 1) {
			return store.Version{}, quotaError(QuotaSkills, lim.Skills, count-1, 1)
		}
	}
	if lim.Versions > 0 {
		count, err := store.VersionCount(ctx, q, n.SkillID)
		if err != nil {
			return store.Version{}, err
		}
		if over(lim.Versions, count, 1) {
			return store.Version{}, quotaError(QuotaVersions, lim.Versions, count, 1)
		}
	}
	if lim.Bytes > 0 {
		used, err := store.BytesUsed(ctx, q)
		if err != nil {
			return store.Version{}, err
		}
		adding, err := store.NewBytes(ctx, q, n.Files)
		if err != nil {
			return store.Version{}, err
		}
		if over(lim.Bytes, used, adding) {
			return store.Version{}, quotaError(QuotaBytes, lim.Bytes, used, adding)
		}
	}
	return store.InsertVersion(ctx, q, n)
}

// checkKeyQuota refuses a new key for user when the user has as many
// working keys as the quota allows.
func (s *Service) checkKeyQuota(ctx context.Context, q database.Q, user uuid.UUID) error {
	lim, err := s.lockQuotas(ctx, q)
	if err != nil || lim.KeysPerUser == 0 {
		return err
	}
	count, err := store.ActiveKeyCount(ctx, q, user)
	if err != nil {
		return err
	}
	if over(lim.KeysPerUser, count, 1) {
		return quotaError(QuotaKeysPerUser, lim.KeysPerUser, count, 1)
	}
	return nil
}

// QuotaReport is a tenant's limits and what it uses of the tenant-wide ones.
type QuotaReport struct {
	Limits Quotas `json:"limits"`
	Bytes  int64  `json:"bytes_used"`
	Skills int64  `json:"skills_used"`
}

// QuotaUsage reports the actor's own tenant's quotas and usage (admins and
// the operator's CLI). It reads only the actor's tenant: there is no way to
// name another.
func (s *Service) QuotaUsage(ctx context.Context, a Actor) (QuotaReport, error) {
	if err := a.need("admin"); err != nil {
		return QuotaReport{}, err
	}
	var r QuotaReport
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		o, err := store.TenantQuotaOverrides(ctx, q)
		if err != nil {
			return err
		}
		r.Limits = s.quotas.with(o)
		if r.Bytes, err = store.BytesUsed(ctx, q); err != nil {
			return err
		}
		r.Skills, err = store.SkillCount(ctx, q)
		return err
	})
	return r, err
}

var byteUnits = []struct {
	suffix string
	n      int64
}{
	{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
}

// ParseQuota reads a quota value: "unlimited" or 0 for no limit, a count,
// or for bytes a size such as 500MB, 1GiB or 1073741824.
func ParseQuota(name, s string) (int64, error) {
	v := strings.ToUpper(strings.TrimSpace(s))
	if v == "UNLIMITED" {
		return 0, nil
	}
	mult := int64(1)
	if name == QuotaBytes {
		for _, u := range byteUnits {
			if num, ok := strings.CutSuffix(v, u.suffix); ok {
				v, mult = strings.TrimSpace(num), u.n
				break
			}
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || (n > 0 && mult > (1<<62)/n) {
		if name == QuotaBytes {
			return 0, fmt.Errorf("quota %s: %q is not a size (use e.g. 500MB, 1GiB, a number of bytes, or unlimited)", name, s)
		}
		return 0, fmt.Errorf("quota %s: %q is not a count (use a whole number, or unlimited)", name, s)
	}
	if name != QuotaBytes && n > 1<<31-1 {
		return 0, fmt.Errorf("quota %s: %d is too large", name, n)
	}
	return n * mult, nil
}

// FormatBytes prints a byte count in binary units.
func FormatBytes(n int64) string {
	for _, u := range byteUnits[:4] {
		if n >= u.n {
			return strconv.FormatFloat(float64(n)/float64(u.n), 'f', 1, 64) + " " + u.suffix[:1] + "iB"
		}
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
