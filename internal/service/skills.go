package service

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// PublishOptions go with a new bundle.
type PublishOptions struct {
	Publish    bool     // publish the new version at once
	Visibility string   // for a new skill: private, tenant (default) or public
	Category   string   // for a new skill
	Tags       []string // for a new skill
	Changelog  string
	Dir        string // folder name the bundle came from, checked against its name
	Override   bool   // publish despite a high-severity safety finding (admins)
}

// Published is the result of creating a skill or adding a version.
type Published struct {
	Skill     store.Skill       `json:"skill"`
	Version   store.Version     `json:"version"`
	Files     []store.FileEntry `json:"files"`
	Created   bool              `json:"created"`   // a new version was stored
	Unchanged bool              `json:"unchanged"` // the bundle equals the latest version
	Message   string            `json:"message"`
	// PossibleDuplicates are existing skills very like a new one: a
	// warning, not a refusal.
	PossibleDuplicates []Duplicate `json:"possible_duplicates,omitempty"`
}

var tagRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

func cleanTags(tags []string) ([]string, error) {
	out := []string{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if !tagRE.MatchString(t) {
			return nil, invalidf("tag %q must be 1-40 lowercase letters, digits or hyphens", t)
		}
		out = append(out, t)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 20 {
		return nil, invalidf("at most 20 tags")
	}
	return out, nil
}

func checkVisibility(v string) error {
	switch v {
	case "private", "tenant", "public":
		return nil
	}
	return invalidf("visibility must be private, tenant or public, not %q", v)
}

// checkPublic enforces who may make a skill public: admins only, and nobody
// when the tenant has public discovery off.
func checkPublic(a Actor, st store.Settings) error {
	if !a.isAdmin() {
		return forbiddenf("only tenant admins may make a skill public")
	}
	if !st.PublicDiscovery {
		return forbiddenf("this tenant does not allow public skills: an admin can turn on public_discovery in the settings")
	}
	return nil
}

// parse validates a bundle; every failure is an Invalid error with the
// problems by file and line, and nothing is stored.
func (s *Service) parse(files []bundle.File, dir string) (*bundle.Bundle, error) {
	b, err := bundle.New(files, s.limits, dir)
	if err != nil {
		if e, ok := AsError(err); ok {
			return nil, e
		}
		return nil, err
	}
	return b, nil
}

func frontmatterJSON(b *bundle.Bundle) []byte {
	data, _ := json.Marshal(b.Frontmatter)
	return data
}

func versionFiles(b *bundle.Bundle) []store.FileData {
	out := make([]store.FileData, len(b.Files))
	for i, f := range b.Files {
		out[i] = store.FileData{FileEntry: store.FileEntry{Path: f.Path, SHA256: strings.TrimPrefix(bundle.FileDigest(f.Data), "sha256:"), Size: int64(len(f.Data))}, Data: f.Data}
	}
	return out
}

// CreateSkill stores a new skill named by its SKILL.md, with version 1.
func (s *Service) CreateSkill(ctx context.Context, a Actor, files []bundle.File, o PublishOptions) (Published, error) {
	if err := a.need("write"); err != nil {
		return Published{}, err
	}
	if a.UserID == uuid.Nil {
		return Published{}, forbiddenf("skills are created by users: use a user's API key")
	}
	b, err := s.parse(files, o.Dir)
	if err != nil {
		return Published{}, err
	}
	if o.Visibility == "" {
		o.Visibility = "tenant"
	}
	if err := checkVisibility(o.Visibility); err != nil {
		return Published{}, err
	}
	tags, err := cleanTags(o.Tags)
	if err != nil {
		return Published{}, err
	}
	var out Published
	var after afterCommit
	err = s.writeCounted(ctx, a, func(q database.Q) error {
		st, err := s.settingsIn(ctx, q)
		if err != nil {
			return err
		}
		if o.Visibility == "public" {
			if err := checkPublic(a, st); err != nil {
				return err
			}
		}
		id, err := store.InsertSkill(ctx, q, store.NewSkill{Name: b.Frontmatter.Name, Title: b.Title, Description: b.Frontmatter.Description,
			Body: b.Body, Category: strings.TrimSpace(o.Category), Tags: tags, Visibility: o.Visibility, AuthorID: a.UserID})
		if _, dup := store.IsUniqueViolation(err); dup {
			return errNameTaken
		}
		if err != nil {
			return err
		}
		v, err := s.storeVersion(ctx, q, store.NewVersion{SkillID: id, Number: 1, Frontmatter: frontmatterJSON(b), Digest: b.Digest,
			Files: versionFiles(b), AuthorID: a.UserID, Changelog: o.Changelog}, true)
		if err != nil {
			return err
		}
		if err := s.reviewNewVersion(ctx, q, a, id, v, b, &after); err != nil {
			return err
		}
		if err := store.SetSkillContent(ctx, q, id, b.Title, b.Frontmatter.Description, b.Body, 1); err != nil {
			return err
		}
		if err := s.enqueueEmbedding(ctx, q, id, b.Frontmatter.Name, b.Title, b.Frontmatter.Description, b.Body); err != nil {
			return err
		}
		if err := s.audit(ctx, q, a, "skill.create", "success", "skill", b.Frontmatter.Name,
			map[string]any{"version": 1, "digest": b.Digest, "visibility": o.Visibility}); err != nil {
			return err
		}
		out = Published{Version: v, Created: true, Message: "created " + b.Frontmatter.Name + " version 1"}
		if o.Publish {
			if out.Message, err = s.publishIn(ctx, q, a, id, b.Frontmatter.Name, st, o.Override); err != nil {
				return err
			}
		}
		return s.fill(ctx, q, &out, b.Frontmatter.Name)
	})
	after.run(err)
	if errors.Is(err, errNameTaken) {
		err = s.nameConflict(ctx, a, b.Frontmatter.Name, "add a version with POST /api/v1/skills/"+b.Frontmatter.Name+"/versions")
	}
	if err == nil {
		out.PossibleDuplicates = s.possibleDuplicates(ctx, a, out.Skill, b.Body)
	}
	return out, err
}

// errNameTaken is a skill insert that hit the tenant's unique name; the
// transaction is aborted, so nameConflict answers after it.
var errNameTaken = errors.New("skill name taken")

// nameConflict is the answer to a name already taken in the tenant. A
// skill the actor may see is named, with hint (what to do instead). One
// they may not see (another member's private skill or draft) gets one
// neutral answer, the same whoever holds the name, so a conflict never
// confirms that a hidden skill exists: the caller learns only that the
// name is not available, which unique names per tenant cannot avoid
// (SECURITY.md).
func (s *Service) nameConflict(ctx context.Context, a Actor, name, hint string) error {
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		_, err := visible(ctx, q, name)
		return err
	})
	switch {
	case err == nil:
		return &Error{Kind: Conflict, Msg: "a skill named " + name + " exists: " + hint}
	case KindOf(err) == NotFound:
		return &Error{Kind: Conflict, Msg: "the name " + name + " is not available: choose another name"}
	}
	return err
}

