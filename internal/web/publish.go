package web

import (
	"errors"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/review"
	"github.com/skillvault/skillvault/internal/service"
)

// publishForm is the publish page's state.
type publishForm struct {
	Visibility, Category, Tags, Changelog string
	Publish                               bool
	Error                                 string
	Problems                              []bundle.Problem
	Findings                              []review.Finding // what blocks publishing
	Files                                 []string
}

func (wb *Web) publishPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	wb.render(w, r, c, http.StatusOK, "publish", "Publish a skill", publishForm{Visibility: "tenant", Publish: true})
	return nil
}

// readUpload reads the publish form: a zip or tar.gz in the part "bundle",
// or the files of a folder in parts "files" whose file names are their
// paths. (The guard has checked the CSRF field, the form's first part.)
func (wb *Web) readUpload(w http.ResponseWriter, r *http.Request) ([]bundle.File, string, map[string]string, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return nil, "", nil, &service.Error{Kind: service.Invalid, Msg: "choose a zip file or a folder to upload"}
	}
	form, err := bundle.ReadForm(multipart.NewReader(http.MaxBytesReader(w, r.Body, wb.cfg.MaxUploadBytes), params["boundary"]), bundle.Limits{})
	if err != nil {
		return nil, "", nil, wrapUploadErr(err)
	}
	fields := form.Fields
	if form.Empty() {
		return nil, "", fields, &service.Error{Kind: service.Invalid, Msg: "choose a zip file or a folder to upload"}
	}
	files, root, err := form.Files(bundle.Limits{})
	return files, root, fields, err
}

func wrapUploadErr(err error) error {
	var mbe *http.MaxBytesError
	var be *bundle.Error
	if errors.As(err, &mbe) || errors.As(err, &be) {
		return err
	}
	return &service.Error{Kind: service.Invalid, Msg: "could not read the upload: " + err.Error()}
}

func (wb *Web) publishPost(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	files, root, fields, err := wb.readUpload(w, r)
	f := publishForm{Visibility: fields["visibility"], Category: fields["category"], Tags: fields["tags"], Changelog: fields["changelog"],
		Publish: fields["publish"] == "on" || fields["publish"] == "true"}
	if f.Visibility == "" {
		f.Visibility = "tenant"
	}
	for _, fl := range files {
		f.Files = append(f.Files, fl.Path)
	}
	if err == nil {
		var p service.Published
		p, err = wb.publish(r, c, files, root, f)
		if err == nil {
			var dups []string
			for _, d := range p.PossibleDuplicates {
				dups = append(dups, d.Name)
			}
			u := "/skills/" + p.Skill.Name + "?published=" + strconv.Itoa(p.Version.Number)
			if len(dups) > 0 {
				u += "&similar=" + url.QueryEscape(strings.Join(dups, ","))
			}
			http.Redirect(w, r, u, http.StatusSeeOther)
			return nil
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		f.Error = "The upload is larger than this server accepts (" + humanSize(wb.cfg.MaxUploadBytes) + ")."
	} else if e, ok := service.AsError(err); ok {
		f.Error, f.Problems = e.Msg, e.Problems
		switch {
		case len(e.Findings) > 0:
			f.Problems, f.Findings = nil, e.Findings
			f.Error = "The skill was not stored: the safety review found what blocks publishing. Fix these and upload it again, or ask an admin to publish it with an override."
		case len(f.Problems) > 0:
			f.Error = "The skill was not stored: fix these problems and upload it again."
		}
	} else {
		return err
	}
	wb.render(w, r, c, http.StatusUnprocessableEntity, "publish", "Publish a skill", f)
	return nil
}

// publish creates the skill, or adds a version when the user's skill of
// that name exists.
func (wb *Web) publish(r *http.Request, c *reqCtx, files []bundle.File, root string, f publishForm) (service.Published, error) {
	o := service.PublishOptions{Publish: f.Publish, Visibility: f.Visibility, Category: f.Category, Changelog: f.Changelog, Dir: root}
	if strings.TrimSpace(f.Tags) != "" {
		o.Tags = strings.Split(f.Tags, ",")
	}
	p, err := wb.svc.CreateSkill(r.Context(), c.A, files, o)
	if service.KindOf(err) != service.Conflict {
		return p, err
	}
	name := ""
	for _, fl := range files {
		if fl.Path == "SKILL.md" {
			fm, _, perr := bundle.ParseSkillMD(fl.Data)
			if perr != nil {
				return p, err
			}
			name = fm.Name
		}
	}
	if _, serr := wb.svc.Skill(r.Context(), c.A, name); serr != nil {
		return p, err
	}
	return wb.svc.AddVersion(r.Context(), c.A, name, files, o)
}
