package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/review"
	"github.com/skillvault/skillvault/internal/store"
)

// LLMConfig is the operator's LLM reviewer endpoint (SKILLVAULT_LLM_URL
// and _API_KEY).
type LLMConfig = ProviderConfig

func reviewInput(b *bundle.Bundle) review.Input {
	return review.Input{Frontmatter: b.Frontmatter, Body: b.Body, Files: b.Files}
}

func storeReview(ctx context.Context, q database.Q, skill uuid.UUID, v store.Version, r review.Result) error {
	findings, _ := json.Marshal(r.Findings)
	suggestions, _ := json.Marshal(r.Suggestions)
	if r.Findings == nil {
		findings = []byte("[]")
	}
	if r.Suggestions == nil {
		suggestions = []byte("[]")
	}
	return store.InsertReview(ctx, q, store.NewReview{SkillID: skill, VersionID: v.ID, Digest: v.Digest, Reviewer: r.Reviewer,
		Quality: r.Quality, Clarity: r.Clarity, Completeness: r.Completeness, Safety: r.Safety,
		Findings: findings, Suggestions: suggestions, Summary: r.Summary, Blocking: r.Blocking()})
}

// reviewNewVersion runs the builtin reviewer on a new version inside the
// transaction that stores it. The tenant's LLM reviewer, if one is
// configured, is added to after: it must start only once the transaction
// has committed, or it could not see the version.
func (s *Service) reviewNewVersion(ctx context.Context, q database.Q, a Actor, skill uuid.UUID, v store.Version, b *bundle.Bundle, after *afterCommit) error {
	if err := storeReview(ctx, q, skill, v, s.review.Builtin(reviewInput(b))); err != nil {
		return err
	}
	st, err := s.settingsIn(ctx, q)
	if err != nil {
		return err
	}
	if st.LLMReviewURL != "" {
		after.add(func() {
			s.bg.reviews().submit(context.Background(), a.TenantID, reviewKey(v), func(ctx context.Context) int {
				s.llmReview(ctx, a.TenantID, skill, v, b, st)
				return 1
			})
		})
	}
	// Every new version also queues its embedding in this transaction: wake
	// the worker once the commit makes it visible (a wake before the commit
	// finds nothing, which leaves it to the next interval).
	after.add(s.poke)
	return nil
}

// reviewKey names the background LLM review of a version, so that a
// request can wait for that review and nothing else.
func reviewKey(v store.Version) string { return "review:" + v.ID.String() }

// afterCommit collects work to start once a transaction has committed.
type afterCommit []func()

func (a *afterCommit) add(f func()) { *a = append(*a, f) }

// run starts the work if the transaction committed (err is nil).
func (a *afterCommit) run(err error) {
	if err != nil {
		return
	}
	for _, f := range *a {
		f()
	}
}

// Wait waits for all background work of every tenant (LLM reviews,
// embedding jobs). For tests: requests wait only for their own job.
func (s *Service) Wait() {
	s.bg.reviews().wait(context.Background())
	s.bg.embeds().wait(context.Background())
}

// Shutdown stops taking background work and waits for what is queued
// until ctx ends, then cancels the rest.
func (s *Service) Shutdown(ctx context.Context) error {
	s.failures.closeAll(s.writeRepeats)
	return errors.Join(s.bg.reviews().shutdown(ctx), s.bg.embeds().shutdown(ctx))
}

// Backlog counts background jobs queued or running, over all tenants (for
// metrics: per-tenant figures would name tenants).
type Backlog struct{ Reviews, Embeddings int }

// Backlog returns the background jobs queued or running now.
func (s *Service) Backlog() Backlog {
	return Backlog{Reviews: s.bg.reviews().backlog(), Embeddings: s.bg.embeds().backlog()}
}

func (s *Service) llmReview(ctx context.Context, tenant, skill uuid.UUID, v store.Version, b *bundle.Bundle, st store.Settings) {
	ctx, cancel := context.WithTimeout(ctx, review.DefaultLLMTimeout)
	defer cancel()
	r, err := s.reviewWithLLM(ctx, st, reviewInput(b))
	if err != nil {
		s.log.Warn("LLM review failed; the builtin review stands (re-run with POST .../reviews)", "tenant", tenant, "skill", b.Frontmatter.Name, "err", err)
		return
	}
	err = s.db.Write(ctx, System(tenant).scope(), func(q database.Q) error { return storeReview(ctx, q, skill, v, r) })
	if err != nil {
		s.log.Warn("could not store LLM review", "tenant", tenant, "err", err)
	}
}

// checkBlocked refuses to publish a version with a high-severity safety
// finding, unless an admin overrides (which is audited).
func (s *Service) checkBlocked(ctx context.Context, q database.Q, a Actor, sk store.Skill, version int, override bool) error {
	v, err := store.VersionByNumber(ctx, q, sk.ID, version)
	if err != nil {
		return err
	}
	blocked, err := store.VersionBlocked(ctx, q, v.ID)
	if err != nil || !blocked {
		return err
	}
	if !override {
		// The refusal rolls the upload back, reviews included, so the
		// findings travel in the error: the author sees why, now.
		fs, err := blockingFindings(ctx, q, sk.ID, v.Number)
		if err != nil {
			return err
		}
		return &Error{Kind: Blocked, Msg: "version " + itoa(v.Number) + " of " + sk.Name +
			" has a high-severity safety finding; fix the bundle, or an admin may publish anyway with override",
			Findings: fs, Problems: findingProblems(fs)}
	}
	if !a.isAdmin() {
		return forbiddenf("only tenant admins may override a safety finding")
	}
	return s.audit(ctx, q, a, "skill.review_override", "success", "skill", sk.Name, map[string]any{"version": v.Number, "digest": v.Digest})
}