// fill reads back the skill and manifest of a publication.
func (s *Service) fill(ctx context.Context, q database.Q, p *Published, name string) error {
	var err error
	if p.Skill, err = store.SkillByName(ctx, q, name); err != nil {
		return err
	}
	p.Files, err = store.VersionFiles(ctx, q, p.Version.ID)
	return err
}

// editable returns the skill if the actor may change it (its author or an
// admin), locking its row; others get not-found or forbidden as they may
// or may not see it.
func (s *Service) editable(ctx context.Context, q database.Q, a Actor, name string) (store.Skill, error) {
	if _, err := store.LockSkill(ctx, q, name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Skill{}, notFoundf("no skill named %s", name)
		}
		return store.Skill{}, err
	}
	sk, err := store.SkillByName(ctx, q, name)
	if err != nil {
		return sk, err
	}
	if sk.AuthorID != a.UserID && !a.isAdmin() {
		return sk, forbiddenf("only the author of %s or a tenant admin may change it", name)
	}
	return sk, nil
}

// AddVersion stores a new version of an existing skill, unless the bundle
// equals the latest version.
func (s *Service) AddVersion(ctx context.Context, a Actor, name string, files []bundle.File, o PublishOptions) (Published, error) {
	if err := a.need("write"); err != nil {
		return Published{}, err
	}
	b, err := s.parse(files, o.Dir)
	if err != nil {
		return Published{}, err
	}
	if b.Frontmatter.Name != name {
		return Published{}, &Error{Kind: Invalid, Msg: "SKILL.md names the skill " + b.Frontmatter.Name + ", not " + name,
			Problems: []bundle.Problem{{File: "SKILL.md", Line: 2, Msg: "name must be " + name}}}
	}
	var out Published
	var after afterCommit
	err = s.writeCounted(ctx, a, func(q database.Q) error {
		sk, err := s.editable(ctx, q, a, name)
		if err != nil {
			return err
		}
		latest, err := store.VersionByNumber(ctx, q, sk.ID, sk.LatestVersion)
		if err != nil {
			return err
		}
		if latest.Digest == b.Digest {
			out = Published{Version: latest, Unchanged: true, Message: "unchanged: the bundle equals version " + itoa(latest.Number)}
			if o.Publish && sk.Status != "published" {
				st, err := s.settingsIn(ctx, q)
				if err != nil {
					return err
				}
				if out.Message, err = s.publishIn(ctx, q, a, sk.ID, name, st, o.Override); err != nil {
					return err
				}
			}
			return s.fill(ctx, q, &out, name)
		}
		n := sk.LatestVersion + 1
		v, err := s.storeVersion(ctx, q, store.NewVersion{SkillID: sk.ID, Number: n, Frontmatter: frontmatterJSON(b), Digest: b.Digest,
			Files: versionFiles(b), AuthorID: a.UserID, Changelog: o.Changelog}, false)
		if err != nil {
			return err
		}
		if err := s.reviewNewVersion(ctx, q, a, sk.ID, v, b, &after); err != nil {
			return err
		}
		if err := store.SetSkillContent(ctx, q, sk.ID, b.Title, b.Frontmatter.Description, b.Body, n); err != nil {
			return err
		}
		if err := s.enqueueEmbedding(ctx, q, sk.ID, name, b.Title, b.Frontmatter.Description, b.Body); err != nil {
			return err
		}
		if err := s.audit(ctx, q, a, "skill.update", "success", "skill", name, map[string]any{"version": n, "digest": b.Digest}); err != nil {
			return err
		}
		out = Published{Version: v, Created: true, Message: "created " + name + " version " + itoa(n)}
		if o.Publish {
			st, err := s.settingsIn(ctx, q)
			if err != nil {
				return err
			}
			if out.Message, err = s.publishIn(ctx, q, a, sk.ID, name, st, o.Override); err != nil {
				return err
			}
		}
		return s.fill(ctx, q, &out, name)
	})
	after.run(err)
	return out, err
}

