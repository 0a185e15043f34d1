package bundle

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"path"
	"strings"
)

// Form is a bundle uploaded as multipart/form-data: either file parts whose
// file names are their paths in the bundle (a folder dragged into a
// browser, or `curl -F`), or one part named "bundle" holding a zip or
// tar.gz. Other parts are form fields.
type Form struct {
	Fields  map[string]string
	files   []File
	archive []byte
}

// ReadForm reads every part of mr. Files over the per-file limit are a
// bundle *Error; failures of the reader itself are returned as they are,
// so callers can tell a body that was too large from a malformed one.
func ReadForm(mr *multipart.Reader, lim Limits) (*Form, error) {
	lim = lim.withDefaults()
	f := &Form{Fields: map[string]string{}}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return f, nil
		}
		if err != nil {
			return nil, err
		}
		// Part.FileName drops folders; the raw parameter keeps the path.
		_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		filename, isFile := params["filename"]
		max := lim.MaxFileSize
		if part.FormName() == "bundle" {
			max = lim.MaxTotalSize
		}
		data, err := io.ReadAll(io.LimitReader(part, max+1))
		if err != nil {
			return nil, err
		}
		switch {
		case !isFile:
			f.Fields[part.FormName()] = string(data)
		case filename == "":
			// an empty file input
		case int64(len(data)) > max:
			return nil, &Error{Problems: []Problem{{File: filename, Msg: fmt.Sprintf("file is larger than the limit of %d bytes", max)}}}
		case part.FormName() == "bundle":
			f.archive = data
		default:
			f.files = append(f.files, File{Path: filename, Data: data})
		}
	}
}

// Empty reports a form without any file.
func (f *Form) Empty() bool { return len(f.archive) == 0 && len(f.files) == 0 }

// Files returns the uploaded bundle's files and the name of the folder
// they came in, if any: a folder dragged in whole arrives as name/SKILL.md,
// name/..., and the folder is stripped.
func (f *Form) Files(lim Limits) ([]File, string, error) {
	if len(f.archive) > 0 {
		return ReadArchive(f.archive, lim)
	}
	files := f.files
	if len(files) == 0 {
		return nil, "", &Error{Problems: []Problem{{Msg: "the upload holds no files"}}}
	}
	dir, _, ok := strings.Cut(files[0].Path, "/")
	if !ok {
		return files, "", nil
	}
	for _, x := range files {
		if !strings.HasPrefix(x.Path, dir+"/") {
			return files, "", nil
		}
	}
	out := make([]File, len(files))
	for i, x := range files {
		out[i] = File{Path: strings.TrimPrefix(x.Path, dir+"/"), Data: x.Data}
	}
	return out, path.Clean(dir), nil
}
