package api

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/fileserve"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// readBundle reads an uploaded bundle: a zip or tar.gz body, or multipart
// form files whose filenames are their paths in the bundle (a part named
// "bundle" may instead carry a whole archive). It also returns the form
// fields of a multipart upload.
func (api *API) readBundle(w http.ResponseWriter, r *http.Request) ([]bundle.File, string, map[string]string, error) {
	body := http.MaxBytesReader(w, r.Body, api.opt.MaxUploadBytes)
	fields := map[string]string{}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/zip", "application/x-zip-compressed", "application/gzip", "application/x-gzip",
		"application/x-tar", "application/x-gtar", "application/tar+gzip", "application/octet-stream":
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, "", nil, err
		}
		files, root, err := bundle.ReadArchive(data, bundle.Limits{})
		return files, root, fields, err
	case "multipart/form-data":
		return readMultipart(multipart.NewReader(body, params["boundary"]))
	}
	return nil, "", nil, &unsupportedMediaError{
		"send the bundle as application/zip, application/gzip (tar.gz) or multipart/form-data files, not " + strconv.Quote(ct)}
}

func readMultipart(mr *multipart.Reader) ([]bundle.File, string, map[string]string, error) {
	form, err := bundle.ReadForm(mr, bundle.Limits{})
	if err != nil {
		return nil, "", nil, wrapReadErr(err)
	}
	files, root, err := form.Files(bundle.Limits{})
	return files, root, form.Fields, err
}

func wrapReadErr(err error) error {
	var mbe *http.MaxBytesError
	var be *bundle.Error
	if errors.As(err, &mbe) || errors.As(err, &be) {
		return err
	}
	return &service.Error{Kind: service.Invalid, Msg: "could not read the multipart upload: " + err.Error()}
}

// publishOptions reads options from the query string, then form fields.
func publishOptions(r *http.Request, fields map[string]string, root string) (service.PublishOptions, error) {
	get := func(k string) string {
		if v := r.URL.Query().Get(k); v != "" {
			return v
		}
		return fields[k]
	}
	o := service.PublishOptions{Visibility: get("visibility"), Category: get("category"), Changelog: get("changelog"), Dir: root,
		Override: get("override") == "true"}
	if t := get("tags"); t != "" {
		o.Tags = strings.Split(t, ",")
	}
	switch get("publish") {
	case "", "false", "0":
	case "true", "1":
		o.Publish = true
	default:
		return o, &service.Error{Kind: service.Invalid, Msg: "publish must be true or false"}
	}
	return o, nil
}

func (api *API) createSkill(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	files, root, fields, err := api.readBundle(w, r)
	if err != nil {
		return err
	}
	o, err := publishOptions(r, fields, root)
	if err != nil {
		return err
	}
	p, err := api.svc.CreateSkill(r.Context(), a, files, o)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/skills/"+p.Skill.Name)
	return writeJSON(w, http.StatusCreated, p)
}

func (api *API) addVersion(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	files, root, fields, err := api.readBundle(w, r)
	if err != nil {
		return err
	}
	o, err := publishOptions(r, fields, root)
	if err != nil {
		return err
	}
	p, err := api.svc.AddVersion(r.Context(), a, r.PathValue("name"), files, o)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if p.Unchanged {
		status = http.StatusOK
	}
	return writeJSON(w, status, p)
}

func (api *API) listSkills(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	q := r.URL.Query()
	return list(w, r, func(offset, limit int) ([]store.Skill, error) {
		return api.svc.Skills(r.Context(), a, store.SkillFilter{Status: q.Get("status"), Visibility: q.Get("visibility"),
			Category: q.Get("category"), Tag: q.Get("tag"), Author: q.Get("author"), Sort: q.Get("sort"), Offset: offset, Limit: limit})
	}, nextOffset[store.Skill])
}

// nextOffset is the cursor of offset-paged lists.
func nextOffset[T any](_ T, offset, limit int) any { return offset + limit }