// publishIn publishes the latest version, or, when the tenant requires
// review and the actor is not an admin (admins are the reviewers), submits
// it for review: a published skill stays visible at its published version
// meanwhile.
func (s *Service) publishIn(ctx context.Context, q database.Q, a Actor, id uuid.UUID, name string, st store.Settings, override bool) (string, error) {
	sk, err := store.SkillByName(ctx, q, name)
	if err != nil {
		return "", err
	}
	if st.RequireReview && !a.isAdmin() {
		if err := store.SubmitForReview(ctx, q, id); err != nil {
			return "", err
		}
		msg := name + " version " + itoa(sk.LatestVersion) + " is waiting for an admin's review"
		return msg, s.audit(ctx, q, a, "skill.publish", "success", "skill", name, map[string]any{"status": "in_review", "version": sk.LatestVersion})
	}
	if err := s.checkBlocked(ctx, q, a, sk, sk.LatestVersion, override); err != nil {
		return "", err
	}
	if err := store.SetSkillStatus(ctx, q, id, "published"); err != nil {
		return "", err
	}
	return "published " + name, s.audit(ctx, q, a, "skill.publish", "success", "skill", name, map[string]any{"status": "published", "version": sk.LatestVersion})
}

// Publish publishes a skill's latest version.
func (s *Service) Publish(ctx context.Context, a Actor, name string) (store.Skill, string, error) {
	return s.publish(ctx, a, name, false)
}

// PublishOverride publishes despite a high-severity safety finding
// (admins only; audited).
func (s *Service) PublishOverride(ctx context.Context, a Actor, name string) (store.Skill, string, error) {
	return s.publish(ctx, a, name, true)
}

func (s *Service) publish(ctx context.Context, a Actor, name string, override bool) (store.Skill, string, error) {
	if err := a.need("write"); err != nil {
		return store.Skill{}, "", err
	}
	var sk store.Skill
	var msg string
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		var err error
		if sk, err = s.editable(ctx, q, a, name); err != nil {
			return err
		}
		st, err := s.settingsIn(ctx, q)
		if err != nil {
			return err
		}
		if msg, err = s.publishIn(ctx, q, a, sk.ID, name, st, override); err != nil {
			return err
		}
		sk, err = store.SkillByName(ctx, q, name)
		return err
	})
	return sk, msg, err
}

