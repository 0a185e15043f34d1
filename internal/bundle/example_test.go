package bundle_test

import (
	"fmt"

	"github.com/skillvault/skillvault/internal/bundle"
)

// The worked example of the Agent Skills Discovery RFC v0.2.0.
func ExampleDigest() {
	files := []bundle.File{
		{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\n")},
		{Path: "SKILL.md", Data: []byte("# Hello\n")},
	}
	fmt.Println(bundle.Digest(files))
	// Output: sha256:34f7a8c484e9991f3e71a309f31332d6335efc01f544105c4185a7c4ab12eb1e
}
