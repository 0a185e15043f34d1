package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

func (wb *Web) adminHome(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	http.Redirect(w, r, "/admin/analytics", http.StatusSeeOther)
	return nil
}

func (wb *Web) adminUsers(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	return wb.renderUsers(w, r, c, http.StatusOK, "")
}

func (wb *Web) renderUsers(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, formErr string) error {
	users, err := wb.svc.ListUsers(r.Context(), c.A, r.URL.Query().Get("after"), 200)
	if err != nil {
		return err
	}
	wb.render(w, r, c, status, "admin_users", "Users", map[string]any{"Users": users, "Error": formErr, "Me": c.A.UserID})
	return nil
}

func (wb *Web) adminCreateUser(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	_, err := wb.svc.CreateUser(r.Context(), c.A, service.NewUser{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Role: r.PostFormValue("role")})
	if e, ok := service.AsError(err); ok && e.Kind != service.Internal {
		return wb.renderUsers(w, r, c, http.StatusBadRequest, e.Msg)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/users?created=1", http.StatusSeeOther)
	return nil
}

func (wb *Web) adminUpdateUser(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return &service.Error{Kind: service.NotFound, Msg: "no such user"}
	}
	var ch service.UserChange
	if role := r.PostFormValue("role"); role != "" {
		ch.Role = &role
	}
	if act := r.PostFormValue("active"); act != "" {
		b := act == "true"
		ch.Active = &b
	}
	_, err = wb.svc.UpdateUser(r.Context(), c.A, id, ch)
	if e, ok := service.AsError(err); ok && (e.Kind == service.Invalid || e.Kind == service.Conflict) {
		return wb.renderUsers(w, r, c, http.StatusBadRequest, e.Msg)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/users?updated=1", http.StatusSeeOther)
	return nil
}

func (wb *Web) adminKeys(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	keys, err := wb.svc.ListKeys(r.Context(), c.A, true, nil, 500)
	if err != nil {
		return err
	}
	users, err := wb.svc.ListUsers(r.Context(), c.A, "", 1000)
	if err != nil {
		return err
	}
	emails := map[uuid.UUID]string{}
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	grants, err := wb.svc.ListGrants(r.Context(), c.A, true, 500)
	if err != nil {
		return err
	}
	wb.render(w, r, c, http.StatusOK, "admin_keys", "All API keys", map[string]any{"Keys": keys, "Emails": emails, "Grants": grants, "AllUsers": true})
	return nil
}

func (wb *Web) adminRevokeKey(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return &service.Error{Kind: service.NotFound, Msg: "no such key"}
	}
	if _, err := wb.svc.RevokeKey(r.Context(), c.A, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/keys?revoked=1", http.StatusSeeOther)
	return nil
}

func (wb *Web) adminSettings(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	st, err := wb.svc.Settings(r.Context(), c.A)
	if err != nil {
		return err
	}
	wb.render(w, r, c, http.StatusOK, "admin_settings", "Settings", map[string]any{"S": st, "Saved": r.URL.Query().Get("saved") == "1"})
	return nil
}

// secretField reads a write-only key field: the clear box wins, an empty
// field keeps the stored key.
func secretField(f url.Values, name string) *string {
	if f.Get("clear_"+name) == "on" {
		empty := ""
		return &empty
	}
	if v := f.Get(name); v != "" {
		return &v
	}
	return nil
}

func (wb *Web) adminSaveSettings(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	f := r.PostForm
	check := func(k string) *bool { b := f.Get(k) == "on"; return &b }
	text := func(k string) *string { s := f.Get(k); return &s }
	p := service.SettingsPatch{
		SemanticSearchEnabled: check("semantic_search_enabled"),
		EmbeddingProvider:     text("embedding_provider"),
		EmbeddingURL:          text("embedding_url"),
		EmbeddingModel:        text("embedding_model"),
		AllowSkillDownload:    check("allow_skill_download"),
		RequireReview:         check("require_review"),
		PublicDiscovery:       check("public_discovery"),
		LLMReviewURL:          text("llm_review_url"),
		LLMReviewModel:        text("llm_review_model"),
		EmbeddingAPIKey:       secretField(f, "embedding_api_key"),
		LLMAPIKey:             secretField(f, "llm_api_key"),
	}
	formErr := ""
	days, err := strconv.Atoi(strings.TrimSpace(f.Get("key_expiry_days")))
	if err != nil {
		formErr = "key_expiry_days must be a whole number of days (0 for keys that never expire)"
	} else {
		p.KeyExpiryDays = &days
	}
	if formErr == "" {
		_, err := wb.svc.UpdateSettings(r.Context(), c.A, p)
		if err == nil {
			http.Redirect(w, r, "/admin/settings?saved=1", http.StatusSeeOther)
			return nil
		}
		e, ok := service.AsError(err)
		if !ok || e.Kind != service.Invalid {
			return err
		}
		formErr = e.Msg
	}
	// Show the form as it was sent, with the message.
	st := store.Settings{SemanticSearchEnabled: *p.SemanticSearchEnabled, EmbeddingProvider: *p.EmbeddingProvider, EmbeddingURL: *p.EmbeddingURL,
		EmbeddingModel: *p.EmbeddingModel, AllowSkillDownload: *p.AllowSkillDownload, RequireReview: *p.RequireReview,
		PublicDiscovery: *p.PublicDiscovery, LLMReviewURL: *p.LLMReviewURL, LLMReviewModel: *p.LLMReviewModel}
	if p.KeyExpiryDays != nil {
		st.KeyExpiryDays = *p.KeyExpiryDays
	}
	// Keys are never sent back into the form; say only whether one is set.
	if cur, err := wb.svc.Settings(r.Context(), c.A); err == nil {
		st.EmbeddingAPIKeySet, st.LLMAPIKeySet = cur.EmbeddingAPIKeySet, cur.LLMAPIKeySet
	}
	wb.render(w, r, c, http.StatusBadRequest, "admin_settings", "Settings", map[string]any{"S": st, "Error": formErr, "RawDays": f.Get("key_expiry_days")})
	return nil
}

const auditPage = 50

func (wb *Web) adminAudit(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		ResourceType: strings.TrimSpace(q.Get("resource_type")), Resource: strings.TrimSpace(q.Get("resource")), Limit: auditPage + 1}
	formErr := ""
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			formErr = "the page cursor is not valid"
		}
		f.BeforeID = n
	}
	for _, d := range []struct {
		key string
		dst **time.Time
		add time.Duration
	}{{"from", &f.From, 0}, {"to", &f.To, 24 * time.Hour}} {
		if v := q.Get(d.key); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				formErr = d.key + " must be a date (YYYY-MM-DD)"
				continue
			}
			t = t.Add(d.add)
			*d.dst = &t
		}
	}
	var entries []store.AuditEntry
	if formErr == "" {
		var err error
		if entries, err = wb.svc.Audit(r.Context(), c.A, f); err != nil {
			return err
		}
	}
	next := ""
	if len(entries) > auditPage {
		entries = entries[:auditPage]
		nq := r.URL.Query()
		nq.Set("before", strconv.FormatInt(entries[auditPage-1].ID, 10))
		next = "/admin/audit?" + nq.Encode()
	}
	wb.render(w, r, c, http.StatusOK, "admin_audit", "Audit log", map[string]any{"Entries": entries, "F": q, "Next": next, "Error": formErr})
	return nil
}

