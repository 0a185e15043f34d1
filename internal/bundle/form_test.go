package bundle

import (
	"bytes"
	"errors"
	"mime/multipart"
	"testing"
)

func form(t *testing.T, parts func(*multipart.Writer)) *multipart.Reader {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	parts(w)
	w.Close()
	return multipart.NewReader(&buf, w.Boundary())
}

func TestReadFormFolder(t *testing.T) {
	mr := form(t, func(w *multipart.Writer) {
		w.WriteField("visibility", "private")
		for path, data := range map[string]string{"my-skill/SKILL.md": "---\nname: my-skill\ndescription: d\n---\n", "my-skill/scripts/a.sh": "echo"} {
			fw, _ := w.CreateFormFile("files", path)
			fw.Write([]byte(data))
		}
	})
	f, err := ReadForm(mr, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	files, root, err := f.Files(Limits{})
	if err != nil || root != "my-skill" || len(files) != 2 || f.Fields["visibility"] != "private" {
		t.Fatalf("files %v root %q err %v fields %v", files, root, err, f.Fields)
	}
	if _, err := New(files, Limits{}, root); err != nil {
		t.Fatalf("the stripped folder is not a bundle: %v", err)
	}
}

func TestReadFormArchiveAndLimits(t *testing.T) {
	var zip bytes.Buffer
	if err := WriteZip(&zip, []File{{Path: "SKILL.md", Data: []byte("---\nname: z\ndescription: d\n---\n")}}); err != nil {
		t.Fatal(err)
	}
	mr := form(t, func(w *multipart.Writer) {
		fw, _ := w.CreateFormFile("bundle", "z.zip")
		fw.Write(zip.Bytes())
	})
	f, err := ReadForm(mr, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if files, _, err := f.Files(Limits{}); err != nil || len(files) != 1 {
		t.Fatalf("archive part: %v %v", files, err)
	}
	mr = form(t, func(w *multipart.Writer) {
		fw, _ := w.CreateFormFile("files", "SKILL.md")
		fw.Write(bytes.Repeat([]byte("x"), 11))
	})
	var be *Error
	if _, err := ReadForm(mr, Limits{MaxFileSize: 10}); !errors.As(err, &be) {
		t.Fatalf("oversize file: %v", err)
	}
	f, err = ReadForm(form(t, func(w *multipart.Writer) { w.WriteField("a", "b") }), Limits{})
	if err != nil || !f.Empty() {
		t.Fatalf("no files: %v", err)
	}
	if _, _, err := f.Files(Limits{}); !errors.As(err, &be) {
		t.Fatalf("Files of an empty form: %v", err)
	}
}