// Skill returns a skill the actor may see.
func (s *Service) Skill(ctx context.Context, a Actor, name string) (store.Skill, error) {
	if err := a.needRead(); err != nil {
		return store.Skill{}, err
	}
	var sk store.Skill
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		sk, err = store.SkillByName(ctx, q, name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return sk, notFoundf("no skill named %s", name)
	}
	return sk, err
}

// needRead allows anonymous callers (they see only public skills) and
// credentials with the read scope.
func (a Actor) needRead() error {
	if a.Role == "" {
		return nil
	}
	return a.need("read")
}

// Skills lists the skills the actor may see.
func (s *Service) Skills(ctx context.Context, a Actor, f store.SkillFilter) ([]store.Skill, error) {
	if err := a.needRead(); err != nil {
		return nil, err
	}
	switch f.Sort {
	case "", "updated", "rating", "uses", "name":
	default:
		return nil, invalidf("sort must be updated, rating, uses or name, not %q", f.Sort)
	}
	if f.Offset < 0 || f.Limit < 0 {
		return nil, invalidf("offset and limit must not be negative")
	}
	var out []store.Skill
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		out, err = store.ListSkills(ctx, q, f)
		return err
	})
	return out, err
}

// SkillChange is a partial update of a skill's metadata; nil fields stay.
type SkillChange struct {
	Title      *string   `json:"title"`
	Category   *string   `json:"category"`
	Tags       *[]string `json:"tags"`
	Visibility *string   `json:"visibility"`
	Status     *string   `json:"status"` // archived, or published to unarchive
}

// UpdateSkill changes a skill's metadata (author or admin).
func (s *Service) UpdateSkill(ctx context.Context, a Actor, name string, c SkillChange) (store.Skill, error) {
	if err := a.need("write"); err != nil {
		return store.Skill{}, err
	}
	var sk store.Skill
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		old, err := s.editable(ctx, q, a, name)
		if err != nil {
			return err
		}
		sk = old
		if c.Title != nil {
			sk.Title = strings.TrimSpace(*c.Title)
		}
		if c.Category != nil {
			sk.Category = strings.TrimSpace(*c.Category)
		}
		if c.Tags != nil {
			if sk.Tags, err = cleanTags(*c.Tags); err != nil {
				return err
			}
		}
		if c.Visibility != nil {
			if err := checkVisibility(*c.Visibility); err != nil {
				return err
			}
			if *c.Visibility == "public" && old.Visibility != "public" {
				st, err := s.settingsIn(ctx, q)
				if err != nil {
					return err
				}
				if err := checkPublic(a, st); err != nil {
					return err
				}
			}
			sk.Visibility = *c.Visibility
		}
		if c.Status != nil && *c.Status != old.Status {
			switch {
			case *c.Status == "archived" && old.PublishedVersion == nil:
				// Archived skills are shown to the whole tenant; a draft that
				// was never published would show with them.
				return invalidf("%s was never published: delete the draft instead of archiving it", name)
			case *c.Status == "archived":
			case *c.Status == "published" && old.Status == "archived" && old.PublishedVersion != nil:
			default:
				return invalidf("status can be changed to archived, or from archived back to published; use POST /api/v1/skills/%s/publish to publish", name)
			}
			sk.Status = *c.Status
		}
		if err := store.UpdateSkillMeta(ctx, q, sk); err != nil {
			return err
		}
		if old.Visibility != sk.Visibility {
			if err := s.audit(ctx, q, a, "skill.visibility_change", "success", "skill", name, map[string]any{"old": old.Visibility, "new": sk.Visibility}); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, q, a, "skill.update", "success", "skill", name, map[string]any{"fields": changed(c)}); err != nil {
			return err
		}
		sk, err = store.SkillByName(ctx, q, name)
		return err
	})
	return sk, err
}

func changed(c SkillChange) []string {
	var f []string
	for name, set := range map[string]bool{"title": c.Title != nil, "category": c.Category != nil, "tags": c.Tags != nil,
		"visibility": c.Visibility != nil, "status": c.Status != nil} {
		if set {
			f = append(f, name)
		}
	}
	slices.Sort(f)
	return f
}

