package api

import (
	"net/http"
	"time"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

func (api *API) stats(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	to := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	from := to.Add(-30 * 24 * time.Hour)
	var err error
	if s := r.URL.Query().Get("from"); s != "" {
		if from, err = parseDay(s); err != nil {
			return err
		}
	}
	if s := r.URL.Query().Get("to"); s != "" {
		if to, err = parseDay(s); err != nil {
			return err
		}
	}
	st, err := api.svc.SkillStats(r.Context(), a, r.PathValue("name"), from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return t, &service.Error{Kind: service.Invalid, Msg: "dates are YYYY-MM-DD or RFC 3339, not " + s}
	}
	return t, nil
}

func (api *API) recordUsage(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	var in struct {
		Events []service.UsageInput `json:"events"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := api.svc.RecordUsage(r.Context(), a, in.Events)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (api *API) audit(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), ResourceType: q.Get("resource_type"), Resource: q.Get("resource")}
	for name, dst := range map[string]**time.Time{"from": &f.From, "to": &f.To} {
		if s := q.Get(name); s != "" {
			t, err := parseDay(s)
			if err != nil {
				return err
			}
			*dst = &t
		}
	}
	return list(w, r, func(before int64, limit int) ([]store.AuditEntry, error) {
		f.BeforeID, f.Limit = before, limit
		return api.svc.Audit(r.Context(), a, f)
	}, func(e store.AuditEntry, _ int64, _ int) any { return e.ID })
}

func (api *API) getSettings(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	st, err := api.svc.Settings(r.Context(), a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (api *API) patchSettings(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	var p service.SettingsPatch
	if err := decode(w, r, &p); err != nil {
		return err
	}
	st, err := api.svc.UpdateSettings(r.Context(), a, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}