func (wb *Web) adminAuditEntry(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return &service.Error{Kind: service.NotFound, Msg: "no such entry"}
	}
	es, err := wb.svc.Audit(r.Context(), c.A, store.AuditFilter{BeforeID: id + 1, Limit: 1})
	if err != nil {
		return err
	}
	if len(es) == 0 || es[0].ID != id {
		return &service.Error{Kind: service.NotFound, Msg: "no such entry"}
	}
	wb.render(w, r, c, http.StatusOK, "admin_audit_entry", "Audit entry "+r.PathValue("id"), map[string]any{"E": es[0]})
	return nil
}

func (wb *Web) adminAnalytics(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	days := 30
	if d, err := strconv.Atoi(r.URL.Query().Get("days")); err == nil && slices.Contains([]int{7, 30, 90, 365}, d) {
		days = d
	}
	to := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	from := to.AddDate(0, 0, -days)
	act, err := wb.svc.TenantActivity(r.Context(), c.A, from, to)
	if err != nil {
		return err
	}
	series := dailySeries(act.Daily, from, days)
	var total int64
	byEvent := map[string]int64{}
	for _, d := range act.Daily {
		if d.Event != "view" { // views are not uses
			total += d.Count
		}
		byEvent[d.Event] += d.Count
	}
	var top, users []point
	for _, s := range act.TopSkills {
		top = append(top, point{s.Name, s.Count})
	}
	for _, u := range act.TopUsers {
		users = append(users, point{u.Name, u.Count})
	}
	wb.render(w, r, c, http.StatusOK, "admin_analytics", "Usage analytics", map[string]any{
		"Days": days, "Total": total, "ByEvent": byEvent, "Active": act.ActiveUsers, "Series": series, "Act": act,
		"UsesChart": barChart(series, "Uses per day", true), "TopChart": hbarChart(top, "Most used skills"), "UsersChart": hbarChart(users, "Most active users"),
		"Ranges": []int{7, 30, 90, 365}})
	return nil
}

func (wb *Web) adminReviews(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	return wb.renderReviews(w, r, c, http.StatusOK, "")
}

// queued is a skill waiting for review with its latest reviews.
type queued struct {
	store.Skill
	Reviews  []reviewView
	Blocking bool
}

func (wb *Web) renderReviews(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, formErr string) error {
	sk, err := wb.svc.Skills(r.Context(), c.A, store.SkillFilter{Status: "in_review", Limit: 200})
	if err != nil {
		return err
	}
	st, err := wb.svc.Settings(r.Context(), c.A)
	if err != nil {
		return err
	}
	var qs []queued
	for _, s := range sk {
		rv, err := wb.reviewViews(r.Context(), c, s.Name, s.LatestVersion)
		if err != nil {
			return err
		}
		q := queued{Skill: s, Reviews: rv}
		for _, x := range rv {
			q.Blocking = q.Blocking || x.Blocking
		}
		qs = append(qs, q)
	}
	wb.render(w, r, c, status, "admin_reviews", "Review queue", map[string]any{"Skills": qs, "Required": st.RequireReview, "Error": formErr})
	return nil
}

func (wb *Web) adminDecide(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	d := service.Decision{Approve: r.PostFormValue("decision") == "approve", Reason: strings.TrimSpace(r.PostFormValue("reason")),
		Override: r.PostFormValue("override") == "on"}
	_, err := wb.svc.Decide(r.Context(), c.A, r.PathValue("name"), d)
	if e, ok := service.AsError(err); ok && (e.Kind == service.Invalid || e.Kind == service.Conflict || e.Kind == service.Forbidden) {
		return wb.renderReviews(w, r, c, http.StatusBadRequest, e.Msg)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/reviews?done=1", http.StatusSeeOther)
	return nil
}