// DeleteSkill deletes a skill with its versions, ratings and usage (author
// or admin), and in the same transaction the file bytes no other version
// of the tenant shares.
func (s *Service) DeleteSkill(ctx context.Context, a Actor, name string) error {
	if err := a.need("write"); err != nil {
		return err
	}
	return s.writeCounted(ctx, a, func(q database.Q) error {
		sk, err := s.editable(ctx, q, a, name)
		if err != nil {
			return err
		}
		shas, err := store.SkillBlobs(ctx, q, sk.ID)
		if err != nil {
			return err
		}
		if err := store.DeleteSkill(ctx, q, sk.ID); err != nil {
			return err
		}
		if err := s.audit(ctx, q, a, "skill.delete", "success", "skill", name, map[string]any{"versions": sk.LatestVersion}); err != nil {
			return err
		}
		_, err = s.collectGarbage(ctx, q, a, shas, "skill.delete")
		return err
	})
}

// VersionDetail is a version with its manifest.
type VersionDetail struct {
	store.Version
	Skill string            `json:"skill"`
	Files []store.FileEntry `json:"files"`
}

// readableVersion is the newest version of sk the actor may read: any
// version for its author and admins, the published one for everyone else.
// A version added after publishing is its author's draft until it is
// published in turn, so others neither see nor install it.
func readableVersion(a Actor, sk store.Skill) int {
	if a.isAdmin() || (a.UserID != uuid.Nil && sk.AuthorID == a.UserID) {
		return sk.LatestVersion
	}
	if sk.PublishedVersion == nil {
		return 0
	}
	return *sk.PublishedVersion
}

// resolveVersion finds a version by number or "latest" (the newest the
// actor may read).
func resolveVersion(ctx context.Context, q database.Q, a Actor, sk store.Skill, ref string) (store.Version, error) {
	max := readableVersion(a, sk)
	n := max
	if ref != "latest" && ref != "" {
		var err error
		if n, err = atoi(ref); err != nil || n < 1 {
			return store.Version{}, invalidf("version must be a positive number or \"latest\", not %q", ref)
		}
	}
	if n < 1 || n > max {
		return store.Version{}, notFoundf("%s has no version %s", sk.Name, ref)
	}
	v, err := store.VersionByNumber(ctx, q, sk.ID, n)
	if errors.Is(err, store.ErrNotFound) {
		return v, notFoundf("%s has no version %s", sk.Name, ref)
	}
	return v, err
}

// visible reads a skill the actor may see, as not-found otherwise.
func visible(ctx context.Context, q database.Q, name string) (store.Skill, error) {
	sk, err := store.SkillByName(ctx, q, name)
	if errors.Is(err, store.ErrNotFound) {
		return sk, notFoundf("no skill named %s", name)
	}
	return sk, err
}

// Versions lists a skill's versions, newest first, before `before`.
func (s *Service) Versions(ctx context.Context, a Actor, name string, before, limit int) ([]store.Version, error) {
	if err := a.needRead(); err != nil {
		return nil, err
	}
	var out []store.Version
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		sk, err := visible(ctx, q, name)
		if err != nil {
			return err
		}
		if max := readableVersion(a, sk); before == 0 || before > max+1 {
			before = max + 1
		}
		out, err = store.ListVersions(ctx, q, sk.ID, before, limit)
		return err
	})
	return out, err
}

// Version returns one version with its manifest.
func (s *Service) Version(ctx context.Context, a Actor, name, ref string) (VersionDetail, error) {
	if err := a.needRead(); err != nil {
		return VersionDetail{}, err
	}
	var out VersionDetail
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		sk, err := visible(ctx, q, name)
		if err != nil {
			return err
		}
		if out.Version, err = resolveVersion(ctx, q, a, sk, ref); err != nil {
			return err
		}
		out.Skill = name
		out.Files, err = store.VersionFiles(ctx, q, out.Version.ID)
		return err
	})
	return out, err
}

// downloadAllowed applies allow_skill_download (admins may always download).
func (s *Service) downloadAllowed(ctx context.Context, q database.Q, a Actor) error {
	if a.isAdmin() {
		return nil
	}
	st, err := s.settingsIn(ctx, q)
	if err != nil {
		return err
	}
	if !st.AllowSkillDownload {
		return forbiddenf("downloads are turned off for this tenant (allow_skill_download)")
	}
	return nil
}

// File returns one file of a version.
func (s *Service) File(ctx context.Context, a Actor, name, ref, path string) (store.FileData, store.Version, error) {
	var f store.FileData
	v, err := s.download(ctx, a, name, ref, func(q database.Q, v store.Version) error {
		var err error
		f, err = store.VersionFile(ctx, q, v.ID, path)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundf("%s version %d has no file %s", name, v.Number, path)
		}
		return err
	})
	return f, v, err
}

