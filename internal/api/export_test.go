package api

// Route is a route of the table, for the tests of package api_test.
type Route struct{ Method, Pattern string }

// Routes returns the route table of a.
func Routes(a *API) []Route {
	var out []Route
	for _, rt := range a.routes() {
		out = append(out, Route{rt.method, rt.pattern})
	}
	return out
}

// SetMaxUploadBytes lowers the upload limit; call it before the server
// serves its first request (testserver.Options.Mount).
func SetMaxUploadBytes(a *API, n int64) { a.opt.MaxUploadBytes = n }
