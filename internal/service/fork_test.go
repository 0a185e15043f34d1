package service

import "testing"

func TestRenameSkillMD(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"---\nname: a\ndescription: d\n---\nname: body\n", "---\nname: b\ndescription: d\n---\nname: body\n", true},
		{"---\r\nname: a\r\ndescription: d\r\n---\r\n", "---\r\nname: b\r\ndescription: d\r\n---\r\n", true},
		{"\ufeff---\nname: 'a'\n---\n", "\ufeff---\nname: b\n---\n", true},
		{"---\nmetadata:\n  name: inner\nname: a\n---\n", "---\nmetadata:\n  name: inner\nname: b\n---\n", true},
		{"---\ndescription: no name\n---\nname: body\n", "---\ndescription: no name\n---\nname: body\n", false},
		{"# no frontmatter\nname: a\n", "# no frontmatter\nname: a\n", false},
		{"---\nname: a", "---\nname: b", true},
	}
	for _, tt := range tests {
		got, ok := renameSkillMD([]byte(tt.in), "b")
		if string(got) != tt.want || ok != tt.ok {
			t.Errorf("renameSkillMD(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
