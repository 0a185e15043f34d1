package gitserve

// RepoURL is the repository URL to give a person at a tenant's base URL:
// the public one for a public skill, else the one that always asks for
// credentials (git sends its stored key only when asked, and the public
// URL does not ask where the tenant's public discovery is on).
func RepoURL(base string, public bool) string {
	if public {
		return base + PublicPath
	}
	return base + AuthPath
}

// RepoCommands add the repository at url to the agents' own installers.
func RepoCommands(url string) []string {
	return []string{
		"npx skills add " + url,
		"claude plugin marketplace add " + url,
		"git clone " + url,
	}
}

// InstallCommands install one skill from the repository at url with the
// agents' own installers; the marketplace is named after the tenant slug.
func InstallCommands(url, tenantSlug, skill string) []string {
	return []string{
		"npx skills add " + url + " --skill " + skill,
		"claude plugin marketplace add " + url + " && claude plugin install " + skill + "@" + tenantSlug,
		"git clone " + url,
	}
}