func (api *API) getSkill(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	sk, err := api.svc.Skill(r.Context(), a, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sk)
}

func (api *API) updateSkill(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	var c service.SkillChange
	if err := decode(w, r, &c); err != nil {
		return err
	}
	sk, err := api.svc.UpdateSkill(r.Context(), a, r.PathValue("name"), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sk)
}

func (api *API) deleteSkill(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	if err := api.svc.DeleteSkill(r.Context(), a, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (api *API) publish(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	publish := api.svc.Publish
	if r.URL.Query().Get("override") == "true" {
		publish = api.svc.PublishOverride
	}
	sk, msg, err := publish(r.Context(), a, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"skill": sk, "message": msg})
}

func (api *API) fork(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	var in struct {
		Name string `json:"name"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &in); err != nil {
			return err
		}
	}
	p, err := api.svc.Fork(r.Context(), a, r.PathValue("name"), in.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/skills/"+p.Skill.Name)
	return writeJSON(w, http.StatusCreated, p)
}

func (api *API) listVersions(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	return list(w, r, func(before, limit int) ([]store.Version, error) {
		return api.svc.Versions(r.Context(), a, r.PathValue("name"), before, limit)
	}, func(v store.Version, _, _ int) any { return v.Number })
}

func (api *API) getVersion(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	v, err := api.svc.Version(r.Context(), a, r.PathValue("name"), r.PathValue("n"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// etagMatches answers 304 when the client has this digest already.
func etagMatches(w http.ResponseWriter, r *http.Request, digest string) bool {
	etag := `"` + digest + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	return false
}

// fileRoutes are the API's routes that serve bundle bytes (see fileserve).
var _ = fileserve.Declare(
	fileserve.Route{Pattern: "GET /api/v1/skills/{name}/versions/{n}/bundle.zip", Auth: "key", Archive: true,
		Path: func(skill, _ string) string { return "/api/v1/skills/" + skill + "/versions/latest/bundle.zip" }},
	fileserve.Route{Pattern: "GET /api/v1/skills/{name}/versions/{n}/files/{path...}", Auth: "key",
		Path: func(skill, file string) string {
			return "/api/v1/skills/" + skill + "/versions/latest/files/" + fileserve.EscapePath(file)
		}},
)

func (api *API) downloadZip(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	// The zip is a function of the files, which the manifest digest names:
	// built once, then kept (service.DownloadArchive).
	data, v, err := api.svc.DownloadArchive(r.Context(), a, r.PathValue("name"), r.PathValue("n"), bundle.Zip)
	if err != nil {
		return err
	}
	if etagMatches(w, r, v.Digest) {
		return nil
	}
	w.Header().Set("X-Skill-Digest", v.Digest)
	fileserve.Archive(w, r, r.PathValue("name")+"-"+strconv.Itoa(v.Number)+".zip", fileserve.TypeZip, data, v.Digest)
	return nil
}

func (api *API) downloadFile(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	f, _, err := api.svc.File(r.Context(), a, r.PathValue("name"), r.PathValue("n"), r.PathValue("path"))
	if err != nil {
		return err
	}
	fileserve.File(w, r, f.Path, f.Data, "sha256:"+f.SHA256)
	return nil
}

func (api *API) rate(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	var in struct {
		Stars   int    `json:"stars"`
		Comment string `json:"comment"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := api.svc.Rate(r.Context(), a, r.PathValue("name"), in.Stars, in.Comment)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (api *API) listRatings(w http.ResponseWriter, r *http.Request, a service.Actor) error {
	return list(w, r, func(c keyCursor, limit int) ([]store.Rating, error) {
		return api.svc.Ratings(r.Context(), a, r.PathValue("name"), c.timeCursor(), limit)
	}, func(x store.Rating, _ keyCursor, _ int) any { return keyCursor{x.UpdatedAt, x.ID} })
}