// download resolves a version the actor may download and runs fn on it in
// the same transaction.
func (s *Service) download(ctx context.Context, a Actor, name, ref string, fn func(database.Q, store.Version) error) (store.Version, error) {
	if err := a.needRead(); err != nil {
		return store.Version{}, err
	}
	var v store.Version
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		if err := s.downloadAllowed(ctx, q, a); err != nil {
			return err
		}
		sk, err := visible(ctx, q, name)
		if err != nil {
			return err
		}
		if v, err = resolveVersion(ctx, q, a, sk, ref); err != nil {
			return err
		}
		return fn(q, v)
	})
	return v, err
}

// Bundle returns every file of a version, for an archive.
func (s *Service) Bundle(ctx context.Context, a Actor, name, ref string) ([]bundle.File, store.Version, error) {
	var files []bundle.File
	v, err := s.download(ctx, a, name, ref, func(q database.Q, v store.Version) error {
		data, err := store.VersionFileData(ctx, q, v.ID)
		for _, d := range data {
			files = append(files, bundle.File{Path: d.Path, Data: d.Data})
		}
		return err
	})
	return files, v, err
}

// Fork copies a skill's latest version into a new skill of the actor's,
// named newName, recording the source and its digest.
func (s *Service) Fork(ctx context.Context, a Actor, name, newName string) (Published, error) {
	if err := a.need("write"); err != nil {
		return Published{}, err
	}
	if newName == "" {
		newName = name + "-fork"
	}
	if err := bundle.ValidateName(newName); err != nil {
		return Published{}, invalidf("%v", err)
	}
	files, v, err := s.Bundle(ctx, a, name, "latest")
	if err != nil {
		return Published{}, err
	}
	// The copy's SKILL.md must carry its own name (the spec requires the
	// name to match the skill); only that line changes.
	for i, f := range files {
		if f.Path == "SKILL.md" {
			files[i].Data, _ = renameSkillMD(f.Data, newName)
		}
	}
	b, err := s.parse(files, "")
	if err != nil {
		return Published{}, err
	}
	if b.Frontmatter.Name != newName {
		return Published{}, invalidf("could not rename the copy of %s's SKILL.md to %s: edit its name line and upload it instead", name, newName)
	}
	var out Published
	var after afterCommit
	err = s.writeCounted(ctx, a, func(q database.Q) error {
		src, err := visible(ctx, q, name)
		if err != nil {
			return err
		}
		digest := v.Digest
		id, err := store.InsertSkill(ctx, q, store.NewSkill{Name: newName, Title: b.Title, Description: b.Frontmatter.Description,
			Body: b.Body, Category: src.Category, Tags: src.Tags, Visibility: "private", AuthorID: a.UserID, ForkOfID: &src.ID, ForkOfDigest: &digest})
		if _, dup := store.IsUniqueViolation(err); dup {
			return errNameTaken
		}
		if err != nil {
			return err
		}
		nv, err := s.storeVersion(ctx, q, store.NewVersion{SkillID: id, Number: 1, Frontmatter: frontmatterJSON(b), Digest: b.Digest,
			Files: versionFiles(b), AuthorID: a.UserID, Changelog: "forked from " + name + " version " + itoa(v.Number)}, true)
		if err != nil {
			return err
		}
		if err := s.reviewNewVersion(ctx, q, a, id, nv, b, &after); err != nil {
			return err
		}
		if err := store.SetSkillContent(ctx, q, id, b.Title, b.Frontmatter.Description, b.Body, 1); err != nil {
			return err
		}
		if err := s.enqueueEmbedding(ctx, q, id, newName, b.Title, b.Frontmatter.Description, b.Body); err != nil {
			return err
		}
		if err := s.audit(ctx, q, a, "skill.create", "success", "skill", newName,
			map[string]any{"fork_of": name, "fork_of_digest": digest, "version": 1}); err != nil {
			return err
		}
		out = Published{Version: nv, Created: true, Message: "forked " + name + " as " + newName}
		return s.fill(ctx, q, &out, newName)
	})
	after.run(err)
	if errors.Is(err, errNameTaken) {
		err = s.nameConflict(ctx, a, newName, "choose another name for the fork")
	}
	return out, err
}