// blockingFindings are the high-severity safety findings of the blocking
// reviews of a version.
func blockingFindings(ctx context.Context, q database.Q, skill uuid.UUID, version int) ([]review.Finding, error) {
	rs, err := store.ListReviews(ctx, q, skill, version+1, 100)
	if err != nil {
		return nil, err
	}
	out := []review.Finding{}
	for _, r := range rs {
		if r.Version != version || !r.Blocking {
			continue
		}
		var fs []review.Finding
		if err := json.Unmarshal(r.Findings, &fs); err != nil {
			return nil, fmt.Errorf("read findings of review %s: %w", r.ID, err)
		}
		for _, f := range fs {
			if f.Category == review.Safety && f.Severity == review.High && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// findingProblems writes findings as per-file problems, which every
// client already prints as file:line: message.
func findingProblems(fs []review.Finding) []bundle.Problem {
	ps := make([]bundle.Problem, len(fs))
	for i, f := range fs {
		msg := f.Severity + " safety finding: " + f.Message
		if f.Rule != "" {
			msg += " [" + f.Rule + "]"
		}
		ps[i] = bundle.Problem{File: f.File, Line: f.Line, Msg: msg}
	}
	return ps
}

// Reviews lists a skill's reviews, newest version first.
func (s *Service) Reviews(ctx context.Context, a Actor, name string) ([]store.Review, error) {
	return s.ReviewPage(ctx, a, name, 0, 100)
}

// ReviewPage lists the reviews of versions before `before` (0: all).
func (s *Service) ReviewPage(ctx context.Context, a Actor, name string, before, limit int) ([]store.Review, error) {
	if err := a.needRead(); err != nil {
		return nil, err
	}
	var out []store.Review
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		sk, err := visible(ctx, q, name)
		if err != nil {
			return err
		}
		out, err = store.ListReviews(ctx, q, sk.ID, before, limit)
		return err
	})
	if out == nil {
		out = []store.Review{}
	}
	return out, err
}

// Decision is an admin's verdict on a skill in review.
type Decision struct {
	Approve  bool   `json:"approve"`
	Reason   string `json:"reason"`
	Override bool   `json:"override"` // publish despite a high-severity safety finding
}

// Decide approves (publishes) or rejects (back to draft) a skill waiting
// for review. Admins only; audited.
func (s *Service) Decide(ctx context.Context, a Actor, name string, d Decision) (store.Skill, error) {
	if err := a.need("admin"); err != nil {
		return store.Skill{}, err
	}
	if !d.Approve && d.Reason == "" {
		return store.Skill{}, invalidf("a rejection needs a reason for the author")
	}
	var sk store.Skill
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		var err error
		if sk, err = s.editable(ctx, q, a, name); err != nil {
			return err
		}
		if sk.PendingVersion == nil {
			return &Error{Kind: Conflict, Msg: name + " has no version waiting for review (status " + sk.Status + ")"}
		}
		v, err := store.VersionByNumber(ctx, q, sk.ID, *sk.PendingVersion)
		if err != nil {
			return err
		}
		action, decision := "skill.review_reject", "rejected"
		if d.Approve {
			if err := s.checkBlocked(ctx, q, a, sk, v.Number, d.Override); err != nil {
				return err
			}
			action, decision = "skill.review_approve", "approved"
		}
		if _, err := store.DecideSkillReview(ctx, q, sk.ID, d.Approve); err != nil {
			return err
		}
		if err := store.RecordReviewDecision(ctx, q, v.ID, a.UserID, decision, d.Reason); err != nil {
			return err
		}
		if err := s.audit(ctx, q, a, action, "success", "skill", name, map[string]any{"version": v.Number, "reason": d.Reason}); err != nil {
			return err
		}
		if d.Approve {
			if err := s.audit(ctx, q, a, "skill.publish", "success", "skill", name, map[string]any{"status": "published", "via": "review"}); err != nil {
				return err
			}
		}
		sk, err = store.SkillByName(ctx, q, name)
		return err
	})
	return sk, err
}

// ReviewAgain runs the reviewers on a version that lacks a review (for
// example after an LLM reviewer was configured or failed).
func (s *Service) ReviewAgain(ctx context.Context, a Actor, name, ref string) ([]store.Review, error) {
	if err := a.need("write"); err != nil {
		return nil, err
	}
	files, v, err := s.Bundle(ctx, a, name, ref)
	if err != nil {
		return nil, err
	}
	b, err := s.parse(files, "")
	if err != nil {
		return nil, err
	}
	var after afterCommit
	err = s.db.Write(ctx, a.scope(), func(q database.Q) error {
		sk, err := s.editable(ctx, q, a, name)
		if err != nil {
			return err
		}
		return s.reviewNewVersion(ctx, q, a, sk.ID, v, b, &after)
	})
	after.run(err)
	if err != nil {
		return nil, err
	}
	// Wait for this version's LLM review, if one was queued, within the
	// request: never for other work, least of all other tenants'.
	if j := s.bg.reviews().find(a.TenantID, reviewKey(v)); j != nil {
		if _, err := j.wait(ctx); err != nil {
			return nil, &Error{Kind: Unavailable, Msg: "the LLM review of " + name + " is still running; its result will appear in the skill's reviews"}
		}
	}
	return s.Reviews(ctx, a, name)
}
